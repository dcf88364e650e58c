package cli

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	older = "20261204T020000.000Z"
	newer = "20261205T020000.000Z"
)

// liveFolder builds a snapshot-mode backup folder as the agent leaves it: two snapshots, latest
// on the newer, a partial and a rejected run, files owned by the app (uid 1000) with their own
// modes and times.
func liveFolder(t *testing.T) string {
	t.Helper()
	src := t.TempDir()
	mtime := time.Date(2026, 12, 5, 2, 0, 1, 0, time.UTC)
	for _, stamp := range []string{older, newer, "20261205T030000.000Z.partial", "20261205T040000.000Z.rejected"} {
		dir := filepath.Join(src, "snapshots", stamp)
		must(t, os.MkdirAll(filepath.Join(dir, "sub"), 0o750))
		must(t, os.WriteFile(filepath.Join(dir, "db.sql"), []byte("dump of "+stamp), 0o640))
		must(t, os.WriteFile(filepath.Join(dir, "sub", "blob"), bytes.Repeat([]byte{7}, 4096), 0o600))
		must(t, os.Symlink("db.sql", filepath.Join(dir, "current.sql")))
		for _, p := range []string{dir, filepath.Join(dir, "sub"), filepath.Join(dir, "db.sql"), filepath.Join(dir, "sub", "blob"), filepath.Join(dir, "current.sql")} {
			must(t, os.Lchown(p, 1000, 1000))
		}
		must(t, os.Chtimes(filepath.Join(dir, "db.sql"), mtime, mtime))
		must(t, os.Chtimes(dir, mtime, mtime))
	}
	must(t, os.Chown(filepath.Join(src, "snapshots"), 1000, 1000))
	must(t, os.Symlink("snapshots/"+newer, filepath.Join(src, "latest")))
	must(t, os.Lchown(filepath.Join(src, "latest"), 1000, 1000))
	must(t, os.Chown(src, 1000, 1000))
	return src
}

func TestDrillCopyLatestSnapshot(t *testing.T) {
	src := liveFolder(t)
	before := treeSum(t, src)
	dst := filepath.Join(t.TempDir(), "scratch")

	got, err := DrillCopy(src, dst, "latest", true)
	if err != nil {
		t.Fatal(err)
	}
	if want := (DrillCopied{Snapshot: newer, Files: 2, Bytes: int64(len("dump of "+newer)) + 4096}); got != want {
		t.Errorf("copied %+v, want %+v", got, want)
	}
	if after := treeSum(t, src); after != before {
		t.Errorf("the live folder changed during the copy:\nbefore %s\nafter  %s", before, after)
	}
	if link, err := os.Readlink(filepath.Join(dst, "latest")); err != nil || link != "snapshots/"+newer {
		t.Errorf("scratch latest -> %q (%v), want snapshots/%s", link, err, newer)
	}
	entries, _ := os.ReadDir(filepath.Join(dst, "snapshots"))
	if len(entries) != 1 || entries[0].Name() != newer {
		t.Errorf("scratch snapshots/ holds %v, want only %s", entries, newer)
	}
	// Owners, modes and times as in the live folder, links kept as links.
	want := treeSum(t, filepath.Join(src, "snapshots", newer))
	if got := treeSum(t, filepath.Join(dst, "snapshots", newer)); got != want {
		t.Errorf("the copy differs from the snapshot:\ncopy     %s\nsnapshot %s", got, want)
	}
	for _, p := range []string{dst, filepath.Join(dst, "snapshots"), filepath.Join(dst, "latest")} {
		st, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		if sys := st.Sys().(*syscall.Stat_t); sys.Uid != 1000 || sys.Gid != 1000 {
			t.Errorf("%s belongs to %d:%d, want the app's 1000:1000", p, sys.Uid, sys.Gid)
		}
	}
}

func TestDrillCopyOneStamp(t *testing.T) {
	src := liveFolder(t)
	dst := t.TempDir()
	got, err := DrillCopy(src, dst, older, true)
	if err != nil || got.Snapshot != older {
		t.Fatalf("copied %+v, %v; want snapshot %s", got, err, older)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "latest", "db.sql")); string(b) != "dump of "+older {
		t.Errorf("scratch latest/db.sql = %q, want the older snapshot's dump", b)
	}
}

func TestDrillCopyRefuses(t *testing.T) {
	src := liveFolder(t)
	seed := t.TempDir()
	must(t, os.WriteFile(filepath.Join(seed, "db.sql"), []byte("seed"), 0o600))
	for _, c := range []struct {
		name, src, snapshot string
		snapshotMode        bool
		want                string
	}{
		{"unknown stamp lists the snapshots", src, "20261201T000000.000Z", true,
			"snapshot 20261201T000000.000Z does not exist; the snapshots are: " + newer + ", " + older},
		{"a partial run is no snapshot", src, "20261205T030000.000Z", true, "does not exist; the snapshots are: "},
		{"not a stamp", src, "../../etc", true, `snapshot "../../etc": want "latest" or a stamp`},
		{"no snapshots yet", t.TempDir(), "latest", true, "the live backup folder has no latest snapshot yet"},
		{"seed mode has no stamps", seed, newer, false, "seed mode (no backup-keep) and keeps no snapshots; drill latest"},
		{"empty seed folder", t.TempDir(), "latest", false, "the live backup folder is empty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := DrillCopy(c.src, t.TempDir(), c.snapshot, c.snapshotMode)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want it to say %q", err, c.want)
			}
		})
	}
}

func TestDrillCopySeedMode(t *testing.T) {
	src := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(src, "a", "b"), 0o755))
	must(t, os.WriteFile(filepath.Join(src, "a", "b", "f"), []byte("hello"), 0o644))
	must(t, os.WriteFile(filepath.Join(src, "top"), []byte("x"), 0o600))
	dst := t.TempDir()
	got, err := DrillCopy(src, dst, "latest", false)
	if err != nil || got != (DrillCopied{Files: 2, Bytes: 6}) {
		t.Fatalf("copied %+v, %v; want 2 files, 6 bytes", got, err)
	}
	if a, b := treeSum(t, src), treeSum(t, dst); a != b {
		t.Errorf("the scratch folder differs from the seed folder:\n%s\n%s", b, a)
	}
}

// The subcommand: its result reaches the kubelet through the termination log, on success and
// on failure, so the plugin can read it from the pod's status.
func TestDrillCopyCommand(t *testing.T) {
	src := liveFolder(t)
	termLog := filepath.Join(t.TempDir(), "termination-log")
	must(t, os.WriteFile(termLog, nil, 0o644))
	env := map[string]string{"KAB_DRILL_SOURCE": src, "KAB_BACKUP_DIR": t.TempDir(), "KAB_BACKUP_KEEP": "3", "KAB_DRILL": "latest"}
	var stdout, stderr bytes.Buffer
	if code := drillCopy([]string{"--termination-log", termLog}, func(k string) string { return env[k] }, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var copied DrillCopied
	msg, _ := os.ReadFile(termLog)
	if err := json.Unmarshal(msg, &copied); err != nil || copied.Snapshot != newer {
		t.Errorf("termination log %q (%v): want the copied snapshot %s", msg, err, newer)
	}

	env["KAB_DRILL"], env["KAB_BACKUP_DIR"] = "20261101T000000.000Z", t.TempDir()
	stdout.Reset()
	stderr.Reset()
	if code := drillCopy([]string{"--termination-log", termLog}, func(k string) string { return env[k] }, &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d for an unknown stamp, want 1", code)
	}
	msg, _ = os.ReadFile(termLog)
	if !strings.Contains(string(msg), "snapshot 20261101T000000.000Z does not exist; the snapshots are: "+newer) {
		t.Errorf("termination log %q: want the unknown stamp and the list", msg)
	}
}

// treeSum fingerprints a tree: every entry's path, type, mode, owner, mtime, link target and
// content hash (a link's own time is not kept by the copy, nor looked at by restore scripts).
func treeSum(t *testing.T, root string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		st, err := os.Lstat(path)
		if err != nil {
			return err
		}
		sys := st.Sys().(*syscall.Stat_t)
		rel, _ := filepath.Rel(root, path)
		fmt.Fprintf(h, "%s %v %d:%d", rel, st.Mode(), sys.Uid, sys.Gid)
		if st.Mode().IsRegular() {
			fmt.Fprintf(h, " %d", st.ModTime().UnixNano())
		}
		switch {
		case st.Mode()&fs.ModeSymlink != 0:
			to, _ := os.Readlink(path)
			fmt.Fprintf(h, " -> %s", to)
		case st.Mode().IsRegular():
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, " %x", sha256.Sum256(b))
		}
		fmt.Fprintln(h)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
