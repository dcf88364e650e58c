package appexec_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/boanu/kab/agent/appexec"
	"github.com/boanu/kab/agent/internal/sandbox"
	"github.com/boanu/kab/agent/target"
)

func backupFolder(t *testing.T, uid, gid int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "backup")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	return dir
}

func run(t *testing.T, ctx context.Context, app *sandbox.App, script string) (int, string) {
	t.Helper()
	p, err := target.Read(app.PID())
	if err != nil {
		t.Fatal(err)
	}
	tail := appexec.NewTail(50, 1024)
	cmd, err := appexec.Start(ctx, appexec.Request{
		Target: p,
		Args:   []string{"/bin/sh", "-c", script},
		Env:    []string{"KAB_RUN_ID=run-1", "KAB_BACKUP_DIR=/kab-backup"},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Tail:   tail,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cmd.Close()
	code, err := cmd.Wait()
	if err != nil {
		t.Fatal(err)
	}
	return code, tail.String()
}

func TestCommandRunsAsTheApp(t *testing.T) {
	for _, tc := range []struct {
		name              string
		uid, gid          int
		groups            []int
		caps              []int
		wantID, wantGroup string
	}{
		{"non-root", 1000, 1000, []int{2000}, nil, "uid=1000 gid=1000", "1000 2000"},
		{"root", 0, 0, nil, sandbox.RuntimeDefaultCaps, "uid=0 gid=0", "0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			backup := backupFolder(t, tc.uid, tc.gid)
			app := sandbox.StartApp(t, sandbox.AppOptions{
				BackupDir: backup, UID: tc.uid, GID: tc.gid, Groups: tc.groups, Caps: tc.caps,
				Files: map[string]string{"/data/app.db": "rows in the app image"},
				Env:   []string{"APP_SECRET=s3cret", "KAB_RUN_ID=stale"},
			})
			code, out := run(t, context.Background(), app, `
				echo "ids uid=$(id -u) gid=$(id -g)"
				echo "groups $(id -G)"
				echo "cwd $(pwd)"
				echo "db $(cat app.db)"
				echo "env $APP_SECRET $KAB_RUN_ID $KAB_BACKUP_DIR"
				echo "pgid $(cut -d' ' -f5 /proc/self/stat 2>/dev/null) pid $$"
				echo saved > /kab-backup/out.txt
				echo to-stderr >&2`)
			if code != 0 {
				t.Fatalf("exit code %d, output:\n%s", code, out)
			}
			for _, want := range []string{
				"ids " + tc.wantID, "groups " + tc.wantGroup, "cwd /data", "db rows in the app image",
				"env s3cret run-1 /kab-backup", "to-stderr",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			st, err := os.Stat(filepath.Join(backup, "out.txt"))
			if err != nil {
				t.Fatalf("the backup's file is not in the backup folder: %v", err)
			}
			sys := st.Sys().(*syscall.Stat_t)
			if int(sys.Uid) != tc.uid || int(sys.Gid) != tc.gid {
				t.Errorf("file owned by %d:%d, want %d:%d", sys.Uid, sys.Gid, tc.uid, tc.gid)
			}
		})
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
	if len(pids) != 2 {
		t.Fatalf("want 2 background pids in output:\n%s", out)
	}
	return pids
}

func assertGone(t *testing.T, pids []int) {
	t.Helper()
	for _, pid := range pids {
		if st, err := target.ReadStat(pid); err == nil {
			t.Errorf("background process %d survived the run (state %c)", pid, st.State)
		}
	}
}

func TestTimeoutKillsTheWholeGroupAndOrphans(t *testing.T) {
	app := sandbox.StartApp(t, sandbox.AppOptions{BackupDir: backupFolder(t, 1000, 1000), UID: 1000, GID: 1000})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	code, out := run(t, ctx, app, `
		setsid sleep 300 & echo "bg=$!"
		sleep 300 & echo "bg=$!"
		sleep 300`)
	if code != 128+int(syscall.SIGKILL) {
		t.Errorf("exit code %d, want %d (killed)", code, 128+int(syscall.SIGKILL))
	}
	assertGone(t, backgroundPids(t, out))
}

func TestLeftoversOfASuccessfulRunAreKilled(t *testing.T) {
	app := sandbox.StartApp(t, sandbox.AppOptions{BackupDir: backupFolder(t, 1000, 1000), UID: 1000, GID: 1000})
	code, out := run(t, context.Background(), app, `
		setsid sleep 300 & echo "bg=$!"
		sleep 300 & echo "bg=$!"
		exit 0`)
	if code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
	assertGone(t, backgroundPids(t, out))
}

func TestMissingProgramFailsToStart(t *testing.T) {
	app := sandbox.StartApp(t, sandbox.AppOptions{BackupDir: backupFolder(t, 0, 0)})
	p, err := target.Read(app.PID())
	if err != nil {
		t.Fatal(err)
	}
	_, err = appexec.Start(context.Background(), appexec.Request{
		Target: p, Args: []string{"/bin/bash", "-c", "true"},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Tail: appexec.NewTail(1, 10),
	})
	if err == nil {
		t.Fatal("a program missing from the app's root started")
	}
	fmt.Println(err)
}

// The command's stdin is /dev/null and its stdout and stderr are blocking pipes: a command
// that prints more than a pipe holds, faster than the agent reads it, loses nothing and gets
// no EAGAIN (head would exit 1 on a failed write).
func TestStdinIsEmptyAndOutputBlocks(t *testing.T) {
	app := sandbox.StartApp(t, sandbox.AppOptions{BackupDir: backupFolder(t, 1000, 1000), UID: 1000, GID: 1000})
	for range 2 { // the second command gets the same, still open, /dev/null
		code, out := run(t, context.Background(), app, `
			dd if=/dev/zero bs=4096 count=64 2>/dev/null | head -c 262144 >&2 || echo "stderr write failed"
			i=0; while [ $i -lt 2000 ]; do echo "line-$i-................................................................"; i=$((i+1)); done | head -n 2000 || echo "stdout write failed"
			echo "stdin $(stat -L -c %t,%T /proc/self/fd/0) $(cat | wc -c)"`)
		if code != 0 {
			t.Fatalf("exit code %d, output:\n%s", code, out)
		}
		// The two streams' lines interleave in the tail in any order; each stream's own order holds.
		if !strings.Contains(out, "line-1999-") || !strings.Contains(out, "stdin 1,3 0") || strings.Contains(out, "failed") {
			t.Errorf("output (tail):\n%s", out)
		}
	}
}
