package schedule_test

import (
	"testing"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/jonboulle/clockwork"

	"github.com/boanu/kab/agent/schedule"
)

// singletonSettle is the wall time a finished run is given to free gocron's singleton slot (see
// its use). The gap is microseconds; the margin is for a goroutine descheduled on a loaded CI
// machine.
const singletonSettle = 500 * time.Millisecond

// TestCronAcrossDSTRunsOncePerLocalDay walks a daily 02:30 Berlin schedule across both DST
// changes of a year on a fake clock: 02:30 happens twice on the autumn night and not at all on
// the spring one. Either way a backup runs exactly once per local day and the runs move forward.
func TestCronAcrossDSTRunsOncePerLocalDay(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatalf("tzdata: %v", err)
	}
	for _, c := range []struct {
		name  string
		start time.Time
	}{
		{"autumn, 02:30 twice", time.Date(2026, 10, 23, 12, 0, 0, 0, berlin)},
		{"spring, no 02:30", time.Date(2027, 3, 26, 12, 0, 0, 0, berlin)},
	} {
		t.Run(c.name, func(t *testing.T) {
			clock := clockwork.NewFakeClockAt(c.start)
			ran, skipped := make(chan struct{}, 10), make(chan struct{}, 10)
			s, err := schedule.Start(parse(t, "CRON_TZ=Europe/Berlin 30 2 * * *"), func() { ran <- struct{}{} }, func() { skipped <- struct{}{} }, quiet, gocron.WithClock(clock))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Stop()
			days := map[string]time.Time{}
			var last time.Time
			for range 4 {
				waitTimers(t, clock, 1)
				// The scheduler sets the next run from its own goroutine after the last one
				// started: wait for it (wall time, bounded) rather than read it too early.
				next, ok := s.NextRun()
				for deadline := time.Now().Add(5 * time.Second); (!ok || !next.After(clock.Now())) && time.Now().Before(deadline); {
					time.Sleep(time.Millisecond)
					next, ok = s.NextRun()
				}
				if !ok || !next.After(clock.Now()) {
					t.Fatalf("next run %v (ok %v) is not after now %v", next, ok, clock.Now())
				}
				// One second past the due time, as a real clock would be by the time gocron
				// reschedules: on a clock frozen at exactly the due time gocron may compute the
				// next run from "now" and pick the run that just happened again (a fake-clock
				// artefact that showed as a lost run under load).
				clock.Advance(next.Sub(clock.Now()) + time.Second)
				select {
				case <-ran:
				case <-skipped:
					t.Fatalf("the run due at %v was skipped as overlapping the previous one", next.In(berlin))
				case <-time.After(guard):
					t.Fatalf("no run at %v", next.In(berlin))
				}
				// gocron frees its singleton slot only after the task has returned and its
				// monitors were told, and nothing it exposes changes after that. A run due on the
				// fake clock before then is skipped as overlapping (seen in a -count=3 -race run;
				// every few runs with no settle and both CPUs busy): give the runner wall time to
				// finish before the next Advance.
				time.Sleep(singletonSettle)
				day := next.In(berlin).Format(time.DateOnly)
				if prev, dup := days[day]; dup {
					t.Errorf("two runs on %s: %v and %v", day, prev.In(berlin), next.In(berlin))
				}
				days[day] = next
				if !next.After(last) {
					t.Errorf("run %v not after the previous %v", next, last)
				}
				last = next
				t.Logf("ran at %v", next.In(berlin))
			}
			for d := c.start.AddDate(0, 0, 1); !d.After(last.In(berlin)); d = d.AddDate(0, 0, 1) {
				day := d.Format(time.DateOnly)
				if _, ok := days[day]; !ok {
					t.Errorf("no run on %s", day)
				}
			}
		})
	}
}
