package main_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/boanu/kab/agent/backup"
	"github.com/boanu/kab/agent/internal/sandbox"
	"github.com/boanu/kab/agent/server"
)

// waitLimit bounds every wait: a liveness guard so a broken agent fails the test instead of
// hanging it, never a timing assertion.
const waitLimit = 60 * time.Second

// backupFolder is the volume's subfolder as kubelet creates it: empty and owned by root.
func backupFolder(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "volume", "my-app")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// agentEnv is the env the injector writes, with the given script and overrides.
func agentEnv(script string, extra ...string) []string {
	return append([]string{
		"KAB_CONTAINER=" + sandbox.Marker,
		"KAB_BACKUP_NAME=my-app",
		"KAB_BACKUP_SCHEDULE=1h",
		"KAB_BACKUP_EXEC_SHELL=/bin/sh -c",
		"KAB_BACKUP_EXEC=" + script,
		"KAB_BACKUP_TIMEOUT=1h",
		"KAB_BACKUP_KEEP=",
		"KAB_POD_NAME=my-app-0",
		"KAB_POD_NAMESPACE=apps",
	}, extra...)
}

func startAgent(t *testing.T, backupDir string, caps []int, env []string) *sandbox.Agent {
	t.Helper()
	return sandbox.StartAgent(t, sandbox.AgentOptions{Binary: agentBinary, BackupDir: backupDir, Caps: caps, Env: env})
}

func client(t *testing.T, a *sandbox.Agent) *server.Client {
	t.Helper()
	c, err := server.NewClient(a.ControlAddr)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func status(t *testing.T, a *sandbox.Agent) backup.Status {
	t.Helper()
	var st backup.Status
	if err := client(t, a).Status(context.Background(), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// backupNow starts a run and returns its id.
func backupNow(t *testing.T, a *sandbox.Agent) string {
	t.Helper()
	code, body, err := client(t, a).BackupNow(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if code != http.StatusAccepted {
		t.Fatalf("POST /backup: %d %s", code, body)
	}
	var resp server.IDResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatal(err)
	}
	return resp.ID
}

// waitRun waits until the run is in the history.
func waitRun(t *testing.T, a *sandbox.Agent, id string) backup.Run {
	t.Helper()
	var run backup.Run
	waitFor(t, "run "+id+" to end", func() bool {
		for _, r := range status(t, a).LastRuns {
			if r.ID == id {
				run = r
				return true
			}
		}
		return false
	})
	return run
}

// waitRunning waits until the running run printed want.
func waitRunning(t *testing.T, a *sandbox.Agent, id, want string) {
	t.Helper()
	waitFor(t, "run "+id+" to print "+want, func() bool {
		st := status(t, a)
		return st.Running != nil && st.Running.ID == id && strings.Contains(st.Running.OutputTail, want)
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func metricsText(t *testing.T, a *sandbox.Agent) string {
	t.Helper()
	resp, err := http.Get("http://" + a.MetricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func wantMetric(t *testing.T, text, line string) {
	t.Helper()
	for l := range strings.SplitSeq(text, "\n") {
		if l == line {
			return
		}
	}
	t.Errorf("metrics lack %q", line)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func wantResult(t *testing.T, run backup.Run, result string) {
	t.Helper()
	if run.Result != result {
		t.Fatalf("run %s: result %q, want %q (exit %v, error %q)\noutput:\n%s", run.ID, run.Result, result, deref(run.ExitCode), run.Error, run.OutputTail)
	}
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func metricValue(t *testing.T, text, series string) float64 {
	t.Helper()
	for l := range strings.SplitSeq(text, "\n") {
		if v, ok := strings.CutPrefix(l, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("metrics lack %s", series)
	return 0
}
