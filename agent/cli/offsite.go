package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/boanu/kab/agent/backup"
	"github.com/boanu/kab/agent/fsuser"
	"github.com/boanu/kab/agent/metrics"
	"github.com/boanu/kab/agent/offsite"
	"github.com/boanu/kab/agent/retention"
	"github.com/boanu/kab/agent/settings"
	"github.com/boanu/kab/agent/snapshot"
)

// uploadBackoff spaces retries of a failed upload; the next good run supersedes it anyway.
var uploadBackoff = offsite.Backoff{First: 30 * time.Second, Max: 15 * time.Minute}

// offsiteCopies is the agent's side of DESIGN.md §10: it reads the Secret at start (a bad one
// stops the agent, naming the Secret and the key) and queues an upload after each good run.
type offsiteCopies struct {
	uploader *offsite.Uploader
	cfg      *settings.Config
}

// startOffsite returns nil when the pod has no offsite Secret. The uploader runs until ctx ends.
func startOffsite(ctx context.Context, cfg *settings.Config, m *metrics.Metrics, logger *slog.Logger) (*offsiteCopies, error) {
	if cfg.Spec.Offsite == "" {
		return nil, nil
	}
	// kab-agent never gets the identity (Secret items): uploading needs only the recipients.
	secret, err := offsite.Load(offsite.MountDir, cfg.Spec.Offsite, false)
	if err != nil {
		return nil, err
	}
	store, err := offsite.Open(secret, cfg.PodNamespace, cfg.Spec.BackupName)
	if err != nil {
		return nil, err
	}
	var policy offsite.Policy
	if cfg.Spec.SnapshotMode() {
		policy = remotePolicy(cfg)
	}
	// Bound the heap while uploading (issue 13: agent RSS ≤ 64 MiB for 2 GiB); a GOMEMLIMIT
	// in the env, which the runtime has already applied, wins.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(offsite.MemoryLimit)
	}
	u := offsite.NewUploader(store, metrics.NewOffsite(m.Registry, cfg.Spec.BackupName), policy, uploadBackoff, logger)
	go u.Run(ctx)
	logger.Info("offsite copies on", "secret", cfg.Spec.Offsite, "where", store.Where(), "recipients", len(secret.Recipients))
	return &offsiteCopies{uploader: u, cfg: cfg}, nil
}

// remotePolicy applies backup-keep to the remote stamps, as to the local snapshots.
func remotePolicy(cfg *settings.Config) offsite.Policy {
	return func(times []time.Time) ([]bool, []string) {
		decisions := retention.Apply(times, cfg.Spec.Keep, cfg.Spec.Schedule.Location())
		keep, reasons := make([]bool, len(times)), make([]string, len(times))
		byTime := map[time.Time]retention.Decision{}
		for _, d := range decisions {
			byTime[d.Time] = d
		}
		for i, t := range times {
			d := byTime[t]
			keep[i] = d.Keep
			reasons[i] = fmt.Sprint(d.Reasons)
		}
		return keep, reasons
	}
}

// onSuccess is backup.Config.OnSuccess: nil without an offsite Secret.
func (o *offsiteCopies) onSuccess() func(backup.Run, string) {
	if o == nil {
		return nil
	}
	return o.queue
}

// queue is backup.Config.OnSuccess: it must return at once, so it only enqueues.
func (o *offsiteCopies) queue(run backup.Run, wrote string) {
	src := offsite.Source{Dir: wrote, Stamp: snapshot.Stamp(run.Start), Mode: offsite.ModeSeed, Pod: o.cfg.PodName, Kab: kabVersion()}
	if o.cfg.Spec.SnapshotMode() {
		src.Mode = offsite.ModeSnapshot
		src.Stamp = filepath.Base(wrote)
	}
	// Read as the owner of what the run wrote: the agent holds no DAC capabilities, and the
	// snapshot belongs to the app's uid (a root_squash export would refuse root anyway).
	if fi, err := os.Stat(wrote); err == nil {
		st := fi.Sys().(*syscall.Stat_t)
		src.ReadAs = &fsuser.IDs{UID: st.Uid, GID: st.Gid}
	}
	o.uploader.Enqueue(src)
}

// status is the "offsite" block of GET /status.
func (o *offsiteCopies) status() any { return o.uploader.Status() }

// kabVersion is the agent's module version, for the manifest.
func kabVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "unknown"
}
