package kube

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Progress is told how far an unpack got.
type Progress func(bytes int64, files int)

// Untar unpacks a tar stream into dir, which must exist. Entries that would land outside dir
// (absolute names, "..", links pointing out) are refused: the stream comes from a pod.
func Untar(r io.Reader, dir string, progress Progress) (bytes int64, files int, err error) {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return bytes, files, nil
		}
		if err != nil {
			return bytes, files, fmt.Errorf("reading the tar stream: %w", err)
		}
		target, err := inside(dir, hdr.Name)
		if err != nil {
			return bytes, files, err
		}
		mode := os.FileMode(hdr.Mode).Perm()
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, mode|0o700); err != nil {
				return bytes, files, err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return bytes, files, err
			}
			f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode|0o600)
			if err != nil {
				return bytes, files, err
			}
			n, err := io.Copy(f, tr)
			bytes += n
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return bytes, files, fmt.Errorf("writing %s: %w", target, err)
			}
			files++
			if progress != nil {
				progress(bytes, files)
			}
		case tar.TypeSymlink:
			if filepath.IsAbs(hdr.Linkname) {
				return bytes, files, fmt.Errorf("tar entry %q links to the absolute path %q: refused", hdr.Name, hdr.Linkname)
			}
			if _, err := inside(dir, filepath.Join(filepath.Dir(hdr.Name), hdr.Linkname)); err != nil {
				return bytes, files, fmt.Errorf("tar entry %q links outside the copy: refused", hdr.Name)
			}
			if err := os.Symlink(hdr.Linkname, target); err != nil {
				return bytes, files, err
			}
		default:
			// Devices, fifos and hard links have no place in a backup copy; say so, don't stop.
			fmt.Fprintf(os.Stderr, "kubectl-kab: skipped %q (tar type %q)\n", hdr.Name, hdr.Typeflag)
		}
	}
}

func inside(dir, name string) (string, error) {
	clean := filepath.Clean("/" + name)
	if name == "" || filepath.IsAbs(name) || strings.Contains("/"+filepath.ToSlash(name)+"/", "/../") {
		return "", fmt.Errorf("tar entry %q would land outside the target folder: refused", name)
	}
	return filepath.Join(dir, clean), nil
}
