package offsite

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestTarRoundTrip(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	writeTree(t, src, 100_000)
	var buf bytes.Buffer
	files, err := writeTar(&buf, src)
	if err != nil || files != 4 {
		t.Fatalf("writeTar: files %d, err %v; want 4 files", files, err)
	}
	got, err := unpackTar(&buf, dst)
	if err != nil || got != 4 {
		t.Fatalf("unpackTar: files %d, err %v", got, err)
	}
	sameTree(t, src, dst)
}

func TestUnpackRefusesEscapes(t *testing.T) {
	for name, entries := range map[string][]tar.Header{
		"absolute":      {{Name: "/etc/passwd", Typeflag: tar.TypeReg, Mode: 0o644}},
		"dotdot":        {{Name: "../outside", Typeflag: tar.TypeReg, Mode: 0o644}},
		"inner dotdot":  {{Name: "a/../../outside", Typeflag: tar.TypeReg, Mode: 0o644}},
		"through link":  {{Name: "l", Typeflag: tar.TypeSymlink, Linkname: "/tmp"}, {Name: "l/x", Typeflag: tar.TypeReg, Mode: 0o644}},
		"through link2": {{Name: "d/l", Typeflag: tar.TypeSymlink, Linkname: ".."}, {Name: "d/l/sub/x", Typeflag: tar.TypeReg, Mode: 0o644}},
	} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			for _, h := range entries {
				if err := tw.WriteHeader(&h); err != nil {
					t.Fatal(err)
				}
			}
			tw.Close()
			root := t.TempDir()
			dir := filepath.Join(root, "in")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if _, err := unpackTar(&buf, dir); !errors.Is(err, errUnsafeEntry) {
				t.Fatalf("unpackTar: %v, want errUnsafeEntry", err)
			}
			if _, err := os.Stat(filepath.Join(root, "outside")); err == nil {
				t.Fatal("a file was written outside the target folder")
			}
		})
	}
}
