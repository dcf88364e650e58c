package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BuildAgent builds the kab-agent binary as the image does (static, stripped) into dir.
func BuildAgent(dir string) (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out := filepath.Join(dir, "kab-agent")
	cmd := exec.Command(goTool, "build", "-trimpath", "-ldflags=-s -w", "-o", out, "github.com/boanu/kab/agent/cmd/kab-agent")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build kab-agent: %v\n%s", err, msg)
	}
	return out, nil
}

// AgentOptions describe an agent run.
type AgentOptions struct {
	Binary    string
	BackupDir string   // host folder bound at /kab-backup in the agent's namespace
	Caps      []int    // the agent's capabilities; nil keeps all
	Env       []string // KAB_* settings besides the addresses, which StartAgent picks
	Args      []string
	// SecretDir, when set, is bound read-only at /var/run/kab/offsite, as the kubelet mounts
	// the offsite Secret.
	SecretDir string
}

// Agent is a running kab-agent.
type Agent struct {
	MetricsAddr string
	ControlAddr string
	cmd         *exec.Cmd
	logPath     string
	done        chan struct{}
	exitErr     error
}

// StartAgent starts kab-agent in its own mount namespace, as the sidecar would run, and waits
// until it serves /healthz.
func StartAgent(t testing.TB, opts AgentOptions) *Agent {
	t.Helper()
	dir := t.TempDir()
	a := &Agent{MetricsAddr: freeAddr(t), ControlAddr: freeAddr(t), logPath: filepath.Join(dir, "agent.log"), done: make(chan struct{})}
	root := filepath.Join(dir, "agent-root")
	must(t, os.Mkdir(root, 0o755))
	logFile, err := os.Create(a.logPath)
	must(t, err)
	defer logFile.Close()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append([]string{
		envRole + "=agent",
		envAgentFS + "=" + root,
		envBackup + "=" + opts.BackupDir,
		envBinary + "=" + opts.Binary,
		envCaps + "=" + capsString(opts.Caps),
		envArgs + "=" + strings.Join(opts.Args, " "),
		envSecret + "=" + opts.SecretDir,
		"KAB_METRICS_ADDR=" + a.MetricsAddr,
		"KAB_CONTROL_ADDR=" + a.ControlAddr,
	}, opts.Env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	must(t, cmd.Start())
	a.cmd = cmd
	go func() { a.exitErr = cmd.Wait(); close(a.done) }()
	t.Cleanup(func() {
		a.Stop()
		if t.Failed() {
			t.Logf("agent log:\n%s", a.Log())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + a.MetricsAddr + "/healthz")
		if err == nil {
			resp.Body.Close()
			return a
		}
		select {
		case <-a.done:
			t.Fatalf("agent exited at start: %v\n%s", a.exitErr, a.Log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent not healthy: %v\n%s", err, a.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// PID is the agent's pid.
func (a *Agent) PID() int { return a.cmd.Process.Pid }

// Log is what the agent wrote so far.
func (a *Agent) Log() string {
	b, _ := os.ReadFile(a.logPath)
	return string(b)
}

// LogRecords are the agent's JSON log lines.
func (a *Agent) LogRecords() []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader([]byte(a.Log())))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) == nil {
			out = append(out, rec)
		}
	}
	return out
}

// Signal sends sig to the agent.
func (a *Agent) Signal(sig syscall.Signal) { _ = a.cmd.Process.Signal(sig) }

// Wait waits for the agent to exit, at most until ctx ends.
func (a *Agent) Wait(ctx context.Context) (exited bool, err error) {
	select {
	case <-a.done:
		return true, a.exitErr
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// Stop stops the agent if it still runs: SIGTERM (so it kills its running backup), then
// SIGKILL if it does not exit.
func (a *Agent) Stop() {
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.done:
	case <-time.After(15 * time.Second):
		_ = a.cmd.Process.Kill()
		<-a.done
	}
}

// RunAgent runs kab-agent as StartAgent does but expects it to exit (a bad setting stops it at
// start) within limit, and returns its output and exit code.
func RunAgent(t testing.TB, opts AgentOptions, limit time.Duration) (output string, exitCode int) {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "agent-root")
	must(t, os.Mkdir(root, 0o755))
	cmd := exec.Command(os.Args[0])
	cmd.Env = append([]string{
		envRole + "=agent",
		envAgentFS + "=" + root,
		envBackup + "=" + opts.BackupDir,
		envBinary + "=" + opts.Binary,
		envCaps + "=" + capsString(opts.Caps),
		envArgs + "=" + strings.Join(opts.Args, " "),
		envSecret + "=" + opts.SecretDir,
		"KAB_METRICS_ADDR=" + freeAddr(t),
		"KAB_CONTROL_ADDR=" + freeAddr(t),
	}, opts.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	must(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(limit):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("the agent did not exit within %s:\n%s", limit, out.String())
	}
	return out.String(), cmd.ProcessState.ExitCode()
}
