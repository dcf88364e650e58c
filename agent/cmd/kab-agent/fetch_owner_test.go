//go:build integration

package main_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"
	"golang.org/x/sys/unix"

	"github.com/boanu/kab/agent/internal/s3server"
	"github.com/boanu/kab/agent/internal/sandbox"
	"github.com/boanu/kab/agent/offsite"
)

// kabFetchCaps is what the injector grants kab-fetch: root with only these, no_new_privs.
var kabFetchCaps = []int{unix.CAP_CHOWN, unix.CAP_SETUID, unix.CAP_SETGID}

// The "lost everything" case for a non-root app: the kubelet made a brand-new, root-owned,
// empty subPath folder. kab-fetch, as the injector runs it (root in its own mount namespace with
// only CHOWN/SETUID/SETGID), hands the folder to the app's uid/gid and restores the bucket's
// copy so that the folder and every file in it belong to the app — in both modes.
func TestFetchIntoARootOwnedFolderForANonRootApp(t *testing.T) {
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
	cfg, err := offsite.Load(secret, "kab-offsite", true)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		mode, keep, want string // want: the restored file, relative to the folder
	}{
		{offsite.ModeSnapshot, "KAB_BACKUP_KEEP=3", "latest/sub/app.db"},
		{offsite.ModeSeed, "KAB_BACKUP_KEEP=", "sub/app.db"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			name := "app-" + tc.mode
			store, err := offsite.Open(cfg, "apps", name)
			if err != nil {
				t.Fatal(err)
			}
			src := t.TempDir()
			if err := os.MkdirAll(filepath.Join(src, "sub"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(src, "sub", "app.db"), []byte("rows from the bucket"), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := store.Upload(context.Background(), offsite.Source{Dir: src, Stamp: "20261206T020000.000Z", Mode: tc.mode}); err != nil {
				t.Fatal(err)
			}

			folder := backupFolder(t) // what the kubelet makes: root's, 0755, empty
			out, code := sandbox.RunAgent(t, sandbox.AgentOptions{
				Binary: agentBinary, BackupDir: folder, Caps: kabFetchCaps, SecretDir: secret, Args: []string{"fetch"},
				Env: []string{"KAB_OFFSITE=kab-offsite", "KAB_BACKUP_NAME=" + name, "KAB_POD_NAMESPACE=apps", tc.keep,
					"KAB_APP_UID=1000", "KAB_APP_GID=1001"},
			}, 2*time.Minute)
			if code != 0 || !strings.Contains(out, "restored the offsite copy") {
				t.Fatalf("kab-fetch exit %d:\n%s", code, out)
			}
			if got := readFile(t, filepath.Join(folder, tc.want)); got != "rows from the bucket" {
				t.Fatalf("restored %q", got)
			}
			checked := 0
			err = filepath.WalkDir(folder, func(p string, _ fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				fi, err := os.Lstat(p)
				if err != nil {
					return err
				}
				st := fi.Sys().(*syscall.Stat_t)
				if st.Uid != 1000 || st.Gid != 1001 {
					t.Errorf("%s belongs to %d:%d, want the app's 1000:1001", p, st.Uid, st.Gid)
				}
				checked++
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if checked < 3 {
				t.Fatalf("only %d entries in the restored folder", checked)
			}
		})
	}
}
