package webhook

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Admission results, the values of the result label.
const (
	ResultInjected = "injected" // allowed with a patch
	ResultSkipped  = "skipped"  // allowed unchanged: not a kab pod, already injected, not a pod CREATE
	ResultDenied   = "denied"   // the pod asks for something kab cannot serve
	ResultError    = "error"    // the request could not be read or answered
)

// NewRegistry is a private registry with the Go runtime and process collectors: only what the
// injector registers is exposed, never a library's global metrics.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

type metrics struct {
	admissions *prometheus.CounterVec
	byResult   map[string]prometheus.Counter // admissions' children, looked up once
	duration   prometheus.Histogram
}

// counted adds one admission with the result.
func (m *metrics) counted(result string) {
	if c, ok := m.byResult[result]; ok {
		c.Inc()
		return
	}
	m.admissions.WithLabelValues(result).Inc()
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		admissions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kab_injector_admissions_total",
			Help: "Admission requests answered on /mutate, by result.",
		}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "kab_injector_admission_duration_seconds",
			Help: "Time to answer one admission request on /mutate, from the first byte read to the answer written.",
			// 0.25 ms … ~1 s: an admission takes well under a millisecond of CPU; the top
			// buckets are for a starved pod, which the API server's 10 s timeout cares about.
			Buckets: prometheus.ExponentialBuckets(0.00025, 2, 13),
		}),
	}
	for _, c := range []prometheus.Collector{m.admissions, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	// Every result exists from the start, so rate() and alerts see a 0, not a missing series.
	m.byResult = map[string]prometheus.Counter{}
	for _, r := range []string{ResultInjected, ResultSkipped, ResultDenied, ResultError} {
		m.byResult[r] = m.admissions.WithLabelValues(r)
	}
	return m, nil
}
