package logging_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/boanu/kab/agent/logging"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Off a terminal (a container's log) every line is one JSON object a collector can parse.
func TestJSONWhenNotATerminal(t *testing.T) {
	var buf bytes.Buffer
	logging.New(&buf).Info("backup succeeded", "run_id", "20260102T030405.000Z", "exit_code", 0)
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("not JSON: %v: %s", err, buf.String())
	}
	if rec["msg"] != "backup succeeded" || rec["run_id"] != "20260102T030405.000Z" || rec["exit_code"] != 0.0 {
		t.Errorf("record %v", rec)
	}
}
