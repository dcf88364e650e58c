package appexec

import (
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// outputPipe makes a pipe for one of the command's output streams: the read end non-blocking
// and registered with Go's poller (so drainOutput can cut it off with a deadline), the write
// end blocking, as the command's stdout must be. os.Pipe makes both ends non-blocking and the
// exec then switches the write end back: three system calls more per pipe on the way from a
// trigger to the command (docs/PERFORMANCE.md §3).
func outputPipe() (r, w *os.File, err error) {
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		return nil, nil, os.NewSyscallError("pipe2", err)
	}
	// F_SETFL sets only the status flags (the access mode stays): a fresh pipe end has none
	// but O_NONBLOCK to set, so no F_GETFL first.
	if _, err := unix.FcntlInt(uintptr(fds[0]), unix.F_SETFL, unix.O_NONBLOCK); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return nil, nil, os.NewSyscallError("fcntl", err)
	}
	return os.NewFile(uintptr(fds[0]), "|0"), os.NewFile(uintptr(fds[1]), "|1"), nil
}

// devNull is the commands' stdin, opened once: exec.Cmd opens /dev/null for every command
// whose Stdin is nil, with the same poller dance as os.ReadFile (eight system calls). Shared
// by all commands and never closed; each child gets its own copy as fd 0.
var devNull = sync.OnceValue(func() *os.File {
	fd, err := unix.Open(os.DevNull, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil // exec.Cmd opens it itself, and reports the error
	}
	return os.NewFile(uintptr(fd), os.DevNull)
})
