// Package appexec runs a command inside the app container's view of the world: its root file
// system, working directory, uid/gid/groups and environment — from a sidecar that holds no
// CAP_SYS_PTRACE (see DESIGN.md §6 and notes/agent-exec.md for the measured rules).
package appexec

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/boanu/kab/agent/fsuser"
	"github.com/boanu/kab/agent/target"
	"golang.org/x/sys/unix"
)

// Request is one command to run as the app.
type Request struct {
	Target target.Process
	// Args are the shell words and the script; Args[0] is an absolute path inside the app's
	// root (a PATH search would look in the agent's own, empty, file system).
	Args []string
	// Env entries ("NAME=value") added to the app's environment, replacing same-named ones.
	Env    []string
	Logger *slog.Logger
	Tail   *Tail
	// Check, when set, runs on the app's thread right before the fork, with the app's root as
	// the command will see it (an O_PATH fd); an error stops the start and is returned as is.
	// It spares a second switch to the app's ids for what must be checked just before a run.
	Check func(root *os.File) error
	// Mark, when set, is called with a step's name as each step of the start ends, to time
	// them: "prepare" (the output pipes made), "app" (the app's environment, directory and root
	// read as the app), "exec" (the command forked and exec'd).
	Mark func(step string)
}

// killGrace is how long Wait waits after the group kill for the command to exit before
// killing the lead process directly (exec.Cmd.WaitDelay), and how long output readers may
// linger once the command and its leftovers are dead.
const killGrace = 3 * time.Second

// Command is a started backup command.
type Command struct {
	cmd       *exec.Cmd
	root      *os.File // the app's root (O_PATH), to check what the command saw
	ids       fsuser.IDs
	startTime uint64
	readers   sync.WaitGroup
	pipes     []*os.File
	// Dir is the app's working directory the command runs in.
	Dir string
}

// Start starts the command in the app's root as the app. ctx ending kills its process group.
func Start(ctx context.Context, req Request) (*Command, error) {
	if len(req.Args) == 0 || !strings.HasPrefix(req.Args[0], "/") {
		return nil, fmt.Errorf("command %q: the program must be an absolute path", req.Args)
	}
	c := &Command{ids: req.Target.IDs()}
	outR, outW, err := outputPipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := outputPipe()
	if err != nil {
		closeAll(outR, outW)
		return nil, err
	}
	c.pipes = []*os.File{outR, errR}
	req.mark("prepare")
	err = fsuser.Do(c.ids, func() error { return c.startAsApp(ctx, req, outW, errW) })
	closeAll(outW, errW) // the child holds its own copies
	if err != nil {
		c.release()
		return nil, err
	}
	for _, p := range []struct {
		r    *os.File
		name string
	}{{outR, "stdout"}, {errR, "stderr"}} {
		c.readers.Go(func() { streamLines(p.r, p.name, req.Logger, req.Tail) })
	}
	return c, nil
}

// startAsApp runs on a thread whose fs uid/gid are the app's: only then may the agent read the
// app's environ and cwd and open its root without CAP_SYS_PTRACE. The child is forked from
// this thread.
func (c *Command) startAsApp(ctx context.Context, req Request, stdout, stderr *os.File) error {
	pid := req.Target.PID
	environ, err := readEnviron(pid)
	if err != nil {
		return fmt.Errorf("read the app's environment: %w", err)
	}
	dir, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
	if err != nil {
		return fmt.Errorf("read the app's working directory: %w", err)
	}
	rootFD, err := unix.Open(fmt.Sprintf("/proc/%d/root", pid), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open the app's root: %w", err)
	}
	c.root = os.NewFile(uintptr(rootFD), "app-root")
	// The pid may have been reused between discovery and now: what was read must belong to
	// the process that was found.
	if st, err := target.ReadStat(pid); err != nil || st.StartTime != req.Target.StartTime {
		return fmt.Errorf("pid %d: %w", pid, target.ErrGone)
	}
	c.Dir = dir
	if req.Check != nil {
		if err := req.Check(c.root); err != nil {
			return err
		}
	}
	req.mark("app")
	cmd := exec.CommandContext(ctx, req.Args[0], req.Args[1:]...)
	cmd.Path = req.Args[0] // never resolved in the agent's own file system
	cmd.Env = mergeEnv(splitEnviron(environ), req.Env)
	cmd.Dir = dir
	if null := devNull(); null != nil {
		cmd.Stdin = null
	}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// The parent's fd number: Go chroots in the child before it renumbers any fds, and
		// /proc/self/fd/N passes the kernel's check where /proc/<pid>/root would not.
		Chroot: fmt.Sprintf("/proc/self/fd/%d", rootFD),
		Credential: &syscall.Credential{
			Uid: req.Target.UID, Gid: req.Target.GID, Groups: req.Target.Groups,
		},
		Setpgid: true,
	}
	cmd.Cancel = func() error { return unix.Kill(-cmd.Process.Pid, unix.SIGKILL) }
	cmd.WaitDelay = killGrace
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s in the app's root: %w", req.Args[0], err)
	}
	c.cmd = cmd
	req.mark("exec")
	if st, err := target.ReadStat(cmd.Process.Pid); err == nil {
		c.startTime = st.StartTime
	}
	return nil
}

// An app process caught in the middle of an execve (an entrypoint exec'ing its server) shows
// an empty environment: the kernel fills in the new image's environment last. The app's never
// is empty — it holds the marker the agent found it by — so an empty read is read again.
const (
	environTries = 50
	environPause = 2 * time.Millisecond
)

// readEnviron reads /proc/<pid>/environ, waiting out an exec in progress.
func readEnviron(pid int) ([]byte, error) {
	path := fmt.Sprintf("/proc/%d/environ", pid)
	for range environTries {
		environ, err := target.ReadKernelFile(path)
		if err != nil || len(environ) > 0 {
			return environ, err
		}
		time.Sleep(environPause)
	}
	return nil, fmt.Errorf("%s stayed empty for %s: the app's process is not running a program with its environment", path, environTries*environPause)
}

func (r Request) mark(step string) {
	if r.Mark != nil {
		r.Mark(step)
	}
}

// PID is the command's pid, which is also its process group id.
func (c *Command) PID() int { return c.cmd.Process.Pid }

// Wait waits for the command, kills what it left behind (its group and orphans re-parented to
// the agent), waits for its output to drain and returns the exit code: 128+signal when it was
// killed by a signal.
func (c *Command) Wait() (exitCode int, err error) {
	waitErr := c.cmd.Wait()
	killLeftovers(c.cmd.Process.Pid, c.startTime)
	c.drainOutput()
	state := c.cmd.ProcessState
	if state == nil {
		return -1, waitErr
	}
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return state.ExitCode(), nil
}

// drainOutput waits for the readers; a pipe still held by a process the agent could not kill
// is cut off after killGrace so a run always ends.
func (c *Command) drainOutput() {
	done := make(chan struct{})
	go func() { c.readers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(killGrace):
		for _, p := range c.pipes {
			_ = p.SetReadDeadline(time.Now())
		}
		<-done
	}
}

// StatInRoot stats path (absolute, as the app sees it) through the app's root that the command
// was started in — after the run this is still what the command saw, even if the app is gone.
func (c *Command) StatInRoot(path string) (unix.Stat_t, error) {
	var st unix.Stat_t
	err := fsuser.Do(c.ids, func() error {
		return unix.Fstatat(int(c.root.Fd()), strings.TrimLeft(path, "/"), &st, 0)
	})
	return st, err
}

// Close releases the app's root and the output pipes. Call it after Wait.
func (c *Command) Close() { c.release() }

func (c *Command) release() {
	if c.root != nil {
		_ = c.root.Close()
	}
	closeAll(c.pipes...)
}

func closeAll(files ...*os.File) {
	for _, f := range files {
		_ = f.Close()
	}
}

func splitEnviron(raw []byte) []string {
	var env []string
	for e := range bytes.SplitSeq(bytes.TrimRight(raw, "\x00"), []byte{0}) {
		if len(e) > 0 {
			env = append(env, string(e))
		}
	}
	return env
}

// mergeEnv returns base with extra's entries replacing same-named ones, extra's new ones last.
func mergeEnv(base, extra []string) []string {
	names := map[string]bool{}
	for _, e := range extra {
		name, _, _ := strings.Cut(e, "=")
		names[name] = true
	}
	out := make([]string, 0, len(base)+len(extra))
	for _, e := range base {
		name, _, _ := strings.Cut(e, "=")
		if !names[name] {
			out = append(out, e)
		}
	}
	return append(out, extra...)
}
