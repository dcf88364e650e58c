package kube

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type entry struct {
	name, body, link string
	typ              byte
}

func tarOf(t *testing.T, entries ...entry) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o640, Size: int64(len(e.body)), Linkname: e.link}
		if e.typ == tar.TypeDir {
			hdr.Mode, hdr.Size = 0o750, 0
		}
		if e.typ == tar.TypeSymlink {
			hdr.Size = 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf
}

// A snapshot as `tar -C dir .` sends it unpacks with its folders, files and inner links.
func TestUntarSnapshot(t *testing.T) {
	dir := t.TempDir()
	var lastFiles int
	bytesDone, files, err := Untar(tarOf(t,
		entry{name: "./", typ: tar.TypeDir},
		entry{name: "./db/", typ: tar.TypeDir},
		entry{name: "./db/dump.sql", body: "CREATE TABLE t;\n", typ: tar.TypeReg},
		entry{name: "./db/current.sql", link: "dump.sql", typ: tar.TypeSymlink},
		entry{name: "./MANIFEST", body: "1\n", typ: tar.TypeReg},
	), dir, func(_ int64, f int) { lastFiles = f })
	if err != nil {
		t.Fatal(err)
	}
	if files != 2 || bytesDone != 18 || lastFiles != 2 {
		t.Errorf("files %d bytes %d progress %d, want 2, 18, 2", files, bytesDone, lastFiles)
	}
	got, err := os.ReadFile(filepath.Join(dir, "db", "current.sql"))
	if err != nil || string(got) != "CREATE TABLE t;\n" {
		t.Errorf("db/current.sql through its link: %q %v", got, err)
	}
}

// A stream from a pod must not write outside the target folder.
func TestUntarRefusesEscapes(t *testing.T) {
	for name, e := range map[string]entry{
		"dot-dot":        {name: "../evil", body: "x", typ: tar.TypeReg},
		"nested dot-dot": {name: "./a/../../evil", body: "x", typ: tar.TypeReg},
		"absolute":       {name: "/etc/evil", body: "x", typ: tar.TypeReg},
		"absolute link":  {name: "./l", link: "/etc", typ: tar.TypeSymlink},
		"link out":       {name: "./a/l", link: "../../etc", typ: tar.TypeSymlink},
	} {
		t.Run(name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "copy")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			_, _, err := Untar(tarOf(t, e), dir, nil)
			if err == nil || !strings.Contains(err.Error(), "refused") {
				t.Errorf("err %v, want a refusal", err)
			}
			if left, _ := os.ReadDir(parent); len(left) != 1 {
				t.Errorf("something was written beside the copy: %v", left)
			}
		})
	}
}
