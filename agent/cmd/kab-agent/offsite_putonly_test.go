//go:build integration

package main_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/boanu/kab/agent/internal/s3server"
	"github.com/boanu/kab/agent/internal/sandbox"
	"github.com/boanu/kab/agent/offsite"
)

// An agent holding a put-only key (SeaweedFS denies it s3:DeleteObject) backs up and uploads as
// usual; remote retention is refused by the bucket, so the agent leaves it to the bucket: every
// copy stays, each refused pass is counted in kab_offsite_retention_skipped_total, the log says
// so once, and no run or upload is counted a failure.
func TestOffsitePutOnlyKey(t *testing.T) {
	w := s3server.Start(t)
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	secret := t.TempDir()
	for k, v := range map[string]string{"endpoint": "http://" + w.Endpoint(), "bucket": s3server.Bucket,
		"accessKeyID": s3server.PutOnlyKey, "secretAccessKey": s3server.PutOnlySecret, "recipients": id.Recipient().String()} {
		if err := os.WriteFile(filepath.Join(secret, k), []byte(v), 0o400); err != nil {
			t.Fatal(err)
		}
	}
	volume := backupFolder(t)
	sandbox.StartApp(t, sandbox.AppOptions{BackupDir: volume, UID: 1000, GID: 1000, Files: map[string]string{"/data/app.db": "rows"}})
	agent := sandbox.StartAgent(t, sandbox.AgentOptions{Binary: agentBinary, BackupDir: volume, Caps: sandbox.AgentCapsForNonRootApp,
		SecretDir: secret, Env: agentEnv(`cp /data/app.db "$KAB_BACKUP_DIR"/`, "KAB_BACKUP_KEEP=1", "KAB_OFFSITE=kab-offsite")})

	last := ""
	for range 3 {
		runID := backupNow(t, agent)
		wantResult(t, waitRun(t, agent, runID), "success")
		last = waitUpload(t, agent, runID, last, func() {}).LastStamp
	}
	// Retention runs right after an upload is reported: the first pass has nothing to delete, the
	// second and third are refused.
	series := `kab_offsite_retention_skipped_total{backup_name="my-app"}`
	waitFor(t, "the second refused retention pass", func() bool { return metricValue(t, metricsText(t, agent), series) == 2 })
	text := metricsText(t, agent)
	wantMetric(t, text, `kab_offsite_uploads_total{backup_name="my-app",result="success"} 3`)
	wantMetric(t, text, `kab_offsite_uploads_total{backup_name="my-app",result="failure"} 0`)
	wantMetric(t, text, `kab_backup_runs_total{backup_name="my-app",result="success"} 3`)
	if n := strings.Count(agent.Log(), "offsite retention left to the bucket"); n != 1 {
		t.Errorf("the refused delete was logged %d times, want once:\n%s", n, agent.Log())
	}

	// backup-keep 1 would have left one remote copy; the put-only key deleted none.
	admin := offsiteStore(t, w)
	copies, err := admin.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(copies) != 3 {
		t.Fatalf("remote copies after three uploads with a put-only key: %+v, want all 3", copies)
	}
}

// offsiteStore opens the test backup's folder in the bucket with the admin key.
func offsiteStore(t *testing.T, w *s3server.Server) *offsite.Store {
	t.Helper()
	cfg, err := offsite.Load(offsiteSecret(t, "http://"+w.Endpoint(), mustRecipient(t)), "kab-offsite", false)
	if err != nil {
		t.Fatal(err)
	}
	store, err := offsite.Open(cfg, "apps", "my-app")
	if err != nil {
		t.Fatal(err)
	}
	return store
}

func mustRecipient(t *testing.T) string {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id.Recipient().String()
}
