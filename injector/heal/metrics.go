package heal

import "github.com/prometheus/client_golang/prometheus"

// Actions, the values of kab_injector_healed_total's action label.
const (
	ActionEvicted = "evicted" // an owned pod was evicted; its controller re-creates it
	ActionEvent   = "event"   // a bare pod got a Warning Event
	ActionBlocked = "blocked" // an eviction was refused (a PodDisruptionBudget); retried
)

type metrics struct {
	healed     *prometheus.CounterVec
	uninjected prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		healed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kab_injector_healed_total",
			Help: "Heal actions on kab pods that started without injection, by action (evicted, event, blocked).",
		}, []string{"action"}),
		uninjected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kab_injector_uninjected_pods",
			Help: "kab pods (kab.boa.nu/ annotations) running without injection, as heal sees them (the leader; every replica with heal.evict false).",
		}),
	}
	for _, c := range []prometheus.Collector{m.healed, m.uninjected} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	for _, a := range []string{ActionEvicted, ActionEvent, ActionBlocked} {
		m.healed.WithLabelValues(a)
	}
	return m, nil
}
