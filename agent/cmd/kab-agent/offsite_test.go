//go:build integration

package main_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/boanu/kab/agent/internal/s3server"
	"github.com/boanu/kab/agent/internal/sandbox"
	"github.com/boanu/kab/agent/offsite"
)

// offsiteSecret writes the Secret as kab-agent gets it: every key but the identity.
func offsiteSecret(t testing.TB, endpoint, recipients string) string {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"endpoint": endpoint, "bucket": s3server.Bucket, "accessKeyID": s3server.AdminKey,
		"secretAccessKey": s3server.AdminSecret, "recipients": recipients,
	} {
		if err := os.WriteFile(filepath.Join(dir, k), []byte(v), 0o400); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// A good run of a non-root app's backup lands in the bucket encrypted, the status says so, the
// metrics count it, and what comes back decrypts to what the run wrote.
func TestOffsiteUploadAfterAGoodRun(t *testing.T) {
	w := s3server.Start(t)
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	volume := backupFolder(t)
	sandbox.StartApp(t, sandbox.AppOptions{BackupDir: volume, UID: 1000, GID: 1000,
		Files: map[string]string{"/data/app.db": "rows to keep offsite"}})
	agent := sandbox.StartAgent(t, sandbox.AgentOptions{Binary: agentBinary, BackupDir: volume, Caps: sandbox.AgentCapsForNonRootApp,
		SecretDir: offsiteSecret(t, "http://"+w.Endpoint(), id.Recipient().String()),
		Env:       agentEnv(`cp /data/app.db "$KAB_BACKUP_DIR"/ && chmod 600 "$KAB_BACKUP_DIR"/app.db`, "KAB_BACKUP_KEEP=2", "KAB_OFFSITE=kab-offsite")})

	run := waitRun(t, agent, backupNow(t, agent))
	wantResult(t, run, "success")
	var st map[string]json.RawMessage
	waitFor(t, "the offsite upload", func() bool {
		var raw map[string]json.RawMessage
		if err := client(t, agent).Status(context.Background(), &raw); err != nil {
			t.Fatal(err)
		}
		st = raw
		var o offsite.Status
		_ = json.Unmarshal(raw["offsite"], &o)
		return o.LastSuccess != nil
	})
	var o offsite.Status
	if err := json.Unmarshal(st["offsite"], &o); err != nil || o.LastStamp == "" || o.LastError != "" {
		t.Fatalf("status offsite block: %s (%v)", st["offsite"], err)
	}
	text := metricsText(t, agent)
	wantMetric(t, text, `kab_offsite_uploads_total{backup_name="my-app",result="success"} 1`)
	wantMetric(t, text, `kab_offsite_uploads_total{backup_name="my-app",result="failure"} 0`)

	// Fetch it back as kab-fetch would (with the identity) and compare.
	secret := offsiteSecret(t, "http://"+w.Endpoint(), id.Recipient().String())
	if err := os.Chmod(secret, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(secret, "identity"), []byte(id.String()), 0o400); err != nil {
		t.Fatal(err)
	}
	cfg, err := offsite.Load(secret, "kab-offsite", true)
	if err != nil {
		t.Fatal(err)
	}
	store, err := offsite.Open(cfg, "apps", "my-app")
	if err != nil {
		t.Fatal(err)
	}
	m, ok, _, err := store.Newest(context.Background())
	if err != nil || !ok || m.Stamp != o.LastStamp || m.Files != 1 || m.Mode != offsite.ModeSnapshot || m.Pod != "my-app-0" {
		t.Fatalf("newest copy: %+v %t %v", m, ok, err)
	}
	dir := t.TempDir()
	if _, err := store.Restore(context.Background(), m, cfg.Identities, dir, false); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(dir, "app.db")); got != "rows to keep offsite" {
		t.Fatalf("offsite copy holds %q", got)
	}
}

// A Secret with a malformed recipient stops the agent at start with a message naming the Secret
// and the key: never an agent that would upload without encryption.
func TestOffsiteBadSecretStopsTheAgent(t *testing.T) {
	volume := backupFolder(t)
	secret := offsiteSecret(t, "http://127.0.0.1:1", "age1notarecipient")
	agentCmd := sandbox.AgentOptions{Binary: agentBinary, BackupDir: volume, SecretDir: secret,
		Env: agentEnv("true", "KAB_OFFSITE=kab-offsite")}
	out, code := sandbox.RunAgent(t, agentCmd, 20*time.Second)
	if code == 0 || !strings.Contains(out, `offsite Secret \"kab-offsite\": key \"recipients\"`) {
		t.Fatalf("agent exit %d, output:\n%s\nwant a failure naming the Secret and the key recipients", code, out)
	}
}
