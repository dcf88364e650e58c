// Package server is the agent's HTTP layer: /metrics and /healthz for the kubelet and
// Prometheus, and the loopback-only control API (POST /backup, GET /status) that
// `kab-agent backup-now` and `kab-agent status` call.
package server

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/boanu/kab/agent/backup"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Control is what the control API drives.
type Control interface {
	Start() (string, error)
	Status() backup.Status
}

// IDResponse is the body of POST /backup: the started run's id (202), or the running one's
// (409).
type IDResponse struct {
	ID    string `json:"id,omitempty"`
	Error string `json:"error,omitempty"`
}

// MetricsHandler serves /metrics from the registry and /healthz, which reflects only the
// agent process: a failing backup must never take the pod out of its Service.
func MetricsHandler(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}

// ControlHandler serves the control API.
func ControlHandler(c Control) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /backup", func(w http.ResponseWriter, _ *http.Request) {
		id, err := c.Start()
		var busy *backup.BusyError
		switch {
		case err == nil:
			writeJSON(w, http.StatusAccepted, IDResponse{ID: id})
		case errors.As(err, &busy):
			writeJSON(w, http.StatusConflict, IDResponse{ID: busy.ID, Error: err.Error()})
		case errors.Is(err, backup.ErrStopping):
			writeJSON(w, http.StatusServiceUnavailable, IDResponse{Error: err.Error()})
		default:
			writeJSON(w, http.StatusInternalServerError, IDResponse{Error: err.Error()})
		}
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, c.Status())
	})
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
