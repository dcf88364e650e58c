package appexec

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// BecomeSubreaper makes orphans of backup commands (`setsid sleep 300 &`) children of the
// agent rather than of the pod's pause process, so the agent can kill and reap them after the
// run. Call it once at start, before the first command.
func BecomeSubreaper() error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("become child subreaper: %w", err)
	}
	return nil
}
