package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/boanu/kab/agent/internal/sandbox"
)

const reportScript = `
	echo "ids $(id -u):$(id -g) groups $(id -G)"
	echo "cwd $(pwd)"
	echo "env $APP_SECRET $KAB_BACKUP_NAME $KAB_POD_NAME $KAB_POD_NAMESPACE $KAB_BACKUP_DIR"
	echo "run $KAB_RUN_ID"
	tar -cf "$KAB_BACKUP_DIR/data.tar" app.db
	cp app.db "$KAB_BACKUP_DIR/app.db"`

// A scheduled backup of a non-root app, by an agent holding only the capabilities the
// injector gives it for such an app: the command sees the app's files, env, cwd and ids, and
// what it writes lands in the backup folder owned by the app.
func TestScheduledBackupOfNonRootApp(t *testing.T) {
	volume := backupFolder(t)
	sandbox.StartApp(t, sandbox.AppOptions{
		BackupDir: volume, UID: 1000, GID: 1000, Groups: []int{2000},
		Files: map[string]string{"/data/app.db": "rows only the app image has"},
		Env:   []string{"APP_SECRET=s3cret"},
	})
	agent := startAgent(t, volume, sandbox.AgentCapsForNonRootApp, agentEnv(reportScript, "KAB_BACKUP_SCHEDULE=1"))

	var st = status(t, agent)
	waitFor(t, "a scheduled run", func() bool { st = status(t, agent); return len(st.LastRuns) > 0 })
	run := st.LastRuns[0]
	wantResult(t, run, "success")
	if run.Trigger != "schedule" {
		t.Errorf("trigger %q, want schedule", run.Trigger)
	}
	for _, want := range []string{
		"ids 1000:1000 groups 1000 2000", "cwd /data", "env s3cret my-app my-app-0 apps /kab-backup", "run " + run.ID,
	} {
		if !strings.Contains(run.OutputTail, want) {
			t.Errorf("output lacks %q:\n%s", want, run.OutputTail)
		}
	}
	// Polled: the next run, a second later, rewrites the file in place (cp truncates first).
	waitFor(t, "the backup to hold the app's file", func() bool {
		return readFile(t, filepath.Join(volume, "app.db")) == "rows only the app image has"
	})
	for _, p := range []string{volume, filepath.Join(volume, "app.db"), filepath.Join(volume, "data.tar")} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != 1000 || st.Gid != 1000 {
			t.Errorf("%s owned by %d:%d, want the app's 1000:1000", p, st.Uid, st.Gid)
		}
	}
	if !st.Target.Found || st.Target.PID == nil {
		t.Errorf("status target %+v, want found", st.Target)
	}
	if st.NextRun == nil {
		t.Error("status has no next run")
	}
	m := metricsText(t, agent)
	// Runs go on every second meanwhile: count at least the one seen, and no failure.
	if n := metricValue(t, m, `kab_backup_runs_total{backup_name="my-app",result="success"}`); n < 1 {
		t.Errorf("success count %v", n)
	}
	wantMetric(t, m, `kab_backup_runs_total{backup_name="my-app",result="failure"} 0`)
	wantMetric(t, m, `kab_backup_last_exit_code{backup_name="my-app"} 0`)
	wantMetric(t, m, `kab_target_up{backup_name="my-app"} 1`)
}

// A root app keeping the runtime's default capabilities, backed up by an agent holding those
// plus the five the agent needs — the injector's rule. With only the five, the kernel denies
// the agent the app's /proc entries: that proves the test really drops capabilities.
func TestRootAppNeedsTheAgentToKeepTheAppsCapabilities(t *testing.T) {
	for _, tc := range []struct {
		name       string
		agentCaps  []int
		wantResult string
	}{
		{"superset", sandbox.Union(sandbox.RuntimeDefaultCaps, sandbox.AgentCapsForNonRootApp), "success"},
		{"only the five", sandbox.AgentCapsForNonRootApp, "failure"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			volume := backupFolder(t)
			sandbox.StartApp(t, sandbox.AppOptions{
				BackupDir: volume, Caps: sandbox.RuntimeDefaultCaps,
				Files: map[string]string{"/data/app.db": "root rows"},
			})
			agent := startAgent(t, volume, tc.agentCaps, agentEnv(reportScript))
			run := waitRun(t, agent, backupNow(t, agent))
			wantResult(t, run, tc.wantResult)
			if tc.wantResult == "success" {
				if !strings.Contains(run.OutputTail, "ids 0:0") {
					t.Errorf("output:\n%s", run.OutputTail)
				}
				if got := readFile(t, filepath.Join(volume, "app.db")); got != "root rows" {
					t.Errorf("backup holds %q", got)
				}
			} else if !strings.Contains(run.Error, "target not found") {
				t.Errorf("error %q, want target not found", run.Error)
			}
		})
	}
}

// Without CAP_CHOWN (as with NFS root_squash) the root-owned folder cannot be handed to the
// app: the target is still found, and every run fails saying what to change.
func TestRootOwnedFolderThatCannotBeHandedOver(t *testing.T) {
	volume := backupFolder(t)
	sandbox.StartApp(t, sandbox.AppOptions{BackupDir: volume, UID: 1000, GID: 1000})
	noChown := []int{}
	for _, c := range sandbox.AgentCapsForNonRootApp {
		if c != 0 { // CAP_CHOWN
			noChown = append(noChown, c)
		}
	}
	agent := startAgent(t, volume, noChown, agentEnv("echo x > $KAB_BACKUP_DIR/x"))
	run := waitRun(t, agent, backupNow(t, agent))
	wantResult(t, run, "failure")
	if !strings.Contains(run.Error, "root_squash") {
		t.Errorf("error %q does not explain root_squash", run.Error)
	}
	if st := status(t, agent); !st.Target.Found {
		t.Error("target not found, want found")
	}
	wantMetric(t, metricsText(t, agent), `kab_target_up{backup_name="my-app"} 1`)
}
