// Package certfile serves a TLS certificate and key from files and picks up new ones without a
// restart: a mounted Secret (cert-manager, or a rotated one) changes under a running injector.
//
//	r, err := certfile.New(certFile, keyFile, log)  // the first pair must load
//	go r.Run(ctx)                                    // watch until ctx is done
//	tlsConfig.GetCertificate = r.GetCertificate
//
// Changes are noticed through fsnotify on the files' folders (a Secret volume swaps a symlink,
// so watching the files themselves would miss it) and, because events can be lost (network
// file systems, an overflowing queue), by a periodic poll as well. A pair that does not load —
// a half-written file, a key that does not match the certificate — is logged and ignored: the
// last good pair keeps being served until a good one appears.
package certfile

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultPollInterval is how often the files are re-read when no event arrived.
const DefaultPollInterval = 10 * time.Second

// Reloader holds the last good certificate pair read from two files.
type Reloader struct {
	certFile, keyFile string
	log               *slog.Logger
	// PollInterval is the fallback re-read period; set it before calling Run.
	PollInterval time.Duration

	current atomic.Pointer[tls.Certificate]

	mu                sync.Mutex // serializes reloads and guards the raw bytes below
	lastCert, lastKey []byte
}

// New loads the pair once; it fails when the files do not hold a matching certificate and key,
// because serving without one would fail every handshake.
func New(certFile, keyFile string, log *slog.Logger) (*Reloader, error) {
	r := &Reloader{certFile: certFile, keyFile: keyFile, log: log, PollInterval: DefaultPollInterval}
	if _, err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// GetCertificate returns the current pair; it fits tls.Config.GetCertificate.
func (r *Reloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return r.current.Load(), nil
}

// Reload reads both files and switches to them if they changed and load as a pair. It reports
// whether the served certificate changed.
func (r *Reloader) Reload() (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	certPEM, err := os.ReadFile(r.certFile)
	if err != nil {
		return false, fmt.Errorf("read TLS certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(r.keyFile)
	if err != nil {
		return false, fmt.Errorf("read TLS key: %w", err)
	}
	if r.current.Load() != nil && bytes.Equal(certPEM, r.lastCert) && bytes.Equal(keyPEM, r.lastKey) {
		return false, nil
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return false, fmt.Errorf("load TLS pair %s, %s: %w", r.certFile, r.keyFile, err)
	}
	r.current.Store(&pair)
	r.lastCert, r.lastKey = certPEM, keyPEM
	r.log.Info("serving TLS certificate", "cert_file", r.certFile,
		"subject", pair.Leaf.Subject.String(), "not_after", pair.Leaf.NotAfter)
	return true, nil
}

// Run watches the files until ctx is done. It always returns nil once ctx is done: a watcher
// that cannot start leaves the poll, which is slower but still correct.
func (r *Reloader) Run(ctx context.Context) error {
	var events <-chan fsnotify.Event
	var watchErrors <-chan error
	if w, err := r.watch(); err != nil {
		r.log.Warn("cannot watch TLS files, polling only", "err", err, "interval", r.PollInterval)
	} else {
		defer w.Close()
		events, watchErrors = w.Events, w.Errors
	}
	poll := time.NewTicker(r.PollInterval)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err, ok := <-watchErrors:
			if !ok {
				watchErrors = nil
				continue
			}
			r.log.Warn("watching TLS files", "err", err)
			continue
		case _, ok := <-events:
			if !ok {
				events = nil
				continue
			}
		case <-poll.C:
		}
		if _, err := r.Reload(); err != nil {
			r.log.Warn("keeping the previous TLS certificate", "err", err)
		}
	}
}

func (r *Reloader) watch() (*fsnotify.Watcher, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	dirs := map[string]bool{filepath.Dir(r.certFile): true, filepath.Dir(r.keyFile): true}
	for dir := range dirs {
		if err := w.Add(dir); err != nil {
			w.Close()
			return nil, fmt.Errorf("watch %s: %w", dir, err)
		}
	}
	return w, nil
}
