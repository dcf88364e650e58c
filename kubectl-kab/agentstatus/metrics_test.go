package agentstatus_test

import (
	"strings"
	"testing"

	"github.com/boanu/kab/kubectl-kab/agentstatus"
)

// A seed-mode agent before its first success: no snapshot gauge, a zero last success.
func TestParseGaugesSeedBeforeFirstRun(t *testing.T) {
	g, err := agentstatus.ParseGauges(strings.NewReader(`# TYPE kab_backup_last_success_timestamp_seconds gauge
kab_backup_last_success_timestamp_seconds{backup_name="x"} 0
# TYPE kab_backup_size_bytes gauge
kab_backup_size_bytes{backup_name="x"} 0
`))
	if err != nil {
		t.Fatal(err)
	}
	if g.LastSuccess != nil || g.Snapshots != nil || g.SizeBytes == nil || *g.SizeBytes != 0 {
		t.Errorf("gauges %+v", g)
	}
}

func TestParseGaugesRejectsGarbage(t *testing.T) {
	if _, err := agentstatus.ParseGauges(strings.NewReader("<html>proxy error</html>\n")); err == nil {
		t.Error("HTML parsed as metrics")
	}
}
