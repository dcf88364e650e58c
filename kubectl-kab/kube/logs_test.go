package kube

import (
	"bytes"
	"testing"
)

// Only the run's own JSON lines are shown; the command's output as indented lines.
func TestPrintRunLine(t *testing.T) {
	var out bytes.Buffer
	for _, line := range []string{
		`{"time":"t","level":"INFO","msg":"backup command started","run_id":"r1","pid":12}`,
		`{"time":"t","level":"INFO","msg":"backup output","run_id":"r1","stream":"stdout","line":"dumping 3 tables"}`,
		`{"time":"t","level":"INFO","msg":"backup output","run_id":"r0","stream":"stdout","line":"an older run"}`,
		`not json at all`,
		`{"time":"t","level":"ERROR","msg":"backup failed","run_id":"r1","result":"failure","exit_code":2}`,
	} {
		printRunLine(&out, line, "r1")
	}
	want := "info backup command started pid=12\n" +
		"  | dumping 3 tables\n" +
		"error backup failed exit_code=2 result=failure\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}
