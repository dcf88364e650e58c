package offsite

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// writeTar writes the tree under dir to w as a tar whose names are relative to dir, so that
// `tar -x` in an empty folder gives back what the run wrote. It counts regular files.
// Owner names are left out: the numeric ids are what the app's filesystem knows.
func writeTar(w io.Writer, dir string) (files int, err error) {
	tw := tar.NewWriter(w)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, walkErr error) error {
		if walkErr != nil {
			return walkErr
		}
		if p == dir {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		switch {
		case info.Mode().IsRegular(), info.IsDir():
		case info.Mode()&fs.ModeSymlink != 0:
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		default:
			return nil // sockets, fifos and devices are not backup content
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		hdr.Name = filepath.ToSlash(rel)
		if info.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uname, hdr.Gname = "", ""
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		files++
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		// Copy exactly the size in the header: a file growing meanwhile must not break the tar.
		if _, err := io.CopyN(tw, f, hdr.Size); err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		return nil
	})
	if err != nil {
		return files, err
	}
	return files, tw.Close()
}

// errUnsafeEntry is wrapped when a tar entry would land outside the target folder.
var errUnsafeEntry = errors.New("unsafe tar entry")

// unpackTar extracts r into dir (which must exist and be empty). It refuses names that leave
// dir — absolute, "..", or below a symlink the tar itself made — because an offsite object is
// input from outside the pod. It returns the number of regular files.
func unpackTar(r io.Reader, dir string) (files int, err error) {
	tr := tar.NewReader(r)
	links := map[string]bool{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return files, nil
		}
		if err != nil {
			return files, fmt.Errorf("read tar: %w", err)
		}
		name := filepath.Clean(filepath.FromSlash(hdr.Name))
		if filepath.IsAbs(name) || name == "." || name == ".." || strings.HasPrefix(name, ".."+string(filepath.Separator)) {
			return files, fmt.Errorf("%w: %q", errUnsafeEntry, hdr.Name)
		}
		for parent := filepath.Dir(name); parent != "."; parent = filepath.Dir(parent) {
			if links[parent] {
				return files, fmt.Errorf("%w: %q is below the symlink %q", errUnsafeEntry, hdr.Name, parent)
			}
		}
		target := filepath.Join(dir, name)
		mode := hdr.FileInfo().Mode().Perm()
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o700); err != nil {
				return files, err
			}
			// Owner write is kept so the entries below it can be extracted.
			if err := os.Chmod(target, mode|0o700); err != nil {
				return files, err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
				return files, err
			}
			f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode|0o600)
			if err != nil {
				return files, err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return files, fmt.Errorf("write %s: %w", hdr.Name, err)
			}
			_ = os.Chtimes(target, hdr.ModTime, hdr.ModTime)
			files++
		case tar.TypeSymlink:
			if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
				return files, err
			}
			if err := os.Symlink(hdr.Linkname, target); err != nil {
				return files, err
			}
			links[name] = true
		default:
			// Hard links, devices and the like: kab never writes them, so skip them.
		}
	}
}
