package target_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/boanu/kab/agent/internal/sandbox"
	"github.com/boanu/kab/agent/target"
)

func TestBestPrefersTheContainersFirstProcessThenTheOldest(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []target.Process
		want int
	}{
		{"ppid 0 over older", []target.Process{{PID: 10, PPID: 1, StartTime: 5}, {PID: 20, PPID: 0, StartTime: 9}}, 20},
		{"oldest", []target.Process{{PID: 30, PPID: 7, StartTime: 9}, {PID: 40, PPID: 7, StartTime: 3}}, 40},
		{"lowest pid on a tie", []target.Process{{PID: 50, StartTime: 3}, {PID: 45, StartTime: 3}}, 45},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := target.Best(tc.in); got.PID != tc.want {
				t.Errorf("Best = %d, want %d", got.PID, tc.want)
			}
		})
	}
}

// startWithMarker starts a process (outside any app root) with the marker in its env.
func startWithMarker(t *testing.T, script string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(sandbox.Busybox(t), "sh", "-c", script)
	cmd.Env = []string{"KAB_CONTAINER=" + sandbox.Marker}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 1000, Gid: 1000}, Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill the whole group: a shell's background child would outlive it, marker and all.
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() })
	return cmd
}

func childOf(t *testing.T, ppid int) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		pids, _ := target.Pids()
		for _, pid := range pids {
			if st, err := target.ReadStat(pid); err == nil && st.PPID == ppid {
				return pid
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no child of %d appeared", ppid)
	return 0
}

// The agent (older than the app, same marker in its env) and its children (backup commands
// inherit the app's env) are never the target; the app, a non-root process whose environ only
// its own uid may read, is found — the finder switches its fs ids to read it.
func TestFindSkipsTheAgentAndItsDescendants(t *testing.T) {
	agent := startWithMarker(t, "sleep 1000 & wait")
	agentChild := childOf(t, agent.Process.Pid)
	volume := filepath.Join(t.TempDir(), "v")
	if err := os.Mkdir(volume, 0o755); err != nil {
		t.Fatal(err)
	}
	app := sandbox.StartApp(t, sandbox.AppOptions{BackupDir: volume, UID: 1000, GID: 1000})

	got, err := target.Finder{Marker: sandbox.Marker, Self: agent.Process.Pid}.Find()
	if err != nil {
		t.Fatal(err)
	}
	if got.PID != app.PID() {
		t.Errorf("found pid %d, want the app %d (agent %d, its child %d)", got.PID, app.PID(), agent.Process.Pid, agentChild)
	}
	if got.UID != 1000 || got.GID != 1000 {
		t.Errorf("found ids %d:%d, want 1000:1000", got.UID, got.GID)
	}

	// Without excluding the agent, its older process would win: the exclusion is what works.
	if got, err := (target.Finder{Marker: sandbox.Marker, Self: -1}).Find(); err != nil || got.PID != agent.Process.Pid {
		t.Errorf("without exclusion found %d (%v), want the older agent %d", got.PID, err, agent.Process.Pid)
	}

	if _, err := (target.Finder{Marker: "other", Self: agent.Process.Pid}).Find(); err == nil || !strings.Contains(err.Error(), "KAB_CONTAINER=other") {
		t.Errorf("unknown marker: err %v", err)
	}
}

func TestWaitExitSeesTheProcessEnd(t *testing.T) {
	cmd := startWithMarker(t, "exec sleep 1000")
	p, err := target.Read(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := target.WaitExit(ctx, p); err == nil {
		t.Fatal("WaitExit returned nil for a live process")
	}
	_ = cmd.Process.Kill()
	if err := target.WaitExit(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if target.Alive(p) {
		t.Error("a reaped process is alive")
	}
}
