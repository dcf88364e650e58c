package agentstatus

import (
	"fmt"
	"io"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Gauges are the agent metrics the status table needs beyond GET /status: the history there
// holds ten runs, so the last success can be older than all of them, and the folder's size
// and snapshot count are walked by the agent, not recorded per run.
type Gauges struct {
	LastSuccess *time.Time `json:"lastSuccess,omitempty"`
	SizeBytes   *int64     `json:"sizeBytes,omitempty"`
	Snapshots   *int64     `json:"snapshots,omitempty"` // snapshot mode only
}

// Metric names read here (DESIGN §7).
const (
	metricLastSuccess = "kab_backup_last_success_timestamp_seconds"
	metricSize        = "kab_backup_size_bytes"
	metricSnapshots   = "kab_backup_snapshots"
)

// ParseGauges reads the Prometheus text exposition of an agent's /metrics.
func ParseGauges(r io.Reader) (Gauges, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(r)
	if err != nil {
		return Gauges{}, fmt.Errorf("the agent's /metrics: %w", err)
	}
	value := func(name string) (float64, bool) {
		f, ok := families[name]
		if !ok || len(f.GetMetric()) == 0 || f.GetMetric()[0].GetGauge() == nil {
			return 0, false
		}
		return f.GetMetric()[0].GetGauge().GetValue(), true
	}
	var g Gauges
	if v, ok := value(metricLastSuccess); ok && v > 0 {
		t := time.Unix(0, int64(v*float64(time.Second))).UTC()
		g.LastSuccess = &t
	}
	if v, ok := value(metricSize); ok {
		n := int64(v)
		g.SizeBytes = &n
	}
	if v, ok := value(metricSnapshots); ok {
		n := int64(v)
		g.Snapshots = &n
	}
	return g, nil
}
