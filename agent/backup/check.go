package backup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/boanu/kab/agent/metrics"
	"github.com/boanu/kab/agent/target"
	"github.com/boanu/kab/agent/verify"
	"golang.org/x/sys/unix"
)

// fileClock is the clock the kernel stamps ctime with (the coarse real-time clock, a tick
// behind the precise one): read before the command starts, every file the command changes has
// a ctime at or after it, and files changed before it (an earlier run's) have an older one.
func fileClock() time.Time {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_REALTIME_COARSE, &ts); err != nil {
		return time.Now().Add(-time.Second)
	}
	return time.Unix(ts.Unix())
}

// check judges what a successful command wrote (DESIGN.md §6): nothing written is "empty", a
// backup-verify script that says no is "verify_failed"; both are kept from being promoted.
// commandDir is the folder the command wrote to, the same path in the agent and the app;
// started is fileClock() before the command started.
func (r *Runner) check(ctx context.Context, run *activeRun, p target.Process, commandDir string, started time.Time, o outcome) outcome {
	log := r.logger.With("run_id", run.ID)
	var since time.Time
	looked := commandDir
	if !r.cfg.Spec.SnapshotMode() {
		// Seed mode writes into a folder that holds earlier runs: only what changed counts.
		since = started
		looked = fmt.Sprintf("%s (files changed since %s)", commandDir, since.Format(time.RFC3339Nano))
	}
	c, err := verify.Measure(commandDir, p.IDs(), since)
	if err != nil {
		return failed(o.exitCode, fmt.Errorf("measure what the run wrote in %s: %w", commandDir, err))
	}
	o.content = c
	log.Info("backup output measured", "looked_at", looked, "size_bytes", c.Bytes, "files", c.Files,
		"non_empty_files", c.NonEmpty, "unreadable_folders", c.Unreadable)
	if c.Empty() && !r.cfg.Spec.AllowEmpty {
		o.result = metrics.ResultEmpty
		o.err = fmt.Errorf("the backup command wrote nothing: no regular file with at least one byte in %s (%d files, %d bytes); set kab.boa.nu/backup-allow-empty: \"true\" if that is expected", looked, c.Files, c.Bytes)
		return o
	}
	if r.cfg.Spec.Verify == "" {
		return o
	}
	log.Info("backup-verify started", "backup_dir", commandDir)
	exitCode, err := verify.Run(ctx, verify.Request{
		Target: p, Shell: r.cfg.Spec.BackupShell, Script: r.cfg.Spec.Verify, Dir: commandDir, RunID: run.ID,
		Env: r.runEnv(), Logger: log.With("stream_of", "backup-verify"), Tail: run.verify,
	})
	cause := context.Cause(ctx)
	switch {
	case errors.Is(cause, errTimeout):
		o.result, o.exitCode = metrics.ResultTimeout, exitCode
		o.err = fmt.Errorf("%w (%s) while backup-verify ran", errTimeout, r.cfg.Spec.Timeout)
	case cause != nil:
		return failed(exitCode, cause)
	case errors.Is(err, verify.ErrFailed):
		o.result, o.err = metrics.ResultVerifyFailed, err // the exit code stays the backup command's
	case errors.Is(err, target.ErrGone):
		return failed(exitCode, errTargetGone)
	case err != nil:
		return failed(exitCode, err)
	default:
		log.Info("backup-verify passed")
	}
	return o
}
