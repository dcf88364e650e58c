package main_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/boanu/kab/agent/internal/sandbox"
)

// The app decides per run through files in /data: "wrong" makes the command write to the wrong
// place (nothing lands in KAB_BACKUP_DIR), "bad" makes it copy a corrupt database, "slow" makes
// the verify script outlive the run's timeout.
const (
	trustScript = `
	if [ -e wrong ]; then cp app.db /tmp/app.db; exit 0; fi
	if [ -e bad ]; then echo corrupt > "$KAB_BACKUP_DIR/app.db"; exit 0; fi
	cp app.db "$KAB_BACKUP_DIR/app.db"`
	trustVerify = `
	echo "verifying $KAB_RUN_ID in $KAB_BACKUP_DIR"
	if [ -e /data/slow ]; then sleep 60; fi
	grep -q rows "$KAB_BACKUP_DIR/app.db"`
)

func touchApp(t *testing.T, app *sandbox.App, name string, present bool) {
	t.Helper()
	p := filepath.Join(app.Rootfs, "data", name)
	if !present {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		return
	}
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// An empty run and a run the verify script refuses are not promoted: latest stays on the last
// good snapshot, retention does not count them, and only the newest refused run is kept as
// snapshots/<stamp>.rejected for inspection. A run that outlives its timeout in the verify
// script is a timeout and leaves nothing.
func TestRefusedRunsNeverReplaceTheLastGoodBackup(t *testing.T) {
	volume := backupFolder(t)
	app := sandbox.StartApp(t, sandbox.AppOptions{
		BackupDir: volume, UID: 1000, GID: 1000, Files: map[string]string{"/data/app.db": "rows v1"},
	})
	agent := startAgent(t, volume, sandbox.AgentCapsForNonRootApp, agentEnv(trustScript,
		"KAB_BACKUP_KEEP=1", "KAB_BACKUP_VERIFY="+trustVerify, "KAB_BACKUP_TIMEOUT=5s"))

	good := waitRun(t, agent, backupNow(t, agent))
	wantResult(t, good, "success")
	if good.SizeBytes != int64(len("rows v1")) || good.Files != 1 || good.Snapshot != good.ID {
		t.Errorf("good run: sizeBytes %d files %d snapshot %q, want %d, 1, %q", good.SizeBytes, good.Files, good.Snapshot, len("rows v1"), good.ID)
	}
	if want := "--- backup-verify ---\nverifying " + good.ID + " in /kab-backup/snapshots/" + good.ID + ".partial"; !strings.Contains(good.OutputTail, want) {
		t.Errorf("the verify output is not marked in the tail (want %q):\n%s", want, good.OutputTail)
	}

	var refused []string
	for _, c := range []struct{ flag, result string }{{"wrong", "empty"}, {"bad", "verify_failed"}, {"wrong", "empty"}} {
		touchApp(t, app, c.flag, true)
		run := waitRun(t, agent, backupNow(t, agent))
		touchApp(t, app, c.flag, false)
		wantResult(t, run, c.result)
		refused = append(refused, run.ID)
		if got := latest(t, volume); got != "snapshots/"+good.ID {
			t.Errorf("a %s run moved latest to %q", c.result, got)
		}
		if got, want := snapshots(t, volume), []string{good.ID, run.ID + ".rejected"}; !slices.Equal(got, want) {
			t.Errorf("after a %s run: snapshots %v, want %v (one rejected, the newest)", c.result, got, want)
		}
		if run.Snapshot != run.ID+".rejected" || !strings.Contains(run.OutputTail, "--- kab: ") {
			t.Errorf("%s run: snapshot %q, reason not in the tail:\n%s", c.result, run.Snapshot, run.OutputTail)
		}
		if c.flag == "bad" {
			if got := readFile(t, filepath.Join(volume, "snapshots", run.ID+".rejected", "app.db")); got != "corrupt\n" {
				t.Errorf("the rejected folder holds %q", got)
			}
		}
	}

	touchApp(t, app, "slow", true)
	slow := waitRun(t, agent, backupNow(t, agent))
	touchApp(t, app, "slow", false)
	wantResult(t, slow, "timeout")
	if got, want := snapshots(t, volume), []string{good.ID, refused[2] + ".rejected"}; !slices.Equal(got, want) {
		t.Errorf("after a verify timeout: snapshots %v, want %v", got, want)
	}

	// keep=1: the next good run replaces the old good one; the rejected folder is not counted.
	next := waitRun(t, agent, backupNow(t, agent))
	wantResult(t, next, "success")
	if got, want := snapshots(t, volume), []string{refused[2] + ".rejected", next.ID}; !slices.Equal(got, want) {
		t.Errorf("after a good run with keep=1: snapshots %v, want %v", got, want)
	}
	m := metricsText(t, agent)
	wantMetric(t, m, `kab_backup_runs_total{backup_name="my-app",result="empty"} 2`)
	wantMetric(t, m, `kab_backup_runs_total{backup_name="my-app",result="verify_failed"} 1`)
	wantMetric(t, m, `kab_backup_runs_total{backup_name="my-app",result="timeout"} 1`)
	wantMetric(t, m, `kab_backup_runs_total{backup_name="my-app",result="success"} 2`)
	wantMetric(t, m, `kab_backup_last_run_size_bytes{backup_name="my-app"} 7`)
	wantMetric(t, m, `kab_backup_last_run_files{backup_name="my-app"} 1`)
}

// A verify script that cannot run (a path that is not executable) refuses the backup, with the
// shell's reason in the output tail — never a success.
func TestVerifyThatCannotRunFails(t *testing.T) {
	volume := backupFolder(t)
	sandbox.StartApp(t, sandbox.AppOptions{
		BackupDir: volume, UID: 1000, GID: 1000,
		Files: map[string]string{"/data/app.db": "rows", "/data/verify.sh": "#!/bin/sh\nexit 0\n"},
	})
	agent := startAgent(t, volume, sandbox.AgentCapsForNonRootApp, agentEnv(trustScript,
		"KAB_BACKUP_KEEP=3", "KAB_BACKUP_VERIFY=/data/verify.sh"))
	run := waitRun(t, agent, backupNow(t, agent))
	wantResult(t, run, "verify_failed")
	if !strings.Contains(run.OutputTail, "126") || !strings.Contains(strings.ToLower(run.OutputTail), "permission denied") {
		t.Errorf("the reason is not in the tail:\n%s", run.OutputTail)
	}
}

// backup-allow-empty: a run that wrote nothing is a success and is promoted.
func TestAllowEmpty(t *testing.T) {
	volume := backupFolder(t)
	sandbox.StartApp(t, sandbox.AppOptions{BackupDir: volume, UID: 1000, GID: 1000, Files: map[string]string{"/data/app.db": ""}})
	agent := startAgent(t, volume, sandbox.AgentCapsForNonRootApp, agentEnv(`echo nothing to do`,
		"KAB_BACKUP_KEEP=3", "KAB_BACKUP_ALLOW_EMPTY=true"))
	run := waitRun(t, agent, backupNow(t, agent))
	wantResult(t, run, "success")
	if got := latest(t, volume); got != "snapshots/"+run.ID {
		t.Errorf("latest -> %q, want the empty but allowed snapshot %s", got, run.ID)
	}
}

// Seed mode: what counts is files whose ctime is after the run started — a copy that keeps an
// old mtime (cp -p) counts, an old file left in the folder does not, an empty file does not.
// Nothing is ever deleted.
func TestSeedModeEmptinessByCtime(t *testing.T) {
	volume := backupFolder(t)
	app := sandbox.StartApp(t, sandbox.AppOptions{BackupDir: volume, UID: 1000, GID: 1000, Files: map[string]string{"/data/app.db": "rows"}})
	old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(app.Rootfs, "data", "app.db"), old, old); err != nil {
		t.Fatal(err)
	}
	agent := startAgent(t, volume, sandbox.AgentCapsForNonRootApp, agentEnv(`
	if [ -e /data/wrong ]; then exit 0; fi
	if [ -e /data/zero ]; then : > "$KAB_BACKUP_DIR/zero"; exit 0; fi
	cp -p app.db "$KAB_BACKUP_DIR/app.db"`))

	run := waitRun(t, agent, backupNow(t, agent))
	wantResult(t, run, "success")
	if st, err := os.Stat(filepath.Join(volume, "app.db")); err != nil || !st.ModTime().Equal(old) {
		t.Fatalf("cp -p did not keep the old mtime: %v %v", st, err)
	}
	if run.Files != 1 || run.SizeBytes != 4 {
		t.Errorf("seed run: files %d sizeBytes %d, want 1 and 4", run.Files, run.SizeBytes)
	}
	for _, flag := range []string{"wrong", "zero"} {
		touchApp(t, app, flag, true)
		r := waitRun(t, agent, backupNow(t, agent))
		touchApp(t, app, flag, false)
		wantResult(t, r, "empty")
		if r.Snapshot != "" {
			t.Errorf("seed mode left a snapshot %q", r.Snapshot)
		}
	}
	if got := readFile(t, filepath.Join(volume, "app.db")); got != "rows" {
		t.Errorf("seed mode lost the earlier backup: %q", got)
	}
}
