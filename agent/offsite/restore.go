package offsite

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"filippo.io/age"
)

// Folder layout shared with agent/snapshot (DESIGN.md §6).
const (
	snapshotsDir = "snapshots"
	latestLink   = "latest"
	seedPartial  = ".kab-fetch.partial"
)

// HasBackup reports whether the backup folder already holds a backup: in snapshot mode a
// `latest` link, in seed mode any regular file.
func HasBackup(dir string, snapshotMode bool) (bool, error) {
	if snapshotMode {
		_, err := os.Lstat(filepath.Join(dir, latestLink))
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return err == nil, err
	}
	found := errors.New("found")
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			return found
		}
		return nil
	})
	if errors.Is(err, found) {
		return true, nil
	}
	return false, err
}

// Restore fetches m into the backup folder dir: as snapshots/<stamp>/ with latest pointing at
// it (snapshot mode), or as the folder's files (seed mode). It unpacks into a temporary folder
// first, so a failed download or a sha256 mismatch leaves dir as it was.
func (s *Store) Restore(ctx context.Context, m Manifest, identities []age.Identity, dir string, snapshotMode bool) (files int, err error) {
	if snapshotMode {
		return s.restoreSnapshot(ctx, m, identities, dir)
	}
	return s.restoreSeed(ctx, m, identities, dir)
}

func (s *Store) restoreSnapshot(ctx context.Context, m Manifest, identities []age.Identity, dir string) (int, error) {
	final := filepath.Join(snapshotsDir, m.Stamp)
	partial := filepath.Join(dir, final+".partial")
	if err := os.RemoveAll(partial); err != nil {
		return 0, err
	}
	if err := os.MkdirAll(partial, 0o755); err != nil {
		return 0, err
	}
	files, err := s.Download(ctx, m, identities, partial)
	if err != nil {
		_ = os.RemoveAll(partial)
		return files, err
	}
	if err := os.Rename(partial, filepath.Join(dir, final)); err != nil {
		return files, err
	}
	tmp := filepath.Join(dir, ".latest.tmp-"+m.Stamp)
	_ = os.Remove(tmp)
	if err := os.Symlink(final, tmp); err != nil {
		return files, err
	}
	return files, os.Rename(tmp, filepath.Join(dir, latestLink))
}

func (s *Store) restoreSeed(ctx context.Context, m Manifest, identities []age.Identity, dir string) (int, error) {
	partial := filepath.Join(dir, seedPartial)
	if err := os.RemoveAll(partial); err != nil {
		return 0, err
	}
	if err := os.Mkdir(partial, 0o700); err != nil {
		return 0, err
	}
	defer os.RemoveAll(partial)
	files, err := s.Download(ctx, m, identities, partial)
	if err != nil {
		return files, err
	}
	entries, err := os.ReadDir(partial)
	if err != nil {
		return files, err
	}
	for _, e := range entries {
		if err := os.Rename(filepath.Join(partial, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			return files, fmt.Errorf("move %s into place: %w", e.Name(), err)
		}
	}
	return files, nil
}
