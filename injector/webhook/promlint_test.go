package webhook

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/boanu/kab/injector/internal/podcase"
)

// TestMetricsPassPromlint is `promtool check metrics` on the injector's own metrics.
func TestMetricsPassPromlint(t *testing.T) {
	h := newTestHandler(t)
	post(t, h, "application/json", reviewBody(t, podcase.JSON(t, seedPod), nil))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	problems, err := promlint.New(strings.NewReader(w.Body.String())).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "kab_") {
			t.Errorf("%s: %s", p.Metric, p.Text)
		}
	}
}
