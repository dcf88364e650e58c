package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Offsite holds the kab_offsite_* metrics (DESIGN.md §10), registered only when the pod has an
// offsite Secret, on the agent's registry with the same backup_name label.
type Offsite struct {
	uploads          *prometheus.CounterVec
	lastSuccess      prometheus.Gauge
	lastBytes        prometheus.Gauge
	duration         prometheus.Histogram
	retentionSkipped prometheus.Counter
}

// NewOffsite registers the offsite metrics on reg.
func NewOffsite(reg prometheus.Registerer, backupName string) *Offsite {
	kab := prometheus.WrapRegistererWith(prometheus.Labels{"backup_name": backupName}, reg)
	o := &Offsite{
		uploads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kab_offsite_uploads_total", Help: "Offsite upload attempts by result; each retry counts.",
		}, []string{"result"}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kab_offsite_last_success_timestamp_seconds", Help: "End of the last successful offsite upload, Unix time.",
		}),
		lastBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kab_offsite_last_upload_bytes", Help: "Bytes stored by the last successful offsite upload (compressed and encrypted).",
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "kab_offsite_upload_duration_seconds", Help: "Duration of offsite upload attempts.", Buckets: durationBuckets,
		}),
		retentionSkipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kab_offsite_retention_skipped_total", Help: "Remote retention passes refused by the bucket (a put-only key): retention is left to the bucket's lifecycle rules.",
		}),
	}
	kab.MustRegister(o.uploads, o.lastSuccess, o.lastBytes, o.duration, o.retentionSkipped)
	for _, r := range []string{ResultSuccess, ResultFailure} {
		o.uploads.WithLabelValues(r) // present at 0, so rate() and alerts see the series from the start
	}
	return o
}

// UploadDone records one upload attempt.
func (o *Offsite) UploadDone(ok bool, bytes int64, duration time.Duration, end time.Time) {
	o.duration.Observe(duration.Seconds())
	if !ok {
		o.uploads.WithLabelValues(ResultFailure).Inc()
		return
	}
	o.uploads.WithLabelValues(ResultSuccess).Inc()
	o.lastSuccess.Set(unixSeconds(end))
	o.lastBytes.Set(float64(bytes))
}

// RetentionSkipped counts a remote retention pass the bucket refused.
func (o *Offsite) RetentionSkipped() { o.retentionSkipped.Inc() }
