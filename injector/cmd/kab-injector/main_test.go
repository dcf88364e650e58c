package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/boanu/kab/injector/internal/testcert"
)

func noEnv(string) string { return "" }

func TestFlagErrorsNameTheFlag(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"no config", []string{"--tls-cert-file", "c", "--tls-key-file", "k"}, []string{"--config: is required"}},
		{"cert without key", []string{"--config", "x", "--tls-cert-file", "c"}, []string{"--tls-cert-file and --tls-key-file: give both"}},
		{"bad listen", []string{"--config", "x", "--tls-cert-file", "c", "--tls-key-file", "k", "--listen", "8443"}, []string{`--listen "8443": want host:port`}},
		{"bad log format", []string{"--config", "x", "--tls-cert-file", "c", "--tls-key-file", "k", "--log-format", "xml"}, []string{`--log-format "xml": want text or json`}},
		{"self-managed without namespace", []string{"--config", "x"}, []string{"--namespace: unknown"}},
		{"self-managed with empty secret name", []string{"--config", "x", "--namespace", "kab", "--tls-secret-name", ""}, []string{"--tls-secret-name: must not be empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if code := run(tt.args, &stderr, noEnv); code != exitUsage {
				t.Fatalf("exit %d, want %d; stderr %s", code, exitUsage, &stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr %q lacks %q", &stderr, w)
				}
			}
		})
	}
}

func TestUnknownFlagIsAUsageError(t *testing.T) {
	var stderr bytes.Buffer
	if code := run([]string{"--lisen", ":8443"}, &stderr, noEnv); code != exitUsage || !strings.Contains(stderr.String(), "lisen") {
		t.Fatalf("exit %d stderr %s", code, &stderr)
	}
}

func TestNamespaceDefaultsFromEnv(t *testing.T) {
	c, err := parseFlags(nil, &bytes.Buffer{}, false, func(k string) string {
		if k == "POD_NAMESPACE" {
			return "kab-system"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Namespace != "kab-system" || c.LogFormat != "json" || c.Listen != ":8443" {
		t.Fatalf("got %+v", c)
	}
}

func TestSelfManagedTLSOutsideAClusterFailsClearly(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBERNETES_SERVICE_PORT", "")
	cfgFile := writeConfig(t)
	var stderr bytes.Buffer
	code := run([]string{"--config", cfgFile, "--namespace", "kab", "--listen", "127.0.0.1:0", "--log-format", "json"}, &stderr, noEnv)
	if code != exitError || !strings.Contains(stderr.String(), "self-managed TLS needs to run in a cluster") {
		t.Fatalf("exit %d stderr %s", code, &stderr)
	}
}

func TestBadConfigFileIsAUsageError(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(bad, []byte("agentImage: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	code := run([]string{"--config", bad, "--tls-cert-file", "c", "--tls-key-file", "k", "--log-format", "json"}, &stderr, noEnv)
	if code != exitUsage || !strings.Contains(stderr.String(), "volume: set exactly one of nfs") {
		t.Fatalf("exit %d stderr %s", code, &stderr)
	}
}

// TestRunServesUntilSIGTERM is the binary as deployed with certificate files: it answers the
// seed pod with a patch and exits 0 on SIGTERM after draining.
func TestRunServesUntilSIGTERM(t *testing.T) {
	ca := testcert.NewCA(t)
	pair := ca.Issue(t, "127.0.0.1")
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	for f, data := range map[string][]byte{certFile: pair.CertPEM, keyFile: pair.KeyPEM} {
		if err := os.WriteFile(f, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	addr := freeAddr(t)

	var stderr syncBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- run([]string{"--listen", addr, "--tls-cert-file", certFile, "--tls-key-file", keyFile,
			"--config", writeConfig(t), "--log-format", "json"}, &stderr, noEnv)
	}()

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.PEM)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	waitHealthy(t, client, "https://"+addr+"/healthz", exit, &stderr)

	resp, err := client.Post("https://"+addr+"/mutate", "application/json", bytes.NewReader(seedReview(t)))
	if err != nil {
		t.Fatal(err)
	}
	var review struct {
		Response struct {
			Allowed bool   `json:"allowed"`
			Patch   []byte `json:"patch"`
		} `json:"response"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&review); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !review.Response.Allowed || !bytes.Contains(review.Response.Patch, []byte("kab-agent")) {
		t.Fatalf("answer %+v", review.Response)
	}

	// /healthz answered, so signal.NotifyContext is in place: SIGTERM reaches run, not the test.
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-exit:
		if code != exitOK {
			t.Fatalf("exit %d after SIGTERM; stderr %s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("still running 15s after SIGTERM")
	}
}

func waitHealthy(t *testing.T, client *http.Client, url string, exit chan int, stderr *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case code := <-exit:
			t.Fatalf("exited %d before serving: %s", code, stderr.String())
		default:
		}
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not healthy after 10s: %s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func seedReview(t *testing.T) []byte {
	t.Helper()
	podYAML, err := os.ReadFile("../../mutation/testdata/seed-example.pod.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pod, err := yaml.YAMLToJSON(podYAML)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","resource":{"version":"v1","resource":"pods"},"operation":"CREATE","namespace":"apps","object":` + string(pod) + `}}`)
}

func writeConfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte("agentImage: kab-agent:test\nvolume:\n  nfs: {server: nas.lan, path: /data/backup}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// syncBuffer is the server's stderr, written by its goroutines and read by the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
