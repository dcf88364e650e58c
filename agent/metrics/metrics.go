// Package metrics holds the agent's Prometheus metrics (DESIGN.md §7) in a private registry.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Run results, the values of kab_backup_runs_total's result label. Exclusive: a timeout is
// not also a failure.
const (
	ResultSuccess = "success"
	ResultFailure = "failure"
	ResultTimeout = "timeout"
	// ResultEmpty: the command succeeded but wrote nothing (no regular file with a byte).
	ResultEmpty = "empty"
	// ResultVerifyFailed: the backup-verify script refused what the command wrote.
	ResultVerifyFailed = "verify_failed"
)

// Results are all run results, for the label values present from the start.
var Results = []string{ResultSuccess, ResultFailure, ResultTimeout, ResultEmpty, ResultVerifyFailed}

// durationBuckets span a quick dump of a small database to a long nightly archive.
var durationBuckets = []float64{1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800}

// Metrics are the agent's metrics, each kab_ one labelled backup_name.
type Metrics struct {
	Registry    *prometheus.Registry
	runs        *prometheus.CounterVec
	skipped     prometheus.Counter
	duration    prometheus.Histogram
	lastSuccess prometheus.Gauge
	lastRun     prometheus.Gauge
	lastExit    prometheus.Gauge
	size        prometheus.Gauge
	runSize     prometheus.Gauge
	runFiles    prometheus.Gauge
	snapshots   prometheus.Gauge // nil in seed mode
	targetUp    prometheus.Gauge
}

// New registers the metrics. nextRun reports the next scheduled run (false: none known);
// kab_backup_snapshots exists only in snapshot mode.
func New(backupName string, snapshotMode bool, nextRun func() (time.Time, bool)) *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	kab := prometheus.WrapRegistererWith(prometheus.Labels{"backup_name": backupName}, reg)
	m := &Metrics{
		Registry: reg,
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kab_backup_runs_total", Help: "Backup runs by result; a timeout counts as timeout only.",
		}, []string{"result"}),
		skipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kab_backup_runs_skipped_total", Help: "Scheduled runs skipped because a run was still going.",
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "kab_backup_duration_seconds", Help: "Duration of backup runs.", Buckets: durationBuckets,
		}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kab_backup_last_success_timestamp_seconds", Help: "End of the last successful run, Unix time.",
		}),
		lastRun: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kab_backup_last_run_timestamp_seconds", Help: "End of the last run, Unix time.",
		}),
		lastExit: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kab_backup_last_exit_code", Help: "Exit code of the last run: 128+signal when killed, -1 when it never started.",
		}),
		size: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kab_backup_size_bytes", Help: "Apparent size of the backup folder, walked after each run.",
		}),
		runSize: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kab_backup_last_run_size_bytes", Help: "Apparent size of what the last successful run wrote.",
		}),
		runFiles: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kab_backup_last_run_files", Help: "Regular files the last successful run wrote.",
		}),
		targetUp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kab_target_up", Help: "1 when the app container's process is found.",
		}),
	}
	kab.MustRegister(m.runs, m.skipped, m.duration, m.lastSuccess, m.lastRun, m.lastExit, m.size, m.runSize, m.runFiles, m.targetUp)
	kab.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "kab_backup_next_run_timestamp_seconds", Help: "Next scheduled run, Unix time; 0 when none is scheduled.",
	}, func() float64 {
		if t, ok := nextRun(); ok {
			return float64(t.UnixNano()) / 1e9
		}
		return 0
	}))
	if snapshotMode {
		m.snapshots = prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kab_backup_snapshots", Help: "Complete snapshots in the backup folder.",
		})
		kab.MustRegister(m.snapshots)
	}
	for _, r := range Results {
		m.runs.WithLabelValues(r) // present at 0, so rate() and alerts see the series from the start
	}
	return m
}

// RunDone records a finished run.
func (m *Metrics) RunDone(result string, start, end time.Time, exitCode int) {
	m.runs.WithLabelValues(result).Inc()
	m.duration.Observe(end.Sub(start).Seconds())
	m.lastRun.Set(unixSeconds(end))
	m.lastExit.Set(float64(exitCode))
	if result == ResultSuccess {
		m.lastSuccess.Set(unixSeconds(end))
	}
}

// SetLastRunContent records what the last successful run wrote.
func (m *Metrics) SetLastRunContent(bytes, files int64) {
	m.runSize.Set(float64(bytes))
	m.runFiles.Set(float64(files))
}

// RunSkipped counts a scheduled run that was skipped.
func (m *Metrics) RunSkipped() { m.skipped.Inc() }

// SetSize records the backup folder's apparent size.
func (m *Metrics) SetSize(bytes int64) { m.size.Set(float64(bytes)) }

// SetSnapshots records the number of complete snapshots (snapshot mode only).
func (m *Metrics) SetSnapshots(n int) {
	if m.snapshots != nil {
		m.snapshots.Set(float64(n))
	}
}

// SetTargetUp records whether the app's process is found.
func (m *Metrics) SetTargetUp(up bool) {
	if up {
		m.targetUp.Set(1)
	} else {
		m.targetUp.Set(0)
	}
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
