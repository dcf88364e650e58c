package backup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/boanu/kab/agent/appexec"
	"github.com/boanu/kab/agent/metrics"
	"github.com/boanu/kab/agent/snapshot"
	"github.com/boanu/kab/agent/target"
	"github.com/boanu/kab/agent/verify"
	"github.com/boanu/kab/shared"
)

// The bounded output tail kept for the status API.
const (
	tailLines     = 40
	tailLineBytes = 1024
)

// outcome is how a run ended.
type outcome struct {
	result   string
	exitCode int
	err      error
	content  verify.Content // what the run wrote, once measured
	snapshot string         // the folder left under snapshots/: "<stamp>" or "<stamp>.rejected"
	wrote    string         // agent-side path of a successful run's output
}

func failed(exitCode int, err error) outcome {
	return outcome{result: metrics.ResultFailure, exitCode: exitCode, err: err}
}

// execute runs one backup from discovery to housekeeping and records it.
func (r *Runner) execute(run *activeRun) {
	defer r.wg.Done()
	r.finish(run, r.attempt(run))
}

func (r *Runner) attempt(run *activeRun) outcome {
	run.steps.mark("handoff")
	log := r.logger.With("run_id", run.ID)
	log.Info("backup started", "trigger", run.Trigger)
	run.steps.mark("log")
	p, err := r.findTarget()
	if err != nil {
		r.setTarget(nil)
		return failed(-1, err)
	}
	r.setTarget(&p)
	run.steps.mark("target")
	r.volumeMu.Lock()
	defer r.volumeMu.Unlock()
	if err := r.readyFolder(p); err != nil {
		return failed(-1, err)
	}
	agentVolume, err := volumeID(r.cfg.BackupDir)
	if err != nil {
		return failed(-1, err)
	}
	run.steps.mark("folder")

	commandDir := r.cfg.BackupDir
	store := snapshot.Store{Dir: r.cfg.BackupDir, IDs: p.IDs()}
	if r.cfg.Spec.SnapshotMode() {
		if err := store.Begin(run.ID); err != nil {
			return failed(-1, fmt.Errorf("snapshot mode: %w", err))
		}
		commandDir = path.Join(r.cfg.BackupDir, snapshot.PartialPath(run.ID))
		run.steps.mark("snapshot")
	}
	// The command and the verify script share the run's timeout.
	ctx, cancel := context.WithTimeoutCause(r.ctx, r.cfg.Spec.Timeout, errTimeout)
	defer cancel()
	started := fileClock()
	o := r.runCommand(ctx, run, p, commandDir, agentVolume)
	if o.result == metrics.ResultSuccess {
		o = r.check(ctx, run, p, commandDir, started, o)
	}
	if r.cfg.Spec.SnapshotMode() {
		o = r.settleSnapshot(store, run.ID, o)
	} else if o.result == metrics.ResultSuccess {
		o.wrote = r.cfg.BackupDir
	}
	r.measure(store)
	return o
}

// runCommand runs the backup command and judges its result: exit 0 is a success only if the
// app's process lived through the whole run and the folder it wrote to was the volume.
func (r *Runner) runCommand(parent context.Context, run *activeRun, p target.Process, commandDir string, volume fileID) outcome {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)

	args := append(append([]string{}, r.cfg.Spec.BackupShell...), r.cfg.Spec.BackupExec)
	oomBefore, memCgroup, oomKnown := oomCounter()
	cmd, err := appexec.Start(ctx, appexec.Request{
		Target: p,
		Args:   args,
		Env: append(r.runEnv(),
			shared.EnvBackupDir+"="+commandDir,
			shared.EnvRunID+"="+run.ID,
		),
		Logger: r.logger.With("run_id", run.ID),
		Tail:   run.tail,
		// The folder the app sees is checked through the root the command is chrooted into,
		// on the thread that reads the app's environment: one switch to the app's ids, not two.
		Check: func(root *os.File) error {
			if st, err := statInRoot(root, r.cfg.BackupDir); err != nil || idOf(st) != volume {
				return errors.Join(errNotTheVolume(r.cfg.BackupDir, "before the run,"), err)
			}
			return nil
		},
		Mark: run.steps.mark,
	})
	if err != nil {
		switch {
		case context.Cause(ctx) != nil:
			err = context.Cause(ctx) // stopping, or the app went away meanwhile
		case errors.Is(err, target.ErrGone):
			err = errTargetGone
		}
		return failed(-1, err)
	}
	defer cmd.Close()
	r.logger.Info("backup command started", "run_id", run.ID, "pid", cmd.PID(), "target_pid", p.PID,
		"uid", p.UID, "gid", p.GID, "dir", cmd.Dir, "backup_dir", commandDir, run.steps.attr())

	watchCtx, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		if target.WaitExit(watchCtx, p) == nil {
			cancel(errTargetGone)
		}
	}()
	exitCode, waitErr := cmd.Wait()
	stopWatch()
	<-watched

	cause := context.Cause(ctx)
	switch {
	case errors.Is(cause, errTimeout):
		return outcome{result: metrics.ResultTimeout, exitCode: exitCode, err: fmt.Errorf("%w (%s)", errTimeout, r.cfg.Spec.Timeout)}
	case cause != nil:
		return failed(exitCode, cause)
	case exitCode != 0 && oomKnown && oomKilledSince(oomBefore):
		return failed(exitCode, errOOMKilled(memCgroup.limit()))
	case waitErr != nil:
		return failed(exitCode, waitErr)
	case exitCode != 0:
		return failed(exitCode, fmt.Errorf("the backup command exited with code %d", exitCode))
	case !target.Alive(p):
		return failed(exitCode, errTargetGone)
	}
	if st, err := cmd.StatInRoot(r.cfg.BackupDir); err != nil || idOf(st) != volume {
		return failed(exitCode, errors.Join(errNotTheVolume(r.cfg.BackupDir, "after the run,"), err))
	}
	return outcome{result: metrics.ResultSuccess, exitCode: exitCode}
}

// runEnv is what every command of a run sees besides its folder and run id.
func (r *Runner) runEnv() []string {
	return []string{
		shared.EnvName(shared.KeyBackupName) + "=" + r.cfg.Spec.BackupName,
		shared.EnvPodName + "=" + r.cfg.PodName,
		shared.EnvPodNamespace + "=" + r.cfg.PodNamespace,
	}
}

// settleSnapshot completes a successful run's snapshot, keeps a refused one as the rejected
// folder, or removes a failed one's folder.
func (r *Runner) settleSnapshot(store snapshot.Store, stamp string, o outcome) outcome {
	if o.result == metrics.ResultEmpty || o.result == metrics.ResultVerifyFailed {
		if err := store.Reject(stamp); err != nil {
			r.logger.Error("keeping the rejected run's folder failed", "run_id", stamp, "error", err)
			_ = store.Abort(stamp)
			return o
		}
		o.snapshot = path.Base(snapshot.RejectedPath(stamp))
		o.err = fmt.Errorf("%w; kept for inspection in %s, latest unchanged", o.err, snapshot.RejectedPath(stamp))
		return o
	}
	if o.result != metrics.ResultSuccess {
		if err := store.Abort(stamp); err != nil {
			r.logger.Error("removing the failed run's folder failed", "run_id", stamp, "error", err)
		}
		return o
	}
	if err := store.Commit(stamp); err != nil {
		_ = store.Abort(stamp)
		o.result, o.err = metrics.ResultFailure, fmt.Errorf("snapshot mode: %w", err)
		return o
	}
	o.snapshot, o.wrote = stamp, path.Join(r.cfg.BackupDir, snapshot.CompletePath(stamp))
	// Retention runs only here, right after a promotion: a failed run never thins the history.
	pruned, err := store.Prune(r.cfg.Spec.Keep, r.cfg.Spec.Schedule.Location())
	if err != nil {
		r.logger.Error("pruning old snapshots failed", "error", err)
	}
	var kept []string
	for _, d := range pruned.Decisions {
		if d.Keep {
			kept = append(kept, snapshot.Stamp(d.Time)+": "+strings.Join(d.Reasons, ", "))
		}
	}
	r.logger.Info("retention applied", "policy", r.cfg.Spec.Keep.String(), "kept", kept, "removed", pruned.Removed)
	return o
}

// measure updates the size and snapshot gauges, walking the folder as the app.
func (r *Runner) measure(store snapshot.Store) {
	if size, err := snapshot.Size(r.cfg.BackupDir, store.IDs); err == nil {
		r.metrics.SetSize(size)
	}
	if r.cfg.Spec.SnapshotMode() {
		if n, err := store.Count(); err == nil {
			r.metrics.SetSnapshots(n)
		}
	}
}
