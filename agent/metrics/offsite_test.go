package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestOffsite(t *testing.T) {
	reg := prometheus.NewRegistry()
	o := NewOffsite(reg, "notes")
	o.UploadDone(false, 0, time.Second, time.Unix(100, 0))
	o.UploadDone(true, 4096, 2*time.Second, time.Unix(200, 0))
	o.RetentionSkipped()
	want := `
# HELP kab_offsite_last_success_timestamp_seconds End of the last successful offsite upload, Unix time.
# TYPE kab_offsite_last_success_timestamp_seconds gauge
kab_offsite_last_success_timestamp_seconds{backup_name="notes"} 200
# HELP kab_offsite_last_upload_bytes Bytes stored by the last successful offsite upload (compressed and encrypted).
# TYPE kab_offsite_last_upload_bytes gauge
kab_offsite_last_upload_bytes{backup_name="notes"} 4096
# HELP kab_offsite_retention_skipped_total Remote retention passes refused by the bucket (a put-only key): retention is left to the bucket's lifecycle rules.
# TYPE kab_offsite_retention_skipped_total counter
kab_offsite_retention_skipped_total{backup_name="notes"} 1
# HELP kab_offsite_uploads_total Offsite upload attempts by result; each retry counts.
# TYPE kab_offsite_uploads_total counter
kab_offsite_uploads_total{backup_name="notes",result="failure"} 1
kab_offsite_uploads_total{backup_name="notes",result="success"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "kab_offsite_uploads_total",
		"kab_offsite_last_success_timestamp_seconds", "kab_offsite_last_upload_bytes", "kab_offsite_retention_skipped_total"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(reg, "kab_offsite_upload_duration_seconds"); n != 1 {
		t.Fatalf("duration histogram series: %d", n)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", problems, err)
	}
}
