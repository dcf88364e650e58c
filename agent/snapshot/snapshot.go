// Package snapshot keeps the snapshot-mode layout of a backup folder (DESIGN.md §6):
//
//	snapshots/<stamp>.partial/   the run in progress (the command's KAB_BACKUP_DIR)
//	snapshots/<stamp>.rejected/  the newest run refused as empty or by backup-verify
//	snapshots/<stamp>/           complete runs, those the backup-keep policy keeps
//	latest -> snapshots/<stamp>  relative link to the newest complete run
//
// A failed or half-written run never replaces the last good one: the link only moves after a
// run succeeded, and moves atomically (a temporary link renamed over it). Every operation runs
// on a thread switched to the app's fs uid/gid, so what it creates belongs to the app and it
// works on volumes the agent's root cannot write (NFS root_squash).
package snapshot

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/boanu/kab/agent/fsuser"
	"github.com/boanu/kab/agent/retention"
	"github.com/boanu/kab/shared"
)

// StampLayout is the UTC start time of a run: names sort by time.
const StampLayout = "20060102T150405.000Z"

const (
	dirName       = "snapshots"
	partialSuffix = ".partial"
	// rejectedSuffix marks the newest run that was refused (DESIGN.md §6).
	rejectedSuffix = ".rejected"
	latestName     = "latest"
	tmpLinkPrefix  = ".latest.tmp-"
)

// Stamp names the snapshot of a run started at t.
func Stamp(t time.Time) string { return t.UTC().Format(StampLayout) }

func isStamp(name string) bool {
	_, err := time.Parse(StampLayout, name)
	return err == nil
}

// Store is a backup folder in snapshot mode, as the agent sees it, worked on as IDs.
type Store struct {
	Dir string // the backup folder in the agent's mount namespace
	IDs fsuser.IDs
}

// PartialPath is the run's folder while it runs, relative to the backup folder.
func PartialPath(stamp string) string { return filepath.Join(dirName, stamp+partialSuffix) }

// RemoveStale removes what a killed agent left: partial snapshots and temporary links.
func (s Store) RemoveStale() (removed []string, err error) {
	err = fsuser.Do(s.IDs, func() error {
		entries, err := os.ReadDir(filepath.Join(s.Dir, dirName))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), partialSuffix) {
				if err := os.RemoveAll(filepath.Join(s.Dir, dirName, e.Name())); err != nil {
					return err
				}
				removed = append(removed, filepath.Join(dirName, e.Name()))
			}
		}
		links, _ := filepath.Glob(filepath.Join(s.Dir, tmpLinkPrefix+"*"))
		for _, l := range links {
			if err := os.Remove(l); err != nil {
				return err
			}
			removed = append(removed, filepath.Base(l))
		}
		return nil
	})
	return removed, err
}

// Begin creates the run's partial folder.
func (s Store) Begin(stamp string) error {
	return fsuser.Do(s.IDs, func() error {
		if err := os.MkdirAll(filepath.Join(s.Dir, dirName), 0o755); err != nil {
			return fmt.Errorf("create %s: %w", dirName, err)
		}
		if err := os.Mkdir(filepath.Join(s.Dir, PartialPath(stamp)), 0o755); err != nil {
			return fmt.Errorf("create the run's folder: %w", err)
		}
		return nil
	})
}

// Abort removes a failed run's folder.
func (s Store) Abort(stamp string) error {
	return fsuser.Do(s.IDs, func() error {
		return os.RemoveAll(filepath.Join(s.Dir, PartialPath(stamp)))
	})
}

// CompletePath is a promoted run's folder, relative to the backup folder.
func CompletePath(stamp string) string { return filepath.Join(dirName, stamp) }

// RejectedPath is where a run whose output was refused (empty, or failed its verification) is
// kept for inspection, relative to the backup folder. It is never a snapshot: retention does
// not count it and latest never points to it.
func RejectedPath(stamp string) string { return filepath.Join(dirName, stamp+rejectedSuffix) }

// Reject keeps a refused run's folder as the single rejected one: older rejected folders go, so
// a backup that fails its check every night does not fill the volume.
func (s Store) Reject(stamp string) error {
	return fsuser.Do(s.IDs, func() error {
		old, err := filepath.Glob(filepath.Join(s.Dir, dirName, "*"+rejectedSuffix))
		if err != nil {
			return err
		}
		for _, o := range old {
			if err := os.RemoveAll(o); err != nil {
				return fmt.Errorf("remove the older rejected run %s: %w", filepath.Base(o), err)
			}
		}
		if err := os.Rename(filepath.Join(s.Dir, PartialPath(stamp)), filepath.Join(s.Dir, RejectedPath(stamp))); err != nil {
			return fmt.Errorf("keep the rejected run: %w", err)
		}
		return nil
	})
}

// Commit turns a successful run's folder into a snapshot and points latest at it.
func (s Store) Commit(stamp string) error {
	return fsuser.Do(s.IDs, func() error {
		final := filepath.Join(dirName, stamp)
		if err := os.Rename(filepath.Join(s.Dir, PartialPath(stamp)), filepath.Join(s.Dir, final)); err != nil {
			return fmt.Errorf("complete the snapshot: %w", err)
		}
		tmp := filepath.Join(s.Dir, tmpLinkPrefix+stamp)
		_ = os.Remove(tmp)
		if err := os.Symlink(final, tmp); err != nil {
			return fmt.Errorf("link latest: %w", err)
		}
		// rename(2) replaces the old link in one step: a reader sees the old or the new
		// snapshot, never no latest at all.
		if err := os.Rename(tmp, filepath.Join(s.Dir, latestName)); err != nil {
			_ = os.Remove(tmp)
			return fmt.Errorf("replace latest: %w", err)
		}
		return nil
	})
}

// Pruned is what Prune did: the snapshots removed, oldest first, and the policy's decision for
// each snapshot it looked at (newest first, with the reasons a kept one survives).
type Pruned struct {
	Remaining int
	Removed   []string
	Decisions []retention.Decision
}

// Prune removes the complete snapshots the backup-keep policy does not keep, counting periods
// in loc (DESIGN.md §9). The snapshot latest points to is never removed, whatever the policy
// says: the last good backup is not eaten by a policy that disagrees with the clock.
func (s Store) Prune(policy shared.KeepPolicy, loc *time.Location) (p Pruned, err error) {
	err = fsuser.Do(s.IDs, func() error {
		names, err := s.complete()
		if err != nil {
			return err
		}
		latest, _ := os.Readlink(filepath.Join(s.Dir, latestName))
		byTime := make(map[time.Time]string, len(names))
		times := make([]time.Time, 0, len(names))
		for _, n := range names {
			t, _ := time.Parse(StampLayout, n) // complete() lists only valid stamps
			byTime[t] = n
			times = append(times, t)
		}
		p.Decisions = retention.Apply(times, policy, loc)
		for i := len(p.Decisions) - 1; i >= 0; i-- { // oldest first
			d := p.Decisions[i]
			name := byTime[d.Time]
			if d.Keep || filepath.Join(dirName, name) == latest {
				p.Remaining++
				continue
			}
			if err := os.RemoveAll(filepath.Join(s.Dir, dirName, name)); err != nil {
				return fmt.Errorf("remove old snapshot %s: %w", name, err)
			}
			p.Removed = append(p.Removed, name)
		}
		return nil
	})
	return p, err
}

// Count is the number of complete snapshots.
func (s Store) Count() (n int, err error) {
	err = fsuser.Do(s.IDs, func() error {
		names, err := s.complete()
		n = len(names)
		return err
	})
	return n, err
}

// complete lists complete snapshot names, oldest first.
func (s Store) complete() ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(s.Dir, dirName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && isStamp(e.Name()) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

// Size is the apparent size (sum of file lengths) of everything under dir, walked as ids
// without following links (latest would count the newest snapshot twice).
func Size(dir string, ids fsuser.IDs) (total int64, err error) {
	err = fsuser.Do(ids, func() error {
		return filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil // unreadable parts are skipped: the size is a gauge, not a check
			}
			if d.Type().IsRegular() {
				if info, err := d.Info(); err == nil {
					total += info.Size()
				}
			}
			return nil
		})
	})
	return total, err
}
