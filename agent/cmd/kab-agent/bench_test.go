package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
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
	total := make([]time.Duration, 0, b.N)
	post := make([]time.Duration, 0, b.N)
	read := make([]time.Time, 0, b.N) // wall clock, to compare with the agent's log
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		if code, body, err := c.BackupNow(bg); err != nil || code != 202 {
			b.Fatalf("POST /backup: %d %s %v", code, body, err)
		}
		t1 := time.Now()
		_ = started.SetReadDeadline(time.Now().Add(waitLimit))
		if _, err := io.ReadFull(started, line); err != nil {
			b.Fatalf("the command did not start: %v\n%s", err, agent.Log())
		}
		t2 := time.Now()
		b.StopTimer()
		total, post, read = append(total, t2.Sub(t0)), append(post, t1.Sub(t0)), append(read, t2)
		waitIdle(b, c)
		b.StartTimer()
	}
	b.StopTimer()
	reportSpread(b, "", total)
	reportSpread(b, "post-", post)
	reportStartSteps(b, agent, read)
}

// reportSpread adds min, median and max of one timed part per iteration, in µs: the mean that
// ns/op shows hides the spread of a loaded machine.
func reportSpread(b *testing.B, prefix string, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
	b.ReportMetric(us(ds[0]), prefix+"min-µs")
	b.ReportMetric(us(ds[len(ds)/2]), prefix+"median-µs")
	b.ReportMetric(us(ds[len(ds)-1]), prefix+"max-µs")
}

// reportStartSteps adds the median of each step the agent logged from the trigger to the
// command's start ("backup command started", start_us), numbered in the order the agent took
// them (the benchmark output sorts metrics by name), and the median time from that log line
// to the benchmark reading the command's first line (read, wall clock): the app's shell
// starting up to its first instruction and the FIFO waking the reader.
func reportStartSteps(b *testing.B, agent *sandbox.Agent, read []time.Time) {
	var order []string
	steps := map[string][]float64{}
	var logged []time.Time
	for _, line := range strings.Split(agent.Log(), "\n") {
		var rec struct {
			Time    time.Time       `json:"time"`
			Msg     string          `json:"msg"`
			StartUS json.RawMessage `json:"start_us"`
		}
		if json.Unmarshal([]byte(line), &rec) != nil || rec.Msg != "backup command started" {
			continue
		}
		logged = append(logged, rec.Time)
		if rec.StartUS == nil {
			continue // an agent from before start_us was logged has no steps to show
		}
		dec := json.NewDecoder(bytes.NewReader(rec.StartUS))
		if _, err := dec.Token(); err != nil { // {
			b.Fatalf("start_us in %s: %v", line, err)
		}
		for dec.More() {
			name, _ := dec.Token()
			var us float64
			if err := dec.Decode(&us); err != nil {
				b.Fatalf("start_us in %s: %v", line, err)
			}
			key := name.(string)
			if _, seen := steps[key]; !seen {
				order = append(order, key)
			}
			steps[key] = append(steps[key], us)
		}
	}
	for i, name := range order {
		v := steps[name]
		slices.Sort(v)
		b.ReportMetric(v[len(v)/2], fmt.Sprintf("agent-%d-%s-median-µs", i+1, name))
	}
	if len(logged) == len(read) {
		after := make([]time.Duration, len(read))
		for i := range read {
			after[i] = read[i].Sub(logged[i])
		}
		slices.Sort(after)
		b.ReportMetric(float64(after[len(after)/2].Nanoseconds())/1e3, "after-exec-median-µs")
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
