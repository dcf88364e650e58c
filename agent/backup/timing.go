package backup

import (
	"log/slog"
	"time"
)

// startSteps marks, on the monotonic clock, each step of a run's way from its trigger to its
// command's start. They are logged with "backup command started" as microseconds per step, so
// the trigger latency a user sees can be split without a profiler (docs/PERFORMANCE.md §3).
// A run is driven by one goroutine at a time, so it needs no lock.
type startSteps struct {
	last  time.Time
	steps []slog.Attr
}

func newStartSteps(begun time.Time) *startSteps {
	return &startSteps{last: begun, steps: make([]slog.Attr, 0, 8)}
}

// mark ends the step named name now.
func (s *startSteps) mark(name string) {
	now := time.Now()
	s.steps = append(s.steps, slog.Int64(name, now.Sub(s.last).Microseconds()))
	s.last = now
}

// attr is the steps so far as one log attribute, in the order they happened.
func (s *startSteps) attr() slog.Attr {
	return slog.Attr{Key: "start_us", Value: slog.GroupValue(s.steps...)}
}
