package server

import (
	"encoding/json"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
)

// PublicHandler serves the metrics port: /metrics and /healthz, plus a read-only GET /status
// that `kubectl kab status` reads through the API server's pod proxy. Anyone allowed to proxy
// to the pod reaches this port, so it carries the control API's status without the output
// tails (a backup command's output can hold paths, hostnames or worse) and offers no way to
// start a run: starting one stays behind pods/exec, the user's own right.
func PublicHandler(reg *prometheus.Registry, c Control) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", MetricsHandler(reg))
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		public, err := withoutOutputTails(c.Status())
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, IDResponse{Error: err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, public)
	})
	return mux
}

// outputTailKey is the run field the public status leaves out.
const outputTailKey = "outputTail"

// withoutOutputTails round-trips the status through JSON and drops every outputTail key
// wherever it sits, so fields added to the status later are published without touching this
// file and a tail can never slip through a new nesting.
func withoutOutputTails(status any) (any, error) {
	raw, err := json.Marshal(status)
	if err != nil {
		return nil, err
	}
	var tree any
	if err := json.Unmarshal(raw, &tree); err != nil {
		return nil, err
	}
	dropKey(tree, outputTailKey)
	return tree, nil
}

func dropKey(node any, key string) {
	switch n := node.(type) {
	case map[string]any:
		delete(n, key)
		for _, child := range n {
			dropKey(child, key)
		}
	case []any:
		for _, child := range n {
			dropKey(child, key)
		}
	}
}
