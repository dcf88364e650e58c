package target

import (
	"context"
	"errors"
	"time"

	"golang.org/x/sys/unix"
)

// pollInterval bounds how late a change is seen where pidfds are unavailable, and how often
// a waiter looks at its context.
const pollInterval = 500 * time.Millisecond

// WaitExit returns nil once p has exited (or its pid belongs to another process), or the
// context's error. A pidfd reports the exit at once; without one it polls the start time.
func WaitExit(ctx context.Context, p Process) error {
	fd, err := unix.PidfdOpen(p.PID, 0)
	if err != nil {
		return pollExit(ctx, p)
	}
	defer unix.Close(fd)
	// The pid may have been reused before the pidfd was opened: check it names p.
	if !Alive(p) {
		return nil
	}
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := unix.Poll(fds, int(pollInterval/time.Millisecond))
		if err != nil && !errors.Is(err, unix.EINTR) {
			return pollExit(ctx, p)
		}
		if n > 0 {
			return nil
		}
	}
}

func pollExit(ctx context.Context, p Process) error {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for Alive(p) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// Alive reports whether p still runs (same pid, same start time, not a zombie).
func Alive(p Process) bool {
	st, err := ReadStat(p.PID)
	return err == nil && st.StartTime == p.StartTime && st.State != 'Z' && st.State != 'X'
}
