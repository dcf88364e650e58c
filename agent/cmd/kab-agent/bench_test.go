package main_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/boanu/kab/agent/internal/sandbox"
	"github.com/boanu/kab/agent/server"
)

var bg = context.Background()

type statusClient = *server.Client

func benchClient(b *testing.B, a *sandbox.Agent) *server.Client {
	c, err := server.NewClient(a.ControlAddr)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkTriggerToCommandStart measures the time from POST /backup to the backup command
// running in the app (discovery, fs id switch, chroot, fork/exec of the app's shell): the
// command opens a FIFO that the benchmark is blocked reading. Waiting for the run to end is
// not timed.
func BenchmarkTriggerToCommandStart(b *testing.B) {
	volume := filepath.Join(b.TempDir(), "volume")
	if err := os.Mkdir(volume, 0o755); err != nil {
		b.Fatal(err)
	}
	fifo := filepath.Join(volume, "started")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		b.Fatal(err)
	}
	for _, p := range []string{volume, fifo} {
		if err := os.Chown(p, 1000, 1000); err != nil {
			b.Fatal(err)
		}
	}
	sandbox.StartApp(b, sandbox.AppOptions{BackupDir: volume, UID: 1000, GID: 1000})
	agent := sandbox.StartAgent(b, sandbox.AgentOptions{
		Binary: agentBinary, BackupDir: volume, Caps: sandbox.AgentCapsForNonRootApp,
		Env: agentEnv(`echo go > "$KAB_BACKUP_DIR/started"`),
	})
	c := benchClient(b, agent)
	// Opened read-write so reads wait for the command's line instead of seeing EOF, with a
	// deadline so a broken agent fails the benchmark instead of hanging it.
	started, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer started.Close()
	line := make([]byte, 3)
	b.ResetTimer()
	for range b.N {
		if code, body, err := c.BackupNow(bg); err != nil || code != 202 {
			b.Fatalf("POST /backup: %d %s %v", code, body, err)
		}
		_ = started.SetReadDeadline(time.Now().Add(waitLimit))
		if _, err := io.ReadFull(started, line); err != nil {
			b.Fatalf("the command did not start: %v\n%s", err, agent.Log())
		}
		b.StopTimer()
		waitIdle(b, c)
		b.StartTimer()
	}
}

func waitIdle(b *testing.B, c statusClient) {
	deadline := time.Now().Add(waitLimit)
	for {
		var st struct{ Running *struct{} }
		if err := c.Status(bg, &st); err != nil {
			b.Fatal(err)
		}
		if st.Running == nil {
			return
		}
		if time.Now().After(deadline) {
			b.Fatal("run did not end")
		}
		time.Sleep(time.Millisecond)
	}
}
