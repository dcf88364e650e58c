package certfile

import (
	"context"
	"io"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/boanu/kab/injector/internal/testcert"
)

func TestReloaderPicksUpNewPairAndKeepsLastGood(t *testing.T) {
	ca := testcert.NewCA(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	first := ca.Issue(t, "first.test")
	write(t, certFile, keyFile, first)

	r, err := New(certFile, keyFile, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	r.PollInterval = 50 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = r.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()

	waitForSerial(t, r, first)

	second := ca.Issue(t, "second.test")
	write(t, certFile, keyFile, second)
	waitForSerial(t, r, second)

	// A torn write (new cert, old key) and garbage never replace the last good pair.
	third := ca.Issue(t, "third.test")
	if err := os.WriteFile(certFile, third.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if got := serialOf(t, r); got.Cmp(second.Serial) != 0 {
		t.Fatalf("serving serial %v after a mismatched pair, want the last good %v", got, second.Serial)
	}
	if err := os.WriteFile(keyFile, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if got := serialOf(t, r); got.Cmp(second.Serial) != 0 {
		t.Fatalf("serving serial %v after garbage, want the last good %v", got, second.Serial)
	}
	// Completing the write is picked up.
	if err := os.WriteFile(keyFile, third.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	waitForSerial(t, r, third)
}

func TestNewFailsWithoutAGoodPair(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := New(certFile, keyFile, log); err == nil {
		t.Fatal("New succeeded without files")
	}
	ca := testcert.NewCA(t)
	a, b := ca.Issue(t, "a.test"), ca.Issue(t, "b.test")
	write(t, certFile, keyFile, testcert.Pair{CertPEM: a.CertPEM, KeyPEM: b.KeyPEM})
	if _, err := New(certFile, keyFile, log); err == nil {
		t.Fatal("New accepted a certificate with another certificate's key")
	}
}

func write(t *testing.T, certFile, keyFile string, p testcert.Pair) {
	t.Helper()
	if err := os.WriteFile(certFile, p.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, p.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
}

func waitForSerial(t *testing.T, r *Reloader, want testcert.Pair) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if serialOf(t, r).Cmp(want.Serial) == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("still serving serial %v, want %v", serialOf(t, r), want.Serial)
}

func serialOf(t *testing.T, r *Reloader) *big.Int {
	t.Helper()
	c, err := r.GetCertificate(nil)
	if err != nil || c == nil {
		t.Fatalf("no certificate: %v", err)
	}
	return c.Leaf.SerialNumber
}
