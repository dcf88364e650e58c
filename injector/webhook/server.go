package webhook

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Timeouts of the admission server. The API server gives a webhook at most 30 s (10 s by
// default), so nothing here needs to wait longer.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = 15 * time.Second
	idleTimeout       = 90 * time.Second
	// ShutdownTimeout bounds the drain after ctx is done; in-flight admissions take
	// milliseconds, and the pod's termination grace period (30 s) must not be exceeded.
	ShutdownTimeout = 10 * time.Second
)

// GetCertificateFunc returns the serving certificate for a TLS handshake; called on every
// handshake, so a renewed certificate is used at once.
type GetCertificateFunc func(*tls.ClientHelloInfo) (*tls.Certificate, error)

// Serve serves handler over TLS on ln until ctx is done, then shuts down gracefully and
// returns nil. It returns an error if the server stops for any other reason.
func Serve(ctx context.Context, ln net.Listener, handler http.Handler, getCertificate GetCertificateFunc, log *slog.Logger) error {
	srv := &http.Server{
		Handler: handler,
		TLSConfig: &tls.Config{
			MinVersion:     tls.VersionTLS12,
			GetCertificate: getCertificate,
		},
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.ServeTLS(ln, "", "") }()
	log.Info("serving admission webhook", "addr", ln.Addr().String())

	select {
	case err := <-served:
		return fmt.Errorf("admission server stopped: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down admission webhook", "timeout", ShutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeout)
	defer cancel()
	shutdownErr := srv.Shutdown(shutdownCtx)
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("admission server stopped: %w", err)
	}
	if shutdownErr != nil {
		return fmt.Errorf("drain admission server: %w", shutdownErr)
	}
	return nil
}
