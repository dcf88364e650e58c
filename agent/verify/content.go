// Package verify judges what a backup run wrote before kab calls it a success (DESIGN.md §6):
// it measures the run's output (size, files, whether anything at all was written) and runs the
// user's verification script on it in the app's view.
package verify

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/boanu/kab/agent/fsuser"
)

// Content is what a run wrote.
type Content struct {
	Bytes      int64 // apparent size of the regular files counted
	Files      int64 // regular files counted
	NonEmpty   int64 // of which hold at least one byte
	Unreadable int64 // folders the app cannot read, skipped
}

// Empty reports a run that wrote no regular file with at least one byte: an empty folder, or
// only empty files, is not a backup.
func (c Content) Empty() bool { return c.NonEmpty == 0 }

// Measure walks dir as ids, without following links. With since zero it counts every regular
// file (a snapshot's .partial folder holds only this run's output); otherwise only files whose
// status changed at or after since — ctime, not mtime, because a copy that keeps the source's
// mtime (cp -a, tar x, rsync -t) still sets a fresh ctime, and a user cannot set ctime back.
func Measure(dir string, ids fsuser.IDs, since time.Time) (c Content, err error) {
	err = fsuser.Do(ids, func() error {
		return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if path == dir {
					return err
				}
				// A folder the app cannot read (lost+found on a fresh volume) is not the run's
				// output: the app's own backup command could not have written there either.
				c.Unreadable++
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() {
				return nil
			}
			info, err := d.Info()
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed while walked
			}
			if err != nil {
				return err
			}
			if !since.IsZero() && changed(info).Before(since) {
				return nil
			}
			c.Files++
			c.Bytes += info.Size()
			if info.Size() > 0 {
				c.NonEmpty++
			}
			return nil
		})
	})
	return c, err
}

// changed is a file's ctime, its last status change.
func changed(info os.FileInfo) time.Time {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return time.Unix(st.Ctim.Sec, st.Ctim.Nsec)
	}
	return info.ModTime()
}
