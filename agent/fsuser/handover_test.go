package fsuser_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/boanu/kab/agent/fsuser"
)

// A root-owned empty folder goes to the app; a folder with content, one that is not root's, and
// any folder for a root app are left as they are.
func TestHandOver(t *testing.T) {
	app := fsuser.IDs{UID: 1000, GID: 1001}
	dir := func(t *testing.T) string {
		d := filepath.Join(t.TempDir(), "my-app")
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	t.Run("root-owned empty", func(t *testing.T) {
		d := dir(t)
		if err := fsuser.HandOver(d, app); err != nil {
			t.Fatal(err)
		}
		if uid, gid := owner(t, d); uid != 1000 || gid != 1001 {
			t.Fatalf("owned by %d:%d, want 1000:1001", uid, gid)
		}
	})
	t.Run("not empty", func(t *testing.T) {
		d := dir(t)
		if err := os.WriteFile(filepath.Join(d, "f"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := fsuser.HandOver(d, app); err != nil {
			t.Fatal(err)
		}
		if uid, _ := owner(t, d); uid != 0 {
			t.Fatalf("a folder with content was given to %d", uid)
		}
	})
	t.Run("someone else's", func(t *testing.T) {
		d := dir(t)
		if err := os.Chown(d, 2000, 2000); err != nil {
			t.Fatal(err)
		}
		if err := fsuser.HandOver(d, app); err != nil {
			t.Fatal(err)
		}
		if uid, _ := owner(t, d); uid != 2000 {
			t.Fatalf("uid 2000's folder was given to %d", uid)
		}
	})
	t.Run("root app", func(t *testing.T) {
		d := dir(t)
		if err := fsuser.HandOver(d, fsuser.IDs{}); err != nil {
			t.Fatal(err)
		}
		if uid, _ := owner(t, d); uid != 0 {
			t.Fatalf("owned by %d", uid)
		}
	})
	t.Run("missing", func(t *testing.T) {
		if err := fsuser.HandOver(filepath.Join(t.TempDir(), "nope"), app); err == nil {
			t.Fatal("no error for a missing folder")
		}
	})
}
