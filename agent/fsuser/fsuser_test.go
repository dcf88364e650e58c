package fsuser_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/boanu/kab/agent/fsuser"
	"go.uber.org/goleak"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func owner(t *testing.T, path string) (uint32, uint32) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return st.Uid, st.Gid
}

// Files made inside Do belong to the given ids, the root-owned folder is out of reach, and the
// caller's own thread is untouched.
func TestDoActsAsTheGivenIDsOnlyInside(t *testing.T) {
	dir := openTempDir(t)
	mine := filepath.Join(dir, "app")
	if err := os.Mkdir(mine, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(mine, 1000, 1000); err != nil {
		t.Fatal(err)
	}
	err := fsuser.Do(fsuser.IDs{UID: 1000, GID: 1000}, func() error {
		if err := os.WriteFile(filepath.Join(mine, "f"), nil, 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "denied"), nil, 0o644); !errors.Is(err, os.ErrPermission) {
			return errors.New("wrote into a root-owned folder as uid 1000")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if uid, gid := owner(t, filepath.Join(mine, "f")); uid != 1000 || gid != 1000 {
		t.Errorf("file owned by %d:%d, want 1000:1000", uid, gid)
	}
	for range 20 { // other goroutines' threads must not have inherited the ids
		p := filepath.Join(dir, "root-file")
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if uid, _ := owner(t, p); uid != 0 {
			t.Fatalf("a file written outside Do is owned by %d", uid)
		}
	}
}

// openTempDir is a temporary folder that other users may traverse (t.TempDir's are 0700).
func openTempDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Threads are handed back to the scheduler after Do, so none may keep the switched ids or lose
// capabilities: whatever fn did to its thread, once Do returns every thread of the process
// (read from /proc/self/task) soon has the process's own fs ids and effective capabilities —
// the thread is either restored or terminated. The main thread is left out: when a locked
// goroutine ends on it, the Go runtime parks it for good instead of ending it (it never runs Go
// code again, but /proc still shows it).
func TestNoThreadKeepsTheSwitch(t *testing.T) {
	want := threadStates(t)[0]
	mangle := map[string]func() error{
		"nothing": func() error { return nil },
		"fs ids changed again": func() error {
			syscall.Setfsuid(2000)
			return nil
		},
		"a capability dropped": func() error {
			hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
			var data [2]unix.CapUserData
			if err := unix.Capget(&hdr, &data[0]); err != nil {
				return err
			}
			data[0].Effective &^= 1 << unix.CAP_SYS_CHROOT // not a file-system capability: the switch back does not restore it
			return unix.Capset(&hdr, &data[0])
		},
	}
	for name, fn := range mangle {
		t.Run(name, func(t *testing.T) {
			for range 20 {
				if err := fsuser.Do(fsuser.IDs{UID: 1000, GID: 1000}, fn); err != nil {
					t.Fatal(err)
				}
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				odd := ""
				for _, st := range threadStates(t) {
					if st != want {
						odd = st
					}
				}
				if odd == "" {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("a thread still reads %q, the process's own threads %q", odd, want)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// threadStates is each thread's Uid/Gid lines (real, effective, saved, fs) and CapEff.
func threadStates(t *testing.T) []string {
	t.Helper()
	tasks, err := filepath.Glob("/proc/self/task/*/status")
	if err != nil || len(tasks) == 0 {
		t.Fatalf("list threads: %v", err)
	}
	main := fmt.Sprintf("/proc/self/task/%d/status", os.Getpid())
	var out []string
	for _, p := range tasks {
		if p == main {
			continue
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			continue // the thread exited meanwhile
		}
		var keep []string
		for _, line := range strings.Split(string(raw), "\n") {
			if strings.HasPrefix(line, "Uid:") || strings.HasPrefix(line, "Gid:") || strings.HasPrefix(line, "CapEff:") {
				keep = append(keep, line)
			}
		}
		out = append(out, strings.Join(keep, "; "))
	}
	return out
}
