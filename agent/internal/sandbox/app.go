package sandbox

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// AppOptions describe a test app container.
type AppOptions struct {
	BackupDir string            // host folder bound at /kab-backup
	Files     map[string]string // files in the app's root, owned by the app's user
	UID, GID  int
	Groups    []int
	Caps      []int    // bounding set of a root app; nil keeps all
	Env       []string // besides KAB_CONTAINER=<Marker>, PATH and HOME
	Dir       string   // working directory; /data by default
	Script    string   // the app's main program; sleeps by default
}

// App is a running test app container.
type App struct {
	Rootfs string
	cmd    *exec.Cmd
	done   chan struct{}
}

// clockTick is the unit of a process's start time in /proc/<pid>/stat: USER_HZ, 100 on Linux
// whatever the kernel's own tick rate.
const clockTick = 10 * time.Millisecond

// Marker is the container name the apps carry as KAB_CONTAINER. It is unique per test
// process so that an app of another test run on the same machine is never found.
var Marker = fmt.Sprintf("app-%d", os.Getpid())

// StartApp builds a root file system in a fresh folder and starts the app in it.
func StartApp(t testing.TB, opts AppOptions) *App {
	t.Helper()
	rootfs := filepath.Join(t.TempDir(), "rootfs")
	BuildRootfs(t, rootfs, opts.Files, opts.UID, opts.GID)
	return StartAppIn(t, rootfs, opts)
}

// StartAppIn starts the app in an existing root file system (a container restart).
func StartAppIn(t testing.TB, rootfs string, opts AppOptions) *App {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = "/data"
	}
	if opts.Script == "" {
		opts.Script = "exec sleep 1000000"
	}
	env := append([]string{"KAB_CONTAINER=" + Marker, "PATH=/bin", "HOME=/data"}, opts.Env...)
	groups := make([]string, len(opts.Groups))
	for i, g := range opts.Groups {
		groups[i] = strconv.Itoa(g)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = []string{
		envRole + "=app",
		envRootfs + "=" + rootfs,
		envBackup + "=" + opts.BackupDir,
		envDir + "=" + opts.Dir,
		envUID + "=" + strconv.Itoa(opts.UID),
		envGID + "=" + strconv.Itoa(opts.GID),
		envGroups + "=" + strings.Join(groups, ","),
		envCaps + "=" + capsString(opts.Caps),
		envScript + "=" + opts.Script,
		envAppEnv + "=" + strings.Join(env, "\x1f"),
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start app: %v", err)
	}
	app := &App{Rootfs: rootfs, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(app.done) }()
	t.Cleanup(app.Kill)
	want := "sh\x00-c\x00" + opts.Script + "\x00"
	deadline := time.Now().Add(10 * time.Second)
	for {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", cmd.Process.Pid))
		if string(cmdline) == want || strings.HasPrefix(opts.Script, "exec ") && bytes.HasPrefix(cmdline, []byte(strings.Fields(opts.Script)[1])) {
			// A process's start time is counted in clock ticks. The app is a child of the test
			// process, which the appexec tests make a subreaper, and appexec kills the
			// subreaper's children that started in or after a command's tick as that
			// command's orphans. A command started in the app's own tick would kill the app,
			// so one tick passes first.
			time.Sleep(clockTick)
			return app
		}
		select {
		case <-app.done:
			t.Fatalf("app exited during setup: %s", stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("app did not start: %q %s", cmdline, stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// PID is the app's main process.
func (a *App) PID() int { return a.cmd.Process.Pid }

// Kill kills the app and waits until it is gone.
func (a *App) Kill() {
	_ = a.cmd.Process.Kill()
	<-a.done
}
