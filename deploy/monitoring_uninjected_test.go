package deploy

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestUninjectedAlertFires runs promtool's rule unit test on KabPodsUninjected: quiet at 0,
// firing after 10 minutes above 0, and taking the max over injector replicas (only the heal
// leader counts; the others export 0).
func TestUninjectedAlertFires(t *testing.T) {
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
		t.Fatalf("prometheusrule.yaml: %v", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), rule.Spec, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := `rule_files: [rules.yaml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'kab_injector_uninjected_pods{pod="kab-injector-a"}'
        values: '0x5 2x20'
      - series: 'kab_injector_uninjected_pods{pod="kab-injector-b"}'
        values: '0x26'
    alert_rule_test:
      - eval_time: 4m
        alertname: KabPodsUninjected
        exp_alerts: []
      - eval_time: 10m
        alertname: KabPodsUninjected
        exp_alerts: []
      - eval_time: 20m
        alertname: KabPodsUninjected
        exp_alerts:
          - exp_labels: {severity: warning}
            exp_annotations:
              summary: "2 kab pods run without kab's injection"
              description: "Pods with kab.boa.nu/ annotations but no kab.boa.nu/status run with no restore and no backups. Find them with ` + "`kubectl get events -A --field-selector reason=KabNotInjected`" + ` (bare pods) or ` + "`reason=KabHealBlocked`" + ` (evictions a PodDisruptionBudget refuses), and re-create them now that the webhook is up."
`
	if err := os.WriteFile(filepath.Join(dir, "tests.yaml"), []byte(tests), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtool, "test", "rules", "tests.yaml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}
