package target

import (
	"context"
	"errors"
	"time"

	"golang.org/x/sys/unix"
)

// pollInterval bounds how late a change is seen where pidfds are unavailable.
const pollInterval = 500 * time.Millisecond

// WaitExit returns nil once p has exited (or its pid belongs to another process), or the
// context's error. A pidfd reports the exit at once and costs no wake-ups while the app runs
// (an idle agent waits here); without one it polls the start time.
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
	// A pipe the context's end writes to, so one blocking poll waits for either.
	var wake [2]int
	if err := unix.Pipe2(wake[:], unix.O_CLOEXEC); err != nil {
		return pollExit(ctx, p)
	}
	woke := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		_, _ = unix.Write(wake[1], []byte{0})
		close(woke)
	})
	defer func() {
		if !stop() {
			<-woke // the write may still be going: close the pipe only after it
		}
		unix.Close(wake[0])
		unix.Close(wake[1])
	}()
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}, {Fd: int32(wake[0]), Events: unix.POLLIN}}
	for {
		_, err := unix.Poll(fds, -1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return pollExit(ctx, p)
		}
		if fds[0].Revents != 0 {
			return nil
		}
		if fds[1].Revents != 0 {
			return ctx.Err()
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
