package backup

import (
	"context"
	"errors"
	"time"

	"github.com/boanu/kab/agent/fsuser"
	"github.com/boanu/kab/agent/snapshot"
	"github.com/boanu/kab/agent/target"
)

// rediscoverEvery is how often the watcher looks for the app while it is not found.
const rediscoverEvery = 2 * time.Second

// Watch keeps kab_target_up and the status's target current until ctx ends: it finds the app's
// process, prepares the backup folder for it, then waits for that process to exit (a pidfd,
// no polling) and looks again — a restarted container has a new pid and start time.
func (r *Runner) Watch(ctx context.Context) {
	for ctx.Err() == nil {
		p, err := r.finder.Find()
		if err != nil {
			r.forgetTarget()
			if !errors.Is(err, target.ErrNotFound) {
				r.logger.Warn("looking for the app process failed", "error", err)
			}
			select {
			case <-ctx.Done():
			case <-time.After(rediscoverEvery):
			}
			continue
		}
		r.logger.Info("app process found", "pid", p.PID, "uid", p.UID, "gid", p.GID)
		r.setTarget(&p)
		r.prepareFolder(p)
		if err := target.WaitExit(ctx, p); err == nil {
			r.logger.Warn("app process exited", "pid", p.PID)
		}
	}
}

// prepareFolder readies the folder for a newly found app process; see readyFolder.
func (r *Runner) prepareFolder(p target.Process) {
	r.volumeMu.Lock()
	defer r.volumeMu.Unlock()
	if err := r.readyFolder(p); err != nil {
		// Runs fail with the same message until it is fixed; say it now, too.
		r.logger.Error("the backup folder is not usable by the app", "error", err)
	}
}

// readyFolder hands a fresh folder to the app and, once per agent start, removes what a
// killed agent left behind in snapshot mode. The caller holds volumeMu.
func (r *Runner) readyFolder(p target.Process) error {
	if err := fsuser.HandOver(r.cfg.BackupDir, p.IDs()); err != nil {
		return err
	}
	if r.cfg.Spec.SnapshotMode() && !r.staleRemoved {
		removed, err := snapshot.Store{Dir: r.cfg.BackupDir, IDs: p.IDs()}.RemoveStale()
		if err != nil {
			r.logger.Error("removing stale partial snapshots failed", "error", err)
			return nil // not a reason to fail runs: the next start tries again
		}
		r.staleRemoved = true
		if len(removed) > 0 {
			r.logger.Info("stale partial snapshots removed", "paths", removed)
		}
	}
	return nil
}

// findTarget returns the process the watcher found if it still runs, else scans again: a scan
// reads every process's status and environ, the check one stat file.
func (r *Runner) findTarget() (target.Process, error) {
	r.mu.Lock()
	known := r.target
	r.mu.Unlock()
	if known != nil && target.Alive(*known) {
		return *known, nil
	}
	return r.finder.Find()
}
