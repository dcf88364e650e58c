// Package fsuser runs file system work with the file system uid/gid of another user.
//
// The agent runs as root but must not act as root on the app's files: reading another
// process's /proc/<pid>/{environ,root,cwd} without CAP_SYS_PTRACE needs the caller's fs uid/gid
// to equal the target's, and housekeeping on a volume owned by the app (or exported with NFS
// root_squash) only works as the app's uid/gid. The fs ids are per thread in Linux, so the work
// runs on a dedicated OS thread that is never handed back to the Go scheduler.
package fsuser

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// IDs is the uid and gid to act as on the file system.
type IDs struct {
	UID uint32
	GID uint32
}

// Do runs fn on a fresh OS thread whose fs uid/gid are ids. The thread is locked and never
// unlocked, so the Go runtime terminates it when fn returns instead of reusing it with the
// switched ids for other goroutines.
func Do(ids IDs, fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// No UnlockOSThread: the thread carries foreign fs ids and must die with this goroutine.
		if err := switchTo(ids); err != nil {
			done <- err
			return
		}
		done <- fn()
	}()
	return <-done
}

// switchTo sets the calling thread's fs gid, then fs uid (the gid first: once the fs uid is not
// 0 the thread may have lost the right to change it). setfsuid/setfsgid never report failure,
// so the result is read back with an invalid id (-1), which changes nothing.
func switchTo(ids IDs) error {
	unix.Setfsgid(int(ids.GID))
	unix.Setfsuid(int(ids.UID))
	gotGID, _ := unix.SetfsgidRetGid(-1)
	gotUID, _ := unix.SetfsuidRetUid(-1)
	if uint32(gotUID) != ids.UID || uint32(gotGID) != ids.GID {
		return fmt.Errorf("switch fs ids to uid %d gid %d: still uid %d gid %d (the agent needs CAP_SETUID and CAP_SETGID)", ids.UID, ids.GID, gotUID, gotGID)
	}
	return nil
}
