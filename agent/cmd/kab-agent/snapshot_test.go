package main_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/boanu/kab/agent/internal/sandbox"
)

// The script fails when the app has a /data/fail file, so the test decides per run.
const snapshotScript = `
	echo "into $KAB_BACKUP_DIR"
	cp app.db "$KAB_BACKUP_DIR/app.db"
	if [ -e fail ]; then echo "half-written" > "$KAB_BACKUP_DIR/half"; exit 3; fi`

func snapshots(t *testing.T, volume string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(volume, "snapshots"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func latest(t *testing.T, volume string) string {
	t.Helper()
	target, err := os.Readlink(filepath.Join(volume, "latest"))
	if err != nil {
		t.Fatal(err)
	}
	return target
}

// Snapshot mode: complete runs become snapshots/<stamp>/, latest follows the newest good one
// (a relative link), failures leave no folder and never move latest, only N are kept, and a
// stale .partial from a killed agent is removed at start. Everything belongs to the app.
func TestSnapshotModeKeepsTheLastGoodBackup(t *testing.T) {
	volume := backupFolder(t)
	stale := filepath.Join(volume, "snapshots", "20200101T000000.000Z.partial")
	if err := os.MkdirAll(stale, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(volume, 1000, 1000); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Dir(stale), stale} {
		if err := os.Chown(p, 1000, 1000); err != nil {
			t.Fatal(err)
		}
	}
	app := sandbox.StartApp(t, sandbox.AppOptions{
		BackupDir: volume, UID: 1000, GID: 1000, Files: map[string]string{"/data/app.db": "v1"},
	})
	agent := startAgent(t, volume, sandbox.AgentCapsForNonRootApp, agentEnv(snapshotScript, "KAB_BACKUP_KEEP=2"))
	waitFor(t, "the stale partial snapshot to be removed", func() bool {
		_, err := os.Stat(stale)
		return os.IsNotExist(err)
	})

	var good []string
	for _, content := range []string{"v1", "v2", "v3"} {
		if err := os.WriteFile(filepath.Join(app.Rootfs, "data", "app.db"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		run := waitRun(t, agent, backupNow(t, agent))
		wantResult(t, run, "success")
		if !strings.Contains(run.OutputTail, "into /kab-backup/snapshots/"+run.ID+".partial") {
			t.Errorf("KAB_BACKUP_DIR not the partial folder:\n%s", run.OutputTail)
		}
		good = append(good, run.ID)
		if got := latest(t, volume); got != "snapshots/"+run.ID {
			t.Errorf("latest -> %q, want snapshots/%s", got, run.ID)
		}
		if got := readFile(t, filepath.Join(volume, "latest", "app.db")); got != content {
			t.Errorf("latest holds %q, want %q", got, content)
		}
	}
	if got, want := snapshots(t, volume), good[1:]; !slices.Equal(got, want) {
		t.Errorf("snapshots %v, want the newest two %v", got, want)
	}

	if err := os.WriteFile(filepath.Join(app.Rootfs, "data", "fail"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	failed := waitRun(t, agent, backupNow(t, agent))
	wantResult(t, failed, "failure")
	if *failed.ExitCode != 3 {
		t.Errorf("exit code %d, want 3", *failed.ExitCode)
	}
	if got := latest(t, volume); got != "snapshots/"+good[2] {
		t.Errorf("a failed run moved latest to %q", got)
	}
	if got, want := snapshots(t, volume), good[1:]; !slices.Equal(got, want) {
		t.Errorf("after a failure: snapshots %v, want %v", got, want)
	}
	for _, p := range []string{"snapshots", "latest", filepath.Join("snapshots", good[2]), filepath.Join("snapshots", good[2], "app.db")} {
		var st syscallStat
		if err := lstat(filepath.Join(volume, p), &st); err != nil {
			t.Fatal(err)
		}
		if st.Uid != 1000 || st.Gid != 1000 {
			t.Errorf("%s owned by %d:%d, want the app's 1000:1000", p, st.Uid, st.Gid)
		}
	}
	m := metricsText(t, agent)
	wantMetric(t, m, `kab_backup_snapshots{backup_name="my-app"} 2`)
	wantMetric(t, m, `kab_backup_runs_total{backup_name="my-app",result="failure"} 1`)
	wantMetric(t, m, `kab_backup_last_exit_code{backup_name="my-app"} 3`)
}
