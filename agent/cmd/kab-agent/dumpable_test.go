package main_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/boanu/kab/agent/internal/sandbox"
)

// probeScript is a root app that, whenever the test drops a pid into /kab-backup/.probe, tries
// what a compromised app would: read the process's environ, list its root and open its memory.
// A sleeping sibling of its own (same ids and capabilities, dumpable) is the control that shows
// the probe can succeed at all.
const probeScript = `sleep 1000000 </dev/null >/dev/null 2>&1 & echo $! > /kab-backup/.sibling.tmp
mv /kab-backup/.sibling.tmp /kab-backup/.sibling
while :; do
  if [ -f /kab-backup/.probe ]; then
    p=$(cat /kab-backup/.probe); rm /kab-backup/.probe
    {
      cat /proc/$p/environ >/dev/null 2>&1 && echo "environ: read" || echo "environ: $(cat /proc/$p/environ 2>&1 >/dev/null)"
      ls /proc/$p/root/ >/dev/null 2>&1 && echo "root: read" || echo "root: $(ls /proc/$p/root/ 2>&1 >/dev/null)"
      (exec 3</proc/$p/mem) 2>/dev/null && echo "mem: opened" || echo "mem: $( (exec 3</proc/$p/mem) 2>&1)"
    } > /kab-backup/.probe.tmp
    mv /kab-backup/.probe.tmp /kab-backup/.probe.out
  fi
  sleep 0.05
done`

// probe asks the app to try pid and returns its three answers.
func probe(t *testing.T, volume string, pid int) []string {
	t.Helper()
	out := filepath.Join(volume, ".probe.out")
	_ = os.Remove(out)
	// Written aside and renamed, as the app writes its answers and the sibling's pid: the app
	// polls, and could otherwise read the file between its creation and the write.
	tmp := filepath.Join(volume, ".probe.tmp-in")
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(volume, ".probe")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the app's probe of pid "+strconv.Itoa(pid), func() bool { _, err := os.Stat(out); return err == nil })
	return strings.Split(strings.TrimSpace(readFile(t, out)), "\n")
}

// A root app with the runtime's default capabilities shares the agent's PID namespace and holds
// every capability the agent has: only the agent being non-dumpable keeps the app out of its
// /proc entries (and so out of the offsite Secret mounted into it), before and after backups.
func TestRootAppCannotReadTheAgentsProc(t *testing.T) {
	volume := backupFolder(t)
	sandbox.StartApp(t, sandbox.AppOptions{BackupDir: volume, UID: 0, GID: 0, Caps: sandbox.RuntimeDefaultCaps, Script: probeScript})
	agent := startAgent(t, volume, sandbox.Union(sandbox.RuntimeDefaultCaps, sandbox.AgentCapsForNonRootApp),
		agentEnv("echo backed up > /kab-backup/dump.txt", "KAB_OFFSITE_SECRET_PROBE=visible-only-to-the-agent"))

	waitFor(t, "the app's sibling pid", func() bool { _, err := os.Stat(filepath.Join(volume, ".sibling")); return err == nil })
	sibling, err := strconv.Atoi(strings.TrimSpace(readFile(t, filepath.Join(volume, ".sibling"))))
	if err != nil {
		t.Fatal(err)
	}
	// The sibling is not the app's main process, so killing the app leaves it running with the
	// marker env: a later test's agent would find it instead of its own app.
	t.Cleanup(func() { _ = syscall.Kill(sibling, syscall.SIGKILL) })
	if got := probe(t, volume, sibling); strings.Join(got, "|") != "environ: read|root: read|mem: opened" {
		t.Fatalf("control: the app cannot even read its own sibling, so the probe proves nothing: %q", got)
	}
	check := func(when string) {
		t.Helper()
		got := probe(t, volume, agent.PID())
		if len(got) != 3 {
			t.Fatalf("%s: probe answered %q", when, got)
		}
		for _, answer := range got {
			if !strings.Contains(answer, "Permission denied") && !strings.Contains(answer, "Operation not permitted") {
				t.Errorf("%s: a root app got into the agent's /proc: %q", when, answer)
			}
		}
	}
	check("before any backup")
	wantResult(t, waitRun(t, agent, backupNow(t, agent)), "success")
	check("after a backup")
}
