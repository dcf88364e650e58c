package main_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/boanu/kab/agent/internal/sandbox"
	"github.com/boanu/kab/agent/target"
)

// The app dies during a run: the run fails (a dying container's root swallows writes), latest
// stays; the container restarts (new pid), and the next run finds it and succeeds.
func TestAppKilledMidRunThenRestarted(t *testing.T) {
	volume := backupFolder(t)
	opts := sandbox.AppOptions{BackupDir: volume, Files: map[string]string{"/data/app.db": "db"}, Caps: sandbox.RuntimeDefaultCaps}
	app := sandbox.StartApp(t, opts)
	script := `cp app.db "$KAB_BACKUP_DIR/"; if [ -e slow ]; then echo waiting; sleep 300; fi`
	agent := startAgent(t, volume, sandbox.Union(sandbox.RuntimeDefaultCaps, sandbox.AgentCapsForNonRootApp), agentEnv(script, "KAB_BACKUP_KEEP=3"))

	first := waitRun(t, agent, backupNow(t, agent))
	wantResult(t, first, "success")

	if err := os.WriteFile(filepath.Join(app.Rootfs, "data", "slow"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	id := backupNow(t, agent)
	waitRunning(t, agent, id, "waiting")
	app.Kill()
	run := waitRun(t, agent, id)
	wantResult(t, run, "failure")
	if !strings.Contains(run.Error, "app process exited") {
		t.Errorf("error %q does not say the app went away", run.Error)
	}
	if got := latest(t, volume); got != "snapshots/"+first.ID {
		t.Errorf("latest -> %q after the failed run, want snapshots/%s", got, first.ID)
	}
	if _, err := os.Stat(filepath.Join(volume, "snapshots", id+".partial")); !os.IsNotExist(err) {
		t.Errorf("the failed run's folder is still there: %v", err)
	}

	waitFor(t, "the agent to notice the app is gone", func() bool { return !status(t, agent).Target.Found })
	wantMetric(t, metricsText(t, agent), `kab_target_up{backup_name="my-app"} 0`)

	if err := os.Remove(filepath.Join(app.Rootfs, "data", "slow")); err != nil {
		t.Fatal(err)
	}
	restarted := sandbox.StartAppIn(t, app.Rootfs, opts)
	again := waitRun(t, agent, backupNow(t, agent))
	wantResult(t, again, "success")
	if st := status(t, agent); st.Target.PID == nil || *st.Target.PID != restarted.PID() {
		t.Errorf("status target %+v, want the restarted pid %d", st.Target, restarted.PID())
	}
	if got := latest(t, volume); got != "snapshots/"+again.ID {
		t.Errorf("latest -> %q, want snapshots/%s", got, again.ID)
	}
}

var bgPid = regexp.MustCompile(`bg=(\d+)`)

func backgroundPids(t *testing.T, out string) []int {
	t.Helper()
	var pids []int
	for _, m := range bgPid.FindAllStringSubmatch(out, -1) {
		pid, _ := strconv.Atoi(m[1])
		pids = append(pids, pid)
	}
	if len(pids) == 0 {
		t.Fatalf("no background pids in output:\n%s", out)
	}
	return pids
}

func assertGone(t *testing.T, pids []int) {
	t.Helper()
	for _, pid := range pids {
		if st, err := target.ReadStat(pid); err == nil && st.State != 'Z' {
			t.Errorf("process %d of the backup survived (state %c)", pid, st.State)
		}
	}
}

// A run past backup-timeout is killed with everything it started, even a process in its own
// session, and counted as a timeout only.
func TestTimeoutKillsTheWholeRun(t *testing.T) {
	volume := backupFolder(t)
	sandbox.StartApp(t, sandbox.AppOptions{BackupDir: volume, UID: 1000, GID: 1000})
	script := `setsid sleep 300 & echo "bg=$!"; sleep 300 & echo "bg=$!"; sleep 300`
	agent := startAgent(t, volume, sandbox.AgentCapsForNonRootApp, agentEnv(script, "KAB_BACKUP_TIMEOUT=2s"))
	run := waitRun(t, agent, backupNow(t, agent))
	wantResult(t, run, "timeout")
	if *run.ExitCode != 128+int(syscall.SIGKILL) {
		t.Errorf("exit code %d, want %d", *run.ExitCode, 128+int(syscall.SIGKILL))
	}
	assertGone(t, backgroundPids(t, run.OutputTail))
	m := metricsText(t, agent)
	wantMetric(t, m, `kab_backup_runs_total{backup_name="my-app",result="timeout"} 1`)
	wantMetric(t, m, `kab_backup_runs_total{backup_name="my-app",result="failure"} 0`)
}

// A second backup-now during a run gets 409 with the running run's id.
func TestBackupNowDuringARun(t *testing.T) {
	volume := backupFolder(t)
	app := sandbox.StartApp(t, sandbox.AppOptions{BackupDir: volume, UID: 1000, GID: 1000})
	agent := startAgent(t, volume, sandbox.AgentCapsForNonRootApp, agentEnv(`echo waiting; while [ ! -e go ]; do sleep 0.1; done; echo rows > "$KAB_BACKUP_DIR/dump"`))
	id := backupNow(t, agent)
	waitRunning(t, agent, id, "waiting")
	code, body, err := client(t, agent).BackupNow(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if code != http.StatusConflict || !strings.Contains(string(body), id) {
		t.Errorf("second POST /backup: %d %s, want 409 naming %s", code, body, id)
	}
	if err := os.WriteFile(filepath.Join(app.Rootfs, "data", "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	wantResult(t, waitRun(t, agent, id), "success")
}

// SIGTERM during a run: the agent kills the run (recorded as failed), refuses new ones and
// exits.
func TestSIGTERMDuringARun(t *testing.T) {
	volume := backupFolder(t)
	sandbox.StartApp(t, sandbox.AppOptions{BackupDir: volume, UID: 1000, GID: 1000})
	agent := startAgent(t, volume, sandbox.AgentCapsForNonRootApp, agentEnv(`sleep 300 & echo "bg=$!"; sleep 300`))
	id := backupNow(t, agent)
	waitRunning(t, agent, id, "bg=")
	pids := backgroundPids(t, status(t, agent).Running.OutputTail)
	agent.Signal(syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if exited, err := agent.Wait(ctx); !exited || err != nil {
		t.Fatalf("agent after SIGTERM: exited %v, err %v", exited, err)
	}
	assertGone(t, pids)
	var failed bool
	for _, rec := range agent.LogRecords() {
		if rec["msg"] == "backup failed" && rec["run_id"] == id && strings.Contains(rec["error"].(string), "stopping") {
			failed = true
		}
	}
	if !failed {
		t.Errorf("no failed run %s due to stopping in the log:\n%s", id, agent.Log())
	}
}

// The app's /kab-backup is another folder than the agent's volume: no run may succeed.
func TestRunFailsWhenTheAppSeesAnotherFolder(t *testing.T) {
	sandbox.StartApp(t, sandbox.AppOptions{BackupDir: backupFolder(t), UID: 1000, GID: 1000})
	agent := startAgent(t, backupFolder(t), sandbox.AgentCapsForNonRootApp, agentEnv(`echo ran`))
	run := waitRun(t, agent, backupNow(t, agent))
	wantResult(t, run, "failure")
	if !strings.Contains(run.Error, "not the backup volume") || strings.Contains(run.OutputTail, "ran") {
		t.Errorf("error %q, output %q", run.Error, run.OutputTail)
	}
}
