package schedule_test

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/boanu/kab/agent/schedule"
	"github.com/boanu/kab/shared"
	"github.com/go-co-op/gocron/v2"
	"github.com/jonboulle/clockwork"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// guard bounds waits for the scheduler's goroutines; the schedule itself runs on a fake clock.
const guard = 10 * time.Second

func parse(t *testing.T, v string) shared.Schedule {
	t.Helper()
	s, err := shared.ParseSchedule(v)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func waitTimers(t *testing.T, clock *clockwork.FakeClock, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	if err := clock.BlockUntilContext(ctx, n); err != nil {
		t.Fatalf("scheduler set no timer: %v", err)
	}
}

func receive(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(guard):
		t.Fatalf("no %s", what)
	}
}

// The first run comes one interval after start, not at once: an app that came up empty must
// not overwrite the last good backup straight away.
func TestFirstRunIsOneIntervalAfterStart(t *testing.T) {
	start := time.Date(2026, 1, 15, 1, 0, 0, 0, time.UTC)
	clock := clockwork.NewFakeClockAt(start)
	ran := make(chan struct{}, 10)
	var runs atomic.Int32
	s, err := schedule.Start(parse(t, "3600"), func() { runs.Add(1); ran <- struct{}{} }, func() {}, quiet, gocron.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	waitTimers(t, clock, 1)
	if next, ok := s.NextRun(); !ok || !next.Equal(start.Add(time.Hour)) {
		t.Errorf("next run %v, want %v", next, start.Add(time.Hour))
	}
	if n := runs.Load(); n != 0 {
		t.Errorf("%d runs before the first interval", n)
	}
	clock.Advance(time.Hour)
	receive(t, ran, "run after one interval")
}

func TestCronWithZoneRunsAtTheNextMatch(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 1, 15, 1, 0, 0, 0, time.UTC))
	s, err := schedule.Start(parse(t, "CRON_TZ=Europe/Oslo 0 3 * * *"), func() {}, func() {}, quiet, gocron.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	want := time.Date(2026, 1, 15, 2, 0, 0, 0, time.UTC) // 03:00 in Oslo, UTC+1 in winter
	if next, ok := s.NextRun(); !ok || !next.Equal(want) {
		t.Errorf("next run %v, want %v", next, want)
	}
}

// A run due while the previous one still runs is skipped and counted, never run alongside.
func TestLateRunsAreSkippedAndCounted(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 1, 15, 1, 0, 0, 0, time.UTC))
	started, release, skipped := make(chan struct{}, 10), make(chan struct{}), make(chan struct{}, 10)
	var running, overlaps atomic.Int32
	task := func() {
		if running.Add(1) > 1 {
			overlaps.Add(1)
		}
		started <- struct{}{}
		<-release
		running.Add(-1)
	}
	s, err := schedule.Start(parse(t, "1m"), task, func() { skipped <- struct{}{} }, quiet, gocron.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	waitTimers(t, clock, 1)
	clock.Advance(time.Minute)
	receive(t, started, "first run")
	waitTimers(t, clock, 1)
	clock.Advance(time.Minute)
	receive(t, skipped, "skip while the first run is going")
	close(release)
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if n := overlaps.Load(); n != 0 {
		t.Errorf("%d overlapping runs", n)
	}
}
