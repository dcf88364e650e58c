package verify

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/boanu/kab/agent/fsuser"
)

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Measure counts regular files only (not links, not folders), and with since only those whose
// ctime is at or after it: an old mtime does not hide a fresh copy.
func TestMeasure(t *testing.T) {
	dir := t.TempDir()
	ids := fsuser.IDs{UID: uint32(os.Getuid()), GID: uint32(os.Getgid())}
	write(t, filepath.Join(dir, "old.db"), "old rows")
	write(t, filepath.Join(dir, "sub", "empty"), "")
	if err := os.Symlink("old.db", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	c, err := Measure(dir, ids, time.Time{})
	if err != nil || c != (Content{Bytes: 8, Files: 2, NonEmpty: 1}) {
		t.Fatalf("everything: %+v, %v", c, err)
	}

	time.Sleep(20 * time.Millisecond) // past the coarse file clock's tick
	since := time.Now()
	if c, err := Measure(dir, ids, since); err != nil || !c.Empty() || c.Files != 0 {
		t.Errorf("nothing changed since: %+v, %v", c, err)
	}
	time.Sleep(20 * time.Millisecond)
	write(t, filepath.Join(dir, "new.db"), "new")
	ancient := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(dir, "new.db"), ancient, ancient); err != nil {
		t.Fatal(err)
	}
	c, err = Measure(dir, ids, since)
	if err != nil || c != (Content{Bytes: 3, Files: 1, NonEmpty: 1}) {
		t.Errorf("a fresh file with an old mtime: %+v, %v", c, err)
	}

	if _, err := Measure(filepath.Join(dir, "missing"), ids, time.Time{}); err == nil {
		t.Error("a missing folder measured without error")
	}
}
