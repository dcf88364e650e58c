package fsuser_test

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/boanu/kab/agent/fsuser"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func owner(t *testing.T, path string) (uint32, uint32) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return st.Uid, st.Gid
}

// Files made inside Do belong to the given ids, the root-owned folder is out of reach, and the
// caller's own thread is untouched.
func TestDoActsAsTheGivenIDsOnlyInside(t *testing.T) {
	dir := openTempDir(t)
	mine := filepath.Join(dir, "app")
	if err := os.Mkdir(mine, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(mine, 1000, 1000); err != nil {
		t.Fatal(err)
	}
	err := fsuser.Do(fsuser.IDs{UID: 1000, GID: 1000}, func() error {
		if err := os.WriteFile(filepath.Join(mine, "f"), nil, 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "denied"), nil, 0o644); !errors.Is(err, os.ErrPermission) {
			return errors.New("wrote into a root-owned folder as uid 1000")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if uid, gid := owner(t, filepath.Join(mine, "f")); uid != 1000 || gid != 1000 {
		t.Errorf("file owned by %d:%d, want 1000:1000", uid, gid)
	}
	for range 20 { // other goroutines' threads must not have inherited the ids
		p := filepath.Join(dir, "root-file")
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if uid, _ := owner(t, p); uid != 0 {
			t.Fatalf("a file written outside Do is owned by %d", uid)
		}
	}
}

// openTempDir is a temporary folder that other users may traverse (t.TempDir's are 0700).
func openTempDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
