package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/boanu/kab/shared"
)

// drillTerminationLog is where the kubelet reads a container's termination message: the
// plugin finds the copied snapshot (or why there is none) in the pod's status, without exec.
const drillTerminationLog = "/dev/termination-log"

// DrillCopied is what `kab-agent drill-copy` reports on success (stdout and termination log).
type DrillCopied struct {
	Snapshot string `json:"snapshot,omitempty"` // the stamp copied; empty in seed mode
	Files    int    `json:"files"`
	Bytes    int64  `json:"bytes"`
	Skipped  int    `json:"skipped,omitempty"` // special files (devices, fifos, sockets) not copied
}

// drillCopy is `kab-agent drill-copy` in a restore drill's kab-drill-copy init container: it
// copies the chosen snapshot (seed mode: the whole folder) from the live backup folder, mounted
// read-only, into the drill's scratch folder, laid out as a backup folder — snapshots/<stamp>/
// and latest → snapshots/<stamp> — with owners, modes and times kept, so the restore script
// runs against what it would find in the live folder. It only reads the source.
func drillCopy(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kab-agent drill-copy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	envOr := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	from := fs.String("from", envOr(shared.EnvDrillSource, "/kab-drill-source"), "the live backup folder, read-only (env "+shared.EnvDrillSource+")")
	to := fs.String("to", envOr(shared.EnvBackupDir, shared.BackupDir), "the scratch backup folder to fill (env "+shared.EnvBackupDir+")")
	snapshot := fs.String("snapshot", envOr(shared.EnvName(shared.KeyDrill), shared.DrillLatest), "latest or a snapshot stamp (env "+shared.EnvName(shared.KeyDrill)+")")
	keep := fs.String("backup-keep", getenv(shared.EnvName(shared.KeyBackupKeep)), "set: snapshot mode; empty: seed mode (env "+shared.EnvName(shared.KeyBackupKeep)+")")
	termLog := fs.String("termination-log", drillTerminationLog, "where to write the result for the kubelet (skipped when absent)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	report := func(msg string) {
		if _, err := os.Stat(*termLog); err == nil {
			_ = os.WriteFile(*termLog, []byte(msg), 0o644)
		}
	}
	copied, err := DrillCopy(*from, *to, *snapshot, *keep != "")
	if err != nil {
		fmt.Fprintln(stderr, "kab-agent drill-copy:", err)
		report(err.Error())
		return 1
	}
	out, _ := json.Marshal(copied)
	fmt.Fprintln(stdout, string(out))
	report(string(out))
	return 0
}

// DrillCopy copies what a drill restores from src into dst (both backup folders): in snapshot
// mode the snapshot named by snapshot (latest: the one the link points to) plus a latest link
// to it, in seed mode (snapshotMode false) everything, and snapshot must be latest.
func DrillCopy(src, dst, snapshot string, snapshotMode bool) (DrillCopied, error) {
	if snapshot != shared.DrillLatest && !shared.StampPattern.MatchString(snapshot) {
		return DrillCopied{}, fmt.Errorf("snapshot %q: want %q or a stamp such as 20261205T020000.000Z", snapshot, shared.DrillLatest)
	}
	if _, err := os.Stat(src); err != nil {
		return DrillCopied{}, fmt.Errorf("the live backup folder: %w", err)
	}
	c := &treeCopy{}
	if !snapshotMode {
		if snapshot != shared.DrillLatest {
			return DrillCopied{}, fmt.Errorf("snapshot %s: this backup is in seed mode (no backup-keep) and keeps no snapshots; drill latest", snapshot)
		}
		entries, err := os.ReadDir(src)
		if err != nil {
			return DrillCopied{}, fmt.Errorf("read the live backup folder: %w", err)
		}
		if len(entries) == 0 {
			return DrillCopied{}, errors.New("the live backup folder is empty: there is no backup to drill yet")
		}
		if err := c.tree(src, dst); err != nil {
			return DrillCopied{}, err
		}
		return DrillCopied{Files: c.files, Bytes: c.bytes, Skipped: c.skipped}, nil
	}

	stamp, err := chosenSnapshot(src, snapshot)
	if err != nil {
		return DrillCopied{}, err
	}
	// snapshots/ and latest keep their owners too: a restore script run as the app may list them.
	if err := c.tree(filepath.Join(src, "snapshots", stamp), filepath.Join(dst, "snapshots", stamp)); err != nil {
		return DrillCopied{}, err
	}
	if err := c.sameMeta(filepath.Join(src, "snapshots"), filepath.Join(dst, "snapshots")); err != nil {
		return DrillCopied{}, err
	}
	if err := c.sameMeta(src, dst); err != nil {
		return DrillCopied{}, err
	}
	link := filepath.Join(dst, shared.DrillLatest)
	if err := os.Symlink(filepath.Join("snapshots", stamp), link); err != nil {
		return DrillCopied{}, fmt.Errorf("link latest in the scratch folder: %w", err)
	}
	if st, err := os.Lstat(filepath.Join(src, shared.DrillLatest)); err == nil {
		sys := st.Sys().(*syscall.Stat_t)
		_ = os.Lchown(link, int(sys.Uid), int(sys.Gid))
	}
	return DrillCopied{Snapshot: stamp, Files: c.files, Bytes: c.bytes, Skipped: c.skipped}, nil
}

// chosenSnapshot resolves latest and checks the stamp names a complete snapshot; otherwise the
// error lists the ones there are, so the user can pick one.
func chosenSnapshot(src, snapshot string) (string, error) {
	stamp := snapshot
	if snapshot == shared.DrillLatest {
		target, err := os.Readlink(filepath.Join(src, shared.DrillLatest))
		if err != nil {
			return "", fmt.Errorf("the live backup folder has no latest snapshot yet (%s: %w)", shared.DrillLatest, errors.Unwrap(err))
		}
		dir, name := filepath.Split(filepath.Clean(target))
		if filepath.Clean(dir) != "snapshots" || !shared.StampPattern.MatchString(name) {
			return "", fmt.Errorf("latest points to %q, not to snapshots/<stamp>", target)
		}
		stamp = name
	}
	st, err := os.Stat(filepath.Join(src, "snapshots", stamp))
	if err == nil && st.IsDir() {
		return stamp, nil
	}
	stamps, listErr := completeSnapshots(filepath.Join(src, "snapshots"))
	switch {
	case listErr != nil:
		return "", fmt.Errorf("snapshot %s: %w", stamp, listErr)
	case len(stamps) == 0:
		return "", fmt.Errorf("snapshot %s does not exist, and there are no snapshots yet", stamp)
	}
	return "", fmt.Errorf("snapshot %s does not exist; the snapshots are: %s", stamp, strings.Join(stamps, ", "))
}

// completeSnapshots lists the complete snapshots' stamps, newest first (no .partial/.rejected).
func completeSnapshots(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var stamps []string
	for _, e := range entries {
		if e.IsDir() && shared.StampPattern.MatchString(e.Name()) {
			stamps = append(stamps, e.Name())
		}
	}
	slices.Sort(stamps)
	slices.Reverse(stamps)
	return stamps, nil
}

// treeCopy copies trees keeping owner, mode and times, and counts what it copied.
type treeCopy struct {
	files, skipped int
	bytes          int64
}

// tree copies the tree at src to dst (created, parents included). Directory metadata is set
// after their content, or writing the content would change their times again.
func (c *treeCopy) tree(src, dst string) error {
	var dirs [][2]string
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			if err := os.MkdirAll(target, 0o700); err != nil {
				return fmt.Errorf("create %s: %w", target, err)
			}
			dirs = append(dirs, [2]string{path, target})
			return nil
		case d.Type()&fs.ModeSymlink != 0:
			to, err := os.Readlink(path)
			if err != nil {
				return fmt.Errorf("read link %s: %w", path, err)
			}
			if err := os.Symlink(to, target); err != nil {
				return fmt.Errorf("create link %s: %w", target, err)
			}
			return c.sameOwner(path, target)
		case d.Type().IsRegular():
			if err := c.file(path, target); err != nil {
				return err
			}
			return c.sameMeta(path, target)
		}
		c.skipped++
		return nil
	})
	if err != nil {
		return err
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := c.sameMeta(dirs[i][0], dirs[i][1]); err != nil {
			return err
		}
	}
	return nil
}

func (c *treeCopy) file(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("read %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", dst, err)
	}
	n, err := io.Copy(out, in)
	if closeErr := out.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	c.files++
	c.bytes += n
	return nil
}

// sameOwner gives dst (not following links) the owner of src.
func (c *treeCopy) sameOwner(src, dst string) error {
	st, err := os.Lstat(src)
	if err != nil {
		return fmt.Errorf("stat %s: %w", src, err)
	}
	sys := st.Sys().(*syscall.Stat_t)
	if err := os.Lchown(dst, int(sys.Uid), int(sys.Gid)); err != nil {
		return fmt.Errorf("give %s to %d:%d: %w", dst, sys.Uid, sys.Gid, err)
	}
	return nil
}

// sameMeta gives dst the owner, mode and modification time of src. The owner goes first:
// changing it clears set-id bits, which the mode then restores.
func (c *treeCopy) sameMeta(src, dst string) error {
	if err := c.sameOwner(src, dst); err != nil {
		return err
	}
	st, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("stat %s: %w", src, err)
	}
	if err := os.Chmod(dst, st.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
		return fmt.Errorf("chmod %s: %w", dst, err)
	}
	sys := st.Sys().(*syscall.Stat_t)
	atime := time.Unix(sys.Atim.Sec, sys.Atim.Nsec)
	if err := os.Chtimes(dst, atime, st.ModTime()); err != nil {
		return fmt.Errorf("set times of %s: %w", dst, err)
	}
	return nil
}
