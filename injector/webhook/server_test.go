package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/boanu/kab/injector/certfile"
	"github.com/boanu/kab/injector/internal/podcase"
	"github.com/boanu/kab/injector/internal/testcert"
)

// TestServeTLSEndToEnd runs the real server: TLS from files through the reloader, an HTTPS
// client trusting the test CA, the seed pod admitted with the golden patch, a rotated
// certificate served without a restart, the size and type checks, and a clean shutdown.
func TestServeTLSEndToEnd(t *testing.T) {
	ca := testcert.NewCA(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	first := ca.Issue(t, "127.0.0.1", "kab-injector.kab.svc")
	writePair(t, certFile, keyFile, first)

	certs, err := certfile.New(certFile, keyFile, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	certs.PollInterval = 100 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reloaded := make(chan error, 1)
	go func() { reloaded <- certs.Run(ctx) }()
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, newTestHandler(t), certs.GetCertificate, quietLog()) }()

	url := "https://" + ln.Addr().String()
	client := httpsClient(t, ca.PEM)

	t.Run("seed pod gets the golden patch", func(t *testing.T) {
		resp := postTLS(t, client, url+"/mutate", "application/json", reviewBody(t, podcase.JSON(t, seedPod), nil))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("HTTP %d", resp.StatusCode)
		}
		checkPatchedIsGolden(t, decodeResponse(t, readAll(t, resp)).Patch)
	})
	t.Run("size, type and body checks", func(t *testing.T) {
		for _, c := range []struct {
			contentType string
			body        []byte
			want        int
		}{
			{"application/json", bytes.Repeat([]byte("x"), MaxBodyBytes+1), http.StatusRequestEntityTooLarge},
			{"application/yaml", reviewBody(t, podcase.JSON(t, seedPod), nil), http.StatusUnsupportedMediaType},
			{"application/json", []byte("not json"), http.StatusBadRequest},
		} {
			if resp := postTLS(t, client, url+"/mutate", c.contentType, c.body); resp.StatusCode != c.want {
				t.Errorf("%s %d bytes: HTTP %d, want %d", c.contentType, len(c.body), resp.StatusCode, c.want)
			}
		}
	})
	t.Run("TLS 1.1 is refused", func(t *testing.T) {
		old := &tls.Config{RootCAs: client.Transport.(*http.Transport).TLSClientConfig.RootCAs, MaxVersion: tls.VersionTLS11}
		if conn, err := tls.Dial("tcp", ln.Addr().String(), old); err == nil {
			conn.Close()
			t.Fatal("handshake with TLS 1.1 succeeded")
		}
	})
	t.Run("rotated certificate is served without restart", func(t *testing.T) {
		second := ca.Issue(t, "127.0.0.1", "kab-injector.kab.svc")
		writePair(t, certFile, keyFile, second)
		deadline := time.Now().Add(5 * time.Second)
		for servedSerial(t, ln.Addr().String(), ca.PEM).Cmp(second.Serial) != 0 {
			if time.Now().After(deadline) {
				t.Fatal("the new certificate was not served within 5s")
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	cancel()
	if err := <-served; err != nil {
		t.Fatalf("Serve after shutdown: %v", err)
	}
	if err := <-reloaded; err != nil {
		t.Fatalf("reloader: %v", err)
	}
}

func httpsClient(t *testing.T, caPEM []byte) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("bad CA PEM")
	}
	return &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
	}
}

func postTLS(t *testing.T, c *http.Client, url, contentType string, body []byte) *http.Response {
	t.Helper()
	resp, err := c.Post(url, contentType, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func readAll(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// servedSerial opens a fresh connection (no reuse) and returns the serial the server presents.
func servedSerial(t *testing.T, addr string, caPEM []byte) *big.Int {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "kab-injector.kab.svc"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber
}

func writePair(t *testing.T, certFile, keyFile string, p testcert.Pair) {
	t.Helper()
	// Written like a Secret volume update: each file replaced atomically by a rename.
	for file, data := range map[string][]byte{certFile: p.CertPEM, keyFile: p.KeyPEM} {
		tmp := file + ".tmp"
		if err := os.WriteFile(tmp, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, file); err != nil {
			t.Fatal(err)
		}
	}
}
