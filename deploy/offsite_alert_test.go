package deploy

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"
)

// offsiteStaleCases is a promtool rule test: KabOffsiteStale fires when uploads stop while local
// backups go on, and stays quiet while they keep up.
const offsiteStaleCases = `
rule_files: [rules.yaml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      # local backups succeed every hour; uploads stopped at 0 while backups went on for 2 days
      - series: 'kab_backup_last_success_timestamp_seconds{backup_name="notes",namespace="apps",pod="notes-0"}'
        values: '172800x60'
      - series: 'kab_offsite_last_success_timestamp_seconds{backup_name="notes",namespace="apps",pod="notes-0"}'
        values: '0x60'
      # a healthy one: uploaded right after the local backup
      - series: 'kab_backup_last_success_timestamp_seconds{backup_name="ok",namespace="apps",pod="ok-0"}'
        values: '172800x60'
      - series: 'kab_offsite_last_success_timestamp_seconds{backup_name="ok",namespace="apps",pod="ok-0"}'
        values: '172790x60'
    alert_rule_test:
      - eval_time: 10m
        alertname: KabOffsiteStale
        exp_alerts: []
      - eval_time: 20m
        alertname: KabOffsiteStale
        exp_alerts:
          - exp_labels: {severity: warning, backup_name: notes, namespace: apps, pod: notes-0}
            exp_annotations:
              summary: "kab offsite copy of notes is stale"
              description: 'The newest offsite copy of apps/notes-0 is more than a day older than its newest local backup. The status''s "offsite" block holds the last error: ` + "`kubectl exec -n apps notes-0 -c kab-agent -- /kab-agent status`" + `.'
`

func TestOffsiteStaleAlert(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: run `make deps` (it installs Debian's prometheus package, which has promtool)")
	}
	data, err := os.ReadFile(filepath.Join("monitoring", "prometheusrule.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var rule struct {
		Spec json.RawMessage `json:"spec"`
	}
	if err := yaml.Unmarshal(data, &rule); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), rule.Spec, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "test.yaml"), []byte(offsiteStaleCases), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtool, "test", "rules", "test.yaml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}
