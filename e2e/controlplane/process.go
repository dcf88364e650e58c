package controlplane

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// stopGrace is how long a process gets after SIGTERM before its whole group is killed.
const stopGrace = 10 * time.Second

// process is a child started in its own process group, so that stopping it also stops anything
// it started, and with a parent-death signal, so that a test binary killed by `go test -timeout`
// or a signal does not leave an API server running on the shared machine.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited
	waitErr error         // valid after done is closed
}

func startProcess(name, logPath string, argv ...string) (*process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s log: %w", name, err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// Pdeathsig fires when the forking *thread* exits; a locked thread is never reused or
	// retired by the runtime while we hold it, so the signal means "the test process died".
	runtime.LockOSThread()
	err = cmd.Start()
	runtime.UnlockOSThread()
	if err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop ends the whole process group: SIGTERM first so etcd and the API server shut down cleanly,
// SIGKILL after the grace period. It returns only when the process has been reaped.
func (p *process) stop() {
	pgid := p.cmd.Process.Pid
	if !p.exited() {
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(stopGrace):
		}
	}
	// Also when the leader already exited: children it left in the group must not survive it.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-p.done
}

// logTail returns the last lines of the process's log, for failure messages.
func (p *process) logTail(lines int) string {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read %s log: %v)", p.name, err)
	}
	all := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return string(bytes.Join(all, []byte("\n")))
}

// exitError describes how the process ended, with its log, when it died before being ready.
func (p *process) exitError() error {
	return fmt.Errorf("%s exited early (%v); last log lines:\n%s", p.name, p.waitErr, p.logTail(40))
}

// freePort asks the kernel for a free loopback port. Another process may take it before our
// child binds it; Start retries with new ports when a child dies at startup.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// binary resolves a binary from the directory named by env, failing with what to run instead.
// Never a skip: an integration test that silently does not run proves nothing.
func binary(t testing.TB, env, name string) string {
	t.Helper()
	dir := os.Getenv(env)
	if dir == "" {
		t.Fatalf("%s is not set: run `make test-integration`, which builds %s and sets it", env, name)
	}
	path := filepath.Join(dir, name)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("%s: %v (%s=%s): run `make test-integration`, which builds it", name, err, env, dir)
	}
	if info.Mode()&0o111 == 0 {
		t.Fatalf("%s is not executable: run `make test-integration` to rebuild it", path)
	}
	return path
}

var errNotReady = errors.New("not ready")

// waitFor polls check until it succeeds, the process dies, or the timeout passes.
func waitFor(p *process, timeout time.Duration, check func() error) error {
	deadline := time.Now().Add(timeout)
	last := errNotReady
	for time.Now().Before(deadline) {
		if p.exited() {
			return p.exitError()
		}
		if last = check(); last == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after %s: %w; last log lines:\n%s", p.name, timeout, last, p.logTail(40))
}

func itoa(n int) string { return strconv.Itoa(n) }
