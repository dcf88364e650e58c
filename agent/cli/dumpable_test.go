package cli

import (
	"testing"

	"golang.org/x/sys/unix"
)

// The real-namespace test (agent/cmd/kab-agent TestRootAppCannotReadTheAgentsProc) shows the
// outcome; on a busy host the agent's process scan may clear the flag by itself (an fs uid
// switch to another user's process does), so this checks that the agent clears it on purpose.
func TestBecomeNonDumpable(t *testing.T) {
	if err := becomeNonDumpable(); err != nil {
		t.Fatal(err)
	}
	got, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	if err != nil || got != 0 {
		t.Fatalf("PR_GET_DUMPABLE = %d, %v; want 0", got, err)
	}
}
