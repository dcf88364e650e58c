package offsite

import (
	"bytes"
	"crypto/rand"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"filippo.io/age"
)

type testKeys struct {
	recipient, identity string
	id                  *age.X25519Identity
}

func newKeys(t *testing.T) testKeys {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return testKeys{recipient: id.Recipient().String(), identity: id.String(), id: id}
}

// writeTree makes a small backup: nested folders, an empty file, random bytes, a symlink.
func writeTree(t *testing.T, dir string, randomBytes int) {
	t.Helper()
	random := make([]byte, randomBytes)
	_, _ = rand.Read(random)
	files := map[string][]byte{
		"dump.sql":            []byte("CREATE TABLE notes(id int);\nINSERT INTO notes VALUES (1);\n"),
		"media/blob.bin":      random,
		"media/deeper/empty":  nil,
		"media/deeper/x.json": []byte(`{"k":"v"}`),
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, content, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("dump.sql", filepath.Join(dir, "current.sql")); err != nil {
		t.Fatal(err)
	}
}

// sameTree fails unless want and got hold the same files, links and file modes.
func sameTree(t *testing.T, want, got string) {
	t.Helper()
	seen := map[string]bool{}
	err := filepath.WalkDir(want, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(want, p)
		seen[rel] = true
		wi, _ := os.Lstat(p)
		gi, err := os.Lstat(filepath.Join(got, rel))
		if err != nil {
			t.Errorf("%s: missing after restore: %v", rel, err)
			return nil
		}
		switch {
		case wi.Mode()&fs.ModeSymlink != 0:
			wl, _ := os.Readlink(p)
			gl, _ := os.Readlink(filepath.Join(got, rel))
			if wl != gl {
				t.Errorf("%s: link %q, want %q", rel, gl, wl)
			}
		case wi.Mode().IsRegular():
			wb, _ := os.ReadFile(p)
			gb, _ := os.ReadFile(filepath.Join(got, rel))
			if !bytes.Equal(wb, gb) || wi.Mode() != gi.Mode() {
				t.Errorf("%s: content or mode differs (mode %v, want %v)", rel, gi.Mode(), wi.Mode())
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = filepath.WalkDir(got, func(p string, d fs.DirEntry, err error) error {
		if rel, _ := filepath.Rel(got, p); err == nil && !seen[rel] {
			t.Errorf("%s: restored but not in the backup", rel)
		}
		return nil
	})
}
