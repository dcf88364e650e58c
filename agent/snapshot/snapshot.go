// Package snapshot keeps the snapshot-mode layout of a backup folder (DESIGN.md §6):
//
//	snapshots/<stamp>.partial/   the run in progress (the command's KAB_BACKUP_DIR)
//	snapshots/<stamp>/           complete runs, newest N kept
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
)

// StampLayout is the UTC start time of a run: names sort by time.
const StampLayout = "20060102T150405.000Z"

const (
	dirName       = "snapshots"
	partialSuffix = ".partial"
	latestName    = "latest"
	tmpLinkPrefix = ".latest.tmp-"
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

// Prune removes the oldest complete snapshots beyond keep and returns how many remain.
func (s Store) Prune(keep int) (remaining int, removed []string, err error) {
	err = fsuser.Do(s.IDs, func() error {
		names, err := s.complete()
		if err != nil {
			return err
		}
		for len(names) > keep {
			if err := os.RemoveAll(filepath.Join(s.Dir, dirName, names[0])); err != nil {
				return fmt.Errorf("remove old snapshot %s: %w", names[0], err)
			}
			removed = append(removed, names[0])
			names = names[1:]
		}
		remaining = len(names)
		return nil
	})
	return remaining, removed, err
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
