//go:build integration

package main_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/boanu/kab/agent/internal/s3server"
	"github.com/boanu/kab/agent/offsite"
)

// fetchCmd runs `kab-agent fetch` as kab-fetch or a person would, and returns output and code.
func fetchCmd(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(agentBinary, append([]string{"fetch"}, args...)...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return string(out), cmd.ProcessState.ExitCode()
}

// `kab-agent fetch` against a real S3 server: an empty bucket lets the pod start, a copy is
// restored into an empty folder (and never over an existing backup), --list and --to serve a
// person, and an unreachable endpoint fails naming it.
func TestFetchCommand(t *testing.T) {
	w := s3server.Start(t)
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	secret := offsiteSecret(t, "http://"+w.Endpoint(), id.Recipient().String())
	if err := os.Chmod(secret, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(secret, "identity"), []byte(id.String()), 0o400); err != nil {
		t.Fatal(err)
	}
	folder := t.TempDir()
	env := []string{"KAB_OFFSITE=kab-offsite", "KAB_BACKUP_NAME=my-app", "KAB_POD_NAMESPACE=apps",
		"KAB_BACKUP_KEEP=3", "KAB_BACKUP_DIR=" + folder}
	flags := []string{"--secret-dir", secret}

	if out, code := fetchCmd(t, env, flags...); code != 0 || !strings.Contains(out, "no offsite copy yet") {
		t.Fatalf("empty bucket: exit %d\n%s", code, out)
	}

	cfg, err := offsite.Load(secret, "kab-offsite", true)
	if err != nil {
		t.Fatal(err)
	}
	store, err := offsite.Open(cfg, "apps", "my-app")
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "app.db"), []byte("rows from the bucket"), 0o600); err != nil {
		t.Fatal(err)
	}
	const stamp = "20261205T030000.000Z"
	if _, err := store.Upload(context.Background(), offsite.Source{Dir: src, Stamp: stamp, Mode: offsite.ModeSnapshot}); err != nil {
		t.Fatal(err)
	}

	if out, code := fetchCmd(t, env, flags...); code != 0 {
		t.Fatalf("restore: exit %d\n%s", code, out)
	}
	if got := readFile(t, filepath.Join(folder, "latest", "app.db")); got != "rows from the bucket" {
		t.Fatalf("restored %q", got)
	}
	if link, _ := os.Readlink(filepath.Join(folder, "latest")); link != "snapshots/"+stamp {
		t.Fatalf("latest -> %q", link)
	}
	if out, code := fetchCmd(t, env, flags...); code != 0 || !strings.Contains(out, "holds a backup; nothing to fetch") {
		t.Fatalf("second start: exit %d\n%s", code, out)
	}

	if out, code := fetchCmd(t, env, append(flags, "--list")...); code != 0 || !strings.Contains(out, stamp) {
		t.Fatalf("--list: exit %d\n%s", code, out)
	}
	to := filepath.Join(t.TempDir(), "restored")
	if out, code := fetchCmd(t, env, append(flags, "--to", to)...); code != 0 {
		t.Fatalf("--to: exit %d\n%s", code, out)
	}
	if got := readFile(t, filepath.Join(to, "app.db")); got != "rows from the bucket" {
		t.Fatalf("--to restored %q", got)
	}

	w.Stop()
	empty := t.TempDir()
	downEnv := append(append([]string{}, env[:len(env)-1]...), "KAB_BACKUP_DIR="+empty)
	out, code := fetchCmd(t, downEnv, append(flags, "--tries", "2")...)
	if code == 0 || !strings.Contains(out, "http://"+w.Endpoint()) || !strings.Contains(out, "retrying") {
		t.Fatalf("server down: exit %d\n%s\nwant a retry, then a failure naming http://%s", code, out, w.Endpoint())
	}
}
