package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/boanu/kab/agent/backup"
	"github.com/boanu/kab/agent/metrics"
	"github.com/boanu/kab/agent/server"
	"github.com/boanu/kab/shared"
)

// The metrics port's GET /status is the control API's status minus every outputTail, and the
// port offers no way to start a run.
func TestPublicStatus(t *testing.T) {
	spec, err := shared.SpecFromEnv(func(k string) string { return map[string]string{"KAB_BACKUP_EXEC": "true"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	m := metrics.New(spec.BackupName, false, func() (time.Time, bool) { return time.Time{}, false })
	runner := backup.NewRunner(backup.Config{Spec: spec, Marker: "nobody", BackupDir: t.TempDir()}, -1, m, logger)
	defer runner.Stop(context.Background())
	public, err := server.Listen("127.0.0.1:0", server.PublicHandler(m.Registry, runner), logger)
	if err != nil {
		t.Fatal(err)
	}
	defer public.Shutdown(context.Background())
	control, err := server.Listen("127.0.0.1:0", server.ControlHandler(runner), logger)
	if err != nil {
		t.Fatal(err)
	}
	defer control.Shutdown(context.Background())
	controlClient, err := server.NewClient(control.Addr())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if code, body, err := controlClient.BackupNow(ctx); err != nil || code != http.StatusAccepted {
		t.Fatalf("POST /backup: %d %s %v", code, body, err)
	}
	var full map[string]any
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := controlClient.Status(ctx, &full); err != nil {
			t.Fatal(err)
		}
		if runs, _ := full["lastRuns"].([]any); len(runs) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the run never ended")
		}
		time.Sleep(20 * time.Millisecond)
	}

	base := "http://" + public.Addr()
	body := get(t, base+"/status", http.StatusOK)
	if strings.Contains(body, "outputTail") {
		t.Errorf("public status carries an output tail:\n%s", body)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	run := full["lastRuns"].([]any)[0].(map[string]any)
	if _, ok := run["outputTail"]; !ok {
		t.Fatalf("the control API's run has no outputTail, the test proves nothing: %v", run)
	}
	delete(run, "outputTail")
	wantJSON, _ := json.Marshal(full)
	gotJSON, _ := json.Marshal(got)
	if string(wantJSON) != string(gotJSON) {
		t.Errorf("public status\n%s\nwant the control status without tails\n%s", gotJSON, wantJSON)
	}

	if metricsBody := get(t, base+"/metrics", http.StatusOK); !strings.Contains(metricsBody, "kab_backup_runs_total") {
		t.Errorf("/metrics lost its metrics:\n%s", metricsBody)
	}
	get(t, base+"/healthz", http.StatusOK)
	for _, path := range []string{"/backup", "/status"} {
		resp, err := http.Post(base+path, "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("POST %s on the metrics port: HTTP %d, want a refusal", path, resp.StatusCode)
		}
	}
}

func get(t *testing.T, url string, want int) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("GET %s: HTTP %d, want %d: %s", url, resp.StatusCode, want, body)
	}
	return string(body)
}
