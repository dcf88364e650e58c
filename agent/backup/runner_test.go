package backup

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/boanu/kab/agent/metrics"
	"github.com/boanu/kab/shared"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newRunner(t *testing.T) *Runner {
	t.Helper()
	spec, err := shared.SpecFromEnv(func(k string) string {
		return map[string]string{"KAB_BACKUP_EXEC": "true", "KAB_BACKUP_NAME": "my-app"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New(spec.BackupName, false, func() (time.Time, bool) { return time.Time{}, false })
	return NewRunner(Config{Spec: spec, Marker: "no-such-container", BackupDir: t.TempDir()}, os.Getpid(), m, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// Run ids are unique and sort by time even for runs in the same millisecond: they name the
// snapshot folders.
func TestRunIDsAreUniqueAndOrdered(t *testing.T) {
	r := newRunner(t)
	var last string
	for range 5 {
		run, err := r.begin("manual")
		if err != nil {
			t.Fatal(err)
		}
		if run.ID <= last {
			t.Errorf("id %q after %q", run.ID, last)
		}
		last = run.ID
		endRun(r, run, failed(-1, errors.New("test")))
	}
}

// One run at a time; a failed discovery is a failure with exit code -1; no runs after Stop.
func TestOneRunAtATimeAndNoneAfterStop(t *testing.T) {
	r := newRunner(t)
	run, err := r.begin("schedule")
	if err != nil {
		t.Fatal(err)
	}
	var busy *BusyError
	if _, err := r.Start(); !errors.As(err, &busy) || busy.ID != run.ID {
		t.Errorf("Start during a run: %v, want busy with %s", err, run.ID)
	}
	r.execute(run)
	st := r.Status()
	if len(st.LastRuns) != 1 || st.LastRuns[0].Result != metrics.ResultFailure || *st.LastRuns[0].ExitCode != -1 {
		t.Fatalf("status %+v", st)
	}
	if st.Target.Found {
		t.Error("target found for a marker nobody carries")
	}
	r.Stop(context.Background())
	if _, err := r.Start(); !errors.Is(err, ErrStopping) {
		t.Errorf("Start after Stop: %v, want ErrStopping", err)
	}
}

// A scheduled run due during a manual one is skipped and counted.
func TestScheduledRunDuringAManualOneIsSkipped(t *testing.T) {
	r := newRunner(t)
	run, err := r.begin("manual")
	if err != nil {
		t.Fatal(err)
	}
	r.RunScheduled()
	endRun(r, run, failed(-1, errors.New("test")))
	if got := gathered(t, r, "kab_backup_runs_skipped_total"); got != 1 {
		t.Errorf("skipped %v, want 1", got)
	}
	if n := len(r.Status().LastRuns); n != 1 {
		t.Errorf("%d runs recorded, want only the manual one", n)
	}
}

// gathered is the value of the counter or gauge name (the runner's metrics have no labels
// but the constant backup_name).
func gathered(t *testing.T, r *Runner, name string) float64 {
	t.Helper()
	families, err := r.metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name {
			m := f.GetMetric()[0]
			if g := m.GetGauge(); g != nil {
				return g.GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// endRun ends a run begun by the test as execute would.
func endRun(r *Runner, run *activeRun, o outcome) {
	r.finish(run, o)
	r.wg.Done()
}
