package cli

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// becomeNonDumpable is the first thing kab-agent does. The agent shares the app's PID namespace
// and, for an app that keeps the runtime's default capabilities and runs as root, holds no
// capability the app lacks: the kernel's ptrace access check would then let the app read
// /proc/<agent-pid>/root, environ and mem — the offsite Secret mounted into the agent among
// them, which a compromised app could use to delete every remote copy. A non-dumpable process
// can be inspected only with CAP_SYS_PTRACE, which Pod Security baseline keeps from the app.
// (The kernel also clears the flag when the agent switches fs ids to a non-root app, but only
// then; this makes it hold from the start and for root apps.)
func becomeNonDumpable() error {
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_DUMPABLE, 0): %w", err)
	}
	return nil
}
