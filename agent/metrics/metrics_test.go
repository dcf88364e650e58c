package metrics_test

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/boanu/kab/agent/metrics"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newMetrics() *metrics.Metrics {
	next := time.Unix(1_800_000_000, 0)
	m := metrics.New("my-app", true, func() (time.Time, bool) { return next, true })
	m.RunDone(metrics.ResultTimeout, time.Unix(100, 0), time.Unix(160, 0), 137)
	m.RunSkipped()
	m.SetSize(42)
	m.SetSnapshots(3)
	m.SetTargetUp(true)
	return m
}

func exposition(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for _, f := range families {
		if _, err := expfmt.MetricFamilyToText(&buf, f); err != nil {
			t.Fatal(err)
		}
	}
	return buf.String()
}

// Every metric of DESIGN §7 is there, each kab_ one with backup_name, the Go/process ones
// without it.
func TestMetricsOfTheDesign(t *testing.T) {
	text := exposition(t, newMetrics())
	for _, line := range []string{
		`kab_backup_runs_total{backup_name="my-app",result="success"} 0`,
		`kab_backup_runs_total{backup_name="my-app",result="failure"} 0`,
		`kab_backup_runs_total{backup_name="my-app",result="timeout"} 1`,
		`kab_backup_runs_skipped_total{backup_name="my-app"} 1`,
		`kab_backup_duration_seconds_count{backup_name="my-app"} 1`,
		`kab_backup_duration_seconds_sum{backup_name="my-app"} 60`,
		`kab_backup_last_success_timestamp_seconds{backup_name="my-app"} 0`,
		`kab_backup_last_run_timestamp_seconds{backup_name="my-app"} 160`,
		`kab_backup_last_exit_code{backup_name="my-app"} 137`,
		`kab_backup_next_run_timestamp_seconds{backup_name="my-app"} 1.8e+09`,
		`kab_backup_size_bytes{backup_name="my-app"} 42`,
		`kab_backup_snapshots{backup_name="my-app"} 3`,
		`kab_target_up{backup_name="my-app"} 1`,
	} {
		if !strings.Contains(text, line+"\n") {
			t.Errorf("missing %q", line)
		}
	}
	for l := range strings.SplitSeq(text, "\n") {
		switch {
		case strings.HasPrefix(l, "kab_") && !strings.Contains(l, `backup_name="my-app"`):
			t.Errorf("kab_ metric without backup_name: %s", l)
		case (strings.HasPrefix(l, "go_") || strings.HasPrefix(l, "process_")) && strings.Contains(l, "backup_name"):
			t.Errorf("runtime metric with backup_name: %s", l)
		}
	}
	if !strings.Contains(text, "go_goroutines") {
		t.Error("no Go collector")
	}
}

func TestSeedModeHasNoSnapshotGauge(t *testing.T) {
	m := metrics.New("my-app", false, func() (time.Time, bool) { return time.Time{}, false })
	text := exposition(t, m)
	if strings.Contains(text, "kab_backup_snapshots") {
		t.Error("kab_backup_snapshots in seed mode")
	}
	if !strings.Contains(text, `kab_backup_next_run_timestamp_seconds{backup_name="my-app"} 0`) {
		t.Error("next run without a schedule is not 0")
	}
}

func TestNamesAreLintClean(t *testing.T) {
	m := newMetrics()
	problems, err := testutil.GatherAndLint(m.Registry)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "kab_") {
			t.Errorf("lint: %s: %s", p.Metric, p.Text)
		}
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Log("promtool not installed (apt-get install prometheus); the client library's lint ran")
		return
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(kabOnly(exposition(t, m)))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// kabOnly keeps kab's own families: the Go collector's are not ours to rename.
func kabOnly(text string) string {
	var out []string
	for l := range strings.SplitSeq(text, "\n") {
		fields := strings.Fields(l)
		name := ""
		if len(fields) >= 3 && fields[0] == "#" {
			name = fields[2]
		} else if len(fields) > 0 {
			name = fields[0]
		}
		if strings.HasPrefix(name, "kab_") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n") + "\n"
}
