package main_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/boanu/kab/agent/backup"
	"github.com/boanu/kab/agent/internal/sandbox"
)

// kabAgent runs the built binary with env and args, as `kubectl exec -c kab-agent` would.
func kabAgent(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(agentBinary, args...)
	cmd.Env = env
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), errOut.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), 0
}

func TestBackupNowAndStatusSubcommands(t *testing.T) {
	volume := backupFolder(t)
	sandbox.StartApp(t, sandbox.AppOptions{BackupDir: volume, UID: 1000, GID: 1000})
	agent := startAgent(t, volume, sandbox.AgentCapsForNonRootApp, agentEnv(`echo from-the-app; echo rows > "$KAB_BACKUP_DIR/dump"`))
	env := []string{"KAB_CONTROL_ADDR=" + agent.ControlAddr}

	out, errOut, code := kabAgent(t, env, "backup-now", "--wait")
	if code != 0 {
		t.Fatalf("backup-now --wait: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "from-the-app") || !strings.Contains(out, `"result": "success"`) {
		t.Errorf("backup-now --wait printed:\n%s", out)
	}

	out, errOut, code = kabAgent(t, env, "status")
	if code != 0 {
		t.Fatalf("status: exit %d\n%s", code, errOut)
	}
	var st backup.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status is not JSON: %v\n%s", err, out)
	}
	if st.BackupName != "my-app" || len(st.LastRuns) != 1 || !st.Target.Found {
		t.Errorf("status: %s", out)
	}
	for _, field := range []string{`"backupName"`, `"target"`, `"found"`, `"pid"`, `"running": null`, `"lastRuns"`, `"nextRun"`,
		`"id"`, `"start"`, `"end"`, `"durationSeconds"`, `"result"`, `"exitCode": 0`, `"outputTail"`} {
		if !strings.Contains(out, field) {
			t.Errorf("status lacks %s:\n%s", field, out)
		}
	}
}

// A bad setting stops the agent at start with a message naming the variable; a flag
// overrides the env.
func TestBadSettingStopsTheAgent(t *testing.T) {
	base := []string{"KAB_CONTAINER=app", "KAB_BACKUP_EXEC=true", "KAB_CONTROL_ADDR=127.0.0.1:0", "KAB_METRICS_ADDR=127.0.0.1:0"}
	for _, tc := range []struct {
		name     string
		env      []string
		args     []string
		variable string
	}{
		{"keep", []string{"KAB_BACKUP_KEEP=0"}, nil, "KAB_BACKUP_KEEP"},
		{"schedule", []string{"KAB_BACKUP_SCHEDULE=sometimes"}, nil, "KAB_BACKUP_SCHEDULE"},
		{"timeout by flag", nil, []string{"--backup-timeout=forever"}, "KAB_BACKUP_TIMEOUT"},
		{"control address not loopback", []string{"KAB_CONTROL_ADDR=0.0.0.0:9780"}, nil, "KAB_CONTROL_ADDR"},
		{"no marker", []string{"KAB_CONTAINER="}, nil, "KAB_CONTAINER"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := kabAgent(t, append(append([]string{}, base...), tc.env...), tc.args...)
			if code != 2 || !strings.Contains(errOut, tc.variable) {
				t.Errorf("exit %d, want 2 and a message naming %s:\n%s", code, tc.variable, errOut)
			}
		})
	}
}

// The agent holds exactly the capabilities it was given: the test's capability drop is real.
func TestAgentRunsWithTheGivenCapabilities(t *testing.T) {
	agent := startAgent(t, backupFolder(t), sandbox.AgentCapsForNonRootApp, agentEnv("true"))
	status, err := os.ReadFile("/proc/" + itoa(agent.PID()) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	var want uint64
	for _, c := range sandbox.AgentCapsForNonRootApp {
		want |= 1 << c
	}
	line := "CapEff:\t" + hex16(want)
	if !strings.Contains(string(status), line) {
		t.Errorf("agent status lacks %q:\n%s", line, status)
	}
}
