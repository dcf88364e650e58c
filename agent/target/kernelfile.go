package target

import (
	"errors"
	"io/fs"
	"slices"

	"golang.org/x/sys/unix"
)

// ReadKernelFile reads a small file the kernel generates (/proc, /sys/fs/cgroup) with three
// system calls: open, read until end, close. os.ReadFile first offers the fd to Go's poller,
// which the kernel refuses for such files, and four fcntl calls surround that attempt: seven
// calls more per file, several of them on the way from a backup trigger to its command
// (docs/PERFORMANCE.md §3). Errors are *fs.PathError, as os.ReadFile's.
func ReadKernelFile(path string) ([]byte, error) {
	fd, err := ignoringEINTR(func() (int, error) { return unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0) })
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	buf := make([]byte, 0, 1024)
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, cap(buf))
		}
		n, err := ignoringEINTR(func() (int, error) { return unix.Read(fd, buf[len(buf):cap(buf)]) })
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}

func ignoringEINTR(call func() (int, error)) (int, error) {
	for {
		n, err := call()
		if !errors.Is(err, unix.EINTR) {
			return n, err
		}
	}
}
