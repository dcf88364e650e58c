// Package schedule runs the backup on the spec's schedule with gocron: singleton (runs never
// overlap; a run due while one is going is skipped, counted and rescheduled), the first run one
// interval after start or at the next cron match.
package schedule

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/boanu/kab/shared"
	"github.com/go-co-op/gocron/v2"
	"github.com/google/uuid"
)

// stopTimeout bounds how long Stop waits for a running task. The agent kills the running
// backup before it stops the scheduler, so the task returns quickly.
const stopTimeout = 5 * time.Second

// Scheduler runs one task on a schedule.
type Scheduler struct {
	s   gocron.Scheduler
	job gocron.Job
}

// Start schedules task. onSkip is called for every run gocron drops because the previous one
// is still going. Extra options (a fake clock in tests) are passed to gocron.
func Start(sched shared.Schedule, task func(), onSkip func(), logger *slog.Logger, opts ...gocron.SchedulerOption) (*Scheduler, error) {
	opts = append([]gocron.SchedulerOption{
		// *slog.Logger has exactly gocron's Logger methods.
		gocron.WithLogger(logger.With("component", "scheduler")),
		gocron.WithStopTimeout(stopTimeout),
		gocron.WithMonitor(skipMonitor(onSkip)),
		// gocron recognises a DST repeat or gap by comparing wall clocks in the scheduler's
		// location, so that location must be the schedule's own CRON_TZ zone (UTC without one).
		gocron.WithLocation(sched.Location()),
	}, opts...)
	s, err := gocron.NewScheduler(opts...)
	if err != nil {
		return nil, fmt.Errorf("create scheduler: %w", err)
	}
	// Neither definition runs at once: a duration job's first run is one interval after
	// start, a cron job's is the next match. Waiting keeps an app that came up empty (a
	// restore that did not happen) from overwriting the last good backup straight away.
	var def gocron.JobDefinition
	if sched.IsCron() {
		def = gocron.CronJob(sched.Cron, false)
	} else {
		def = gocron.DurationJob(sched.Every)
	}
	job, err := s.NewJob(def, gocron.NewTask(task),
		gocron.WithName("backup"),
		gocron.WithSingletonMode(gocron.LimitModeReschedule),
		// A daily 02:30 must not vanish on the spring-forward night: run it right after the
		// jump, as classic cron does, so no local day goes without a backup.
		gocron.WithDaylightSavingsTimePolicy(gocron.DaylightSavingsTimeRunAfterTransition),
	)
	if err != nil {
		_ = s.Shutdown()
		return nil, fmt.Errorf("schedule %q: %w", sched.String(), err)
	}
	s.Start()
	return &Scheduler{s: s, job: job}, nil
}

// NextRun is when the task runs next.
func (s *Scheduler) NextRun() (time.Time, bool) {
	t, err := s.job.NextRun()
	if err != nil || t.IsZero() {
		return time.Time{}, false
	}
	return t, true
}

// Stop stops scheduling and waits (bounded) for a running task.
func (s *Scheduler) Stop() error { return s.s.Shutdown() }

// skipMonitor turns gocron's "singleton rescheduled" events into onSkip calls.
type skipMonitor func()

func (f skipMonitor) IncrementJob(_ uuid.UUID, _ string, _ []string, status gocron.JobStatus) {
	if status == gocron.SingletonRescheduled {
		f()
	}
}

func (f skipMonitor) RecordJobTiming(_, _ time.Time, _ uuid.UUID, _ string, _ []string) {}
