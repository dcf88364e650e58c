package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/boanu/kab/agent/backup"
	"github.com/boanu/kab/agent/metrics"
	"github.com/boanu/kab/agent/server"
	"github.com/boanu/kab/shared"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The control API over a real Runner and a real listener: a run for a container that does not
// exist fails at once; after Stop, POST /backup answers 503.
func TestControlAPI(t *testing.T) {
	spec, err := shared.SpecFromEnv(func(k string) string { return map[string]string{"KAB_BACKUP_EXEC": "true"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	m := metrics.New(spec.BackupName, false, func() (time.Time, bool) { return time.Time{}, false })
	runner := backup.NewRunner(backup.Config{Spec: spec, Marker: "nobody", BackupDir: t.TempDir()}, -1, m, logger)
	srv, err := server.Listen("127.0.0.1:0", server.ControlHandler(runner), logger)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	client, err := server.NewClient(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	code, body, err := client.BackupNow(ctx)
	if err != nil || code != http.StatusAccepted {
		t.Fatalf("POST /backup: %d %s %v", code, body, err)
	}
	var started server.IDResponse
	if err := json.Unmarshal(body, &started); err != nil || started.ID == "" {
		t.Fatalf("body %s: %v", body, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var st backup.Status
		if err := client.Status(ctx, &st); err != nil {
			t.Fatal(err)
		}
		if len(st.LastRuns) == 1 {
			if r := st.LastRuns[0]; r.ID != started.ID || r.Result != "failure" || *r.ExitCode != -1 {
				t.Errorf("run %+v", r)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the run never ended")
		}
		time.Sleep(20 * time.Millisecond)
	}

	runner.Stop(ctx)
	if code, body, _ := client.BackupNow(ctx); code != http.StatusServiceUnavailable {
		t.Errorf("POST /backup while stopping: %d %s, want 503", code, body)
	}
	if _, _, err := client.StatusRaw(ctx); err != nil {
		t.Error(errors.Join(errors.New("status while stopping"), err))
	}
}
