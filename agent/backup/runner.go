// Package backup runs backups: one at a time, in the app container's view, failing every run
// whose result cannot be trusted, and records them for the status API and the metrics.
package backup

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/boanu/kab/agent/appexec"
	"github.com/boanu/kab/agent/metrics"
	"github.com/boanu/kab/agent/snapshot"
	"github.com/boanu/kab/agent/target"
	"github.com/boanu/kab/shared"
)

// Config is what a Runner needs to know.
type Config struct {
	Spec         *shared.Spec
	Marker       string // KAB_CONTAINER: the app container's name
	BackupDir    string // the volume's path, the same in the agent and the app
	PodName      string
	PodNamespace string
	// OnSuccess, when set, is called after a run was recorded as a success, with the agent-side
	// path of what it wrote (<BackupDir>/snapshots/<stamp>, or BackupDir in seed mode). It must
	// return quickly: the callee queues its own work (the offsite upload).
	OnSuccess func(run Run, wrote string)
}

// Runner starts backups, one at a time, and remembers their outcome.
type Runner struct {
	cfg     Config
	finder  target.Finder
	metrics *metrics.Metrics
	logger  *slog.Logger

	ctx    context.Context // ends when the agent stops
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup

	// volumeMu serialises work on the backup folder: a run, and the watcher's cleanup.
	volumeMu     sync.Mutex
	staleRemoved bool // guarded by volumeMu

	mu       sync.Mutex
	running  *activeRun
	history  []Run
	stopping bool
	lastID   string
	target   *target.Process
	nextRun  func() (time.Time, bool)
	offsite  func() any
}

// NewRunner makes a Runner. self is the agent's pid, excluded from discovery with its children.
func NewRunner(cfg Config, self int, m *metrics.Metrics, logger *slog.Logger) *Runner {
	ctx, cancel := context.WithCancelCause(context.Background())
	return &Runner{
		cfg: cfg, finder: target.Finder{Marker: cfg.Marker, Self: self}, metrics: m, logger: logger,
		ctx: ctx, cancel: cancel, nextRun: func() (time.Time, bool) { return time.Time{}, false },
	}
}

// SetNextRun tells the Runner where to ask for the next scheduled run (for the status API).
func (r *Runner) SetNextRun(next func() (time.Time, bool)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.nextRun = next
}

// SetOffsiteStatus tells the Runner where to ask for the offsite copy's state (for the status API).
func (r *Runner) SetOffsiteStatus(status func() any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.offsite = status
}

// Start begins a run in the background and returns its id, or a *BusyError naming the
// running one, or ErrStopping.
func (r *Runner) Start() (string, error) {
	run, err := r.begin("manual")
	if err != nil {
		return "", err
	}
	go r.execute(run)
	// Let the run's goroutine have this thread now (it is next in line here) and leave the
	// HTTP answer to another one or to later: the user waits for the command, not for the 202.
	// Without it the run waits until the answer is written (~0.08 ms, docs/PERFORMANCE.md §3).
	runtime.Gosched()
	return run.ID, nil
}

// RunScheduled runs one backup and returns when it is over; the scheduler calls it. A run
// due while another (a manual one) is going is skipped and counted.
func (r *Runner) RunScheduled() {
	run, err := r.begin("schedule")
	var busy *BusyError
	switch {
	case errors.As(err, &busy):
		r.logger.Warn("scheduled backup skipped: another run is going", "running_id", busy.ID)
		r.metrics.RunSkipped()
		return
	case err != nil:
		return
	}
	r.execute(run)
}

// Stop refuses new runs, kills the running one (recorded as failed) and waits for it, at most
// until ctx ends.
func (r *Runner) Stop(ctx context.Context) {
	r.mu.Lock()
	r.stopping = true
	r.mu.Unlock()
	r.cancel(ErrStopping)
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		r.logger.Error("the running backup did not end in time")
	}
}

// begin reserves the single run slot.
func (r *Runner) begin(trigger string) (*activeRun, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopping {
		return nil, ErrStopping
	}
	if r.running != nil {
		return nil, &BusyError{ID: r.running.ID}
	}
	begun := time.Now() // keeps the monotonic reading that UTC and Truncate strip
	start := begun.UTC().Truncate(time.Millisecond)
	id := snapshot.Stamp(start)
	if id <= r.lastID {
		// Two runs within a millisecond (a run that failed at once, then another): the id is
		// also the snapshot's name, so it must be unique and keep sorting by time.
		last, _ := time.Parse(snapshot.StampLayout, r.lastID)
		start = last.Add(time.Millisecond)
		id = snapshot.Stamp(start)
	}
	r.lastID = id
	// Counted here, under the lock Stop takes to set stopping, so Stop waits for every run
	// that began before it.
	r.wg.Add(1)
	r.running = &activeRun{Run: Run{ID: id, Trigger: trigger, Start: start, Result: ResultRunning},
		tail: appexec.NewTail(tailLines, tailLineBytes), verify: appexec.NewTail(tailLines, tailLineBytes),
		steps: newStartSteps(begun)}
	return r.running, nil
}

// finish records the run's outcome and frees the slot.
func (r *Runner) finish(run *activeRun, o outcome) {
	end := time.Now().UTC()
	if end.Before(run.Start) {
		end = run.Start
	}
	rec := run.snapshot(end)
	rec.End = &end
	rec.Result, rec.ExitCode = o.result, &o.exitCode
	rec.SizeBytes, rec.Files, rec.Snapshot = o.content.Bytes, o.content.Files, o.snapshot
	if o.err != nil {
		rec.Error = o.err.Error()
	}
	if o.result == metrics.ResultVerifyFailed || o.result == metrics.ResultEmpty {
		// The reason belongs next to the output a user reads first, not only in error.
		rec.OutputTail = strings.TrimLeft(rec.OutputTail+"\n--- kab: "+rec.Error, "\n")
	}
	r.metrics.RunDone(o.result, run.Start, end, o.exitCode)
	if o.result == metrics.ResultSuccess {
		r.metrics.SetLastRunContent(o.content.Bytes, o.content.Files)
	}
	r.mu.Lock()
	r.running = nil
	r.history = append([]Run{rec}, r.history...)
	if len(r.history) > historySize {
		r.history = r.history[:historySize]
	}
	r.mu.Unlock()
	attrs := []any{"run_id", rec.ID, "result", rec.Result, "exit_code", o.exitCode, "duration_seconds", rec.DurationSeconds,
		"size_bytes", rec.SizeBytes, "files", rec.Files, "snapshot", rec.Snapshot}
	if o.err != nil {
		r.logger.Error("backup failed", append(attrs, "error", rec.Error)...)
	} else {
		r.logger.Info("backup succeeded", attrs...)
	}
	if o.result == metrics.ResultSuccess && r.cfg.OnSuccess != nil {
		r.cfg.OnSuccess(rec, o.wrote)
	}
}

// Status is the state for GET /status.
func (r *Runner) Status() Status {
	r.mu.Lock()
	st := Status{BackupName: r.cfg.Spec.BackupName, LastRuns: append([]Run{}, r.history...)}
	if r.target != nil {
		pid := r.target.PID
		st.Target = Target{Found: true, PID: &pid}
	}
	if r.running != nil {
		run := r.running.snapshot(time.Now())
		st.Running = &run
	}
	nextRun, offsite := r.nextRun, r.offsite
	r.mu.Unlock()
	if offsite != nil {
		st.Offsite = offsite()
	}
	// Asked outside the lock: the scheduler answers from its own goroutine, which may be
	// starting a run that needs the lock.
	if t, ok := nextRun(); ok {
		st.NextRun = &t
	}
	return st
}

// setTarget records the discovered process (nil: not found). The gauge is set under the lock,
// so a reader never sees the status and kab_target_up disagree.
func (r *Runner) setTarget(p *target.Process) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.target = p
	r.metrics.SetTargetUp(p != nil)
}

// forgetTarget records that a scan found no app — unless the known target still runs: a run
// can find a restarted app while the watcher's scan, begun before the restart, is still
// reading /proc, and that scan's "not found" must not hide the app until the next one.
func (r *Runner) forgetTarget() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.target != nil && target.Alive(*r.target) {
		return
	}
	r.target = nil
	r.metrics.SetTargetUp(false)
}
