package webhook

import (
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	admissionv1 "k8s.io/api/admission/v1"

	"github.com/boanu/kab/injector/config"
)

// MaxBodyBytes caps an AdmissionReview body. The API server's own request limit is 3 MiB, but
// a pod worth admitting is a few KiB; the cap keeps a bad client from making the injector
// buffer what it will never accept.
const MaxBodyBytes = 1 << 20

type handler struct {
	cfg     *config.Config
	log     *slog.Logger
	metrics *metrics
	gate    Gate // nil: no check beyond the mutation
}

// NewHandler serves POST /mutate, GET /healthz, GET /readyz and GET /metrics (from reg, which
// also receives the admission metrics). See the package documentation for the answers.
func NewHandler(cfg *config.Config, log *slog.Logger, reg *prometheus.Registry, opts ...Option) (http.Handler, error) {
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	h := &handler{cfg: cfg, log: log, metrics: m}
	for _, opt := range opts {
		opt(h)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /mutate", h.serveMutate)
	ok := func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") }
	// Serving at all means the listener is up and a certificate was found for the handshake:
	// there is no other state the injector could be unready in.
	mux.HandleFunc("GET /healthz", ok)
	mux.HandleFunc("GET /readyz", ok)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return mux, nil
}

func (h *handler) serveMutate(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	v := h.mutate(w, r)
	h.metrics.counted(v.result)
	h.metrics.duration.Observe(time.Since(start).Seconds())

	level, msg := slog.LevelDebug, "admission skipped"
	switch v.result {
	case ResultError:
		level, msg = slog.LevelWarn, "admission failed"
	case ResultDenied:
		level, msg = slog.LevelInfo, "admission denied"
	case ResultInjected:
		level, msg = slog.LevelInfo, "admission injected"
	}
	ctx := r.Context()
	if !h.log.Enabled(ctx, level) {
		return
	}
	// slog.Attr values, not key-value pairs: one log line per admission should not box
	// each value on its own.
	attrs := make([]slog.Attr, 0, 5)
	attrs = append(attrs, slog.String("result", v.result), slog.Float64("duration_seconds", time.Since(start).Seconds()))
	if v.response != nil {
		attrs = append(attrs, slog.String("uid", string(v.response.UID)))
	}
	if v.pod != "" {
		attrs = append(attrs, slog.String("pod", v.pod))
	}
	switch v.result {
	case ResultError:
		attrs = append(attrs, slog.Any("err", v.reason))
	case ResultDenied:
		attrs = append(attrs, slog.String("reason", v.reason.Error()))
	}
	h.log.LogAttrs(ctx, level, msg, attrs...)
}

// mutate reads the request and writes the answer; it returns what happened for the caller's
// metrics and log line.
func (h *handler) mutate(w http.ResponseWriter, r *http.Request) verdict {
	if !isJSON(r.Header.Get("Content-Type")) {
		http.Error(w, "Content-Type must be application/json", http.StatusUnsupportedMediaType)
		return verdict{result: ResultError, reason: errors.New("content type " + r.Header.Get("Content-Type"))}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			http.Error(w, "AdmissionReview larger than 1 MiB", http.StatusRequestEntityTooLarge)
		} else {
			http.Error(w, "cannot read the body", http.StatusBadRequest)
		}
		return verdict{result: ResultError, reason: err}
	}
	review, err := decodeReview(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return verdict{result: ResultError, reason: err}
	}

	v := admit(r.Context(), review.Request, h.cfg, h.gate)
	err = writeAnswer(w, &admissionv1.AdmissionReview{TypeMeta: review.TypeMeta, Response: v.response})
	v.release()
	if err != nil {
		http.Error(w, "cannot encode the answer", http.StatusInternalServerError)
		return verdict{result: ResultError, reason: err}
	}
	return v
}

// isJSON: the media type is application/json, parameters (a charset) allowed. The API server
// sends exactly "application/json", which needs no parsing.
func isJSON(contentType string) bool {
	if contentType == "application/json" {
		return true
	}
	mediaType, _, err := mime.ParseMediaType(contentType)
	return err == nil && mediaType == "application/json"
}
