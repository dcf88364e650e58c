package appexec

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestEmptyEnvironIsNotTheApp: an empty /proc/<pid>/environ is what a process shows in the
// middle of an execve; one that stays empty is refused with the reason, never taken as the
// app's environment (a backup run without the app's variables).
func TestEmptyEnvironIsNotTheApp(t *testing.T) {
	cmd := exec.Command("/usr/bin/env", "-i", "/bin/sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	// Until env has exec'd sleep, environ still holds this test's environment.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", cmd.Process.Pid)); strings.HasPrefix(string(cmdline), "/bin/sleep") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("sleep did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	environ, err := readEnviron(cmd.Process.Pid)
	if err == nil || !strings.Contains(err.Error(), "stayed empty") {
		t.Fatalf("readEnviron of a process with no environment: %q, %v; want an error saying it stayed empty", environ, err)
	}
}
