package deploy

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestPrometheusRuleUnitTests runs `promtool test rules` on every monitoring/tests/*.test.yaml
// against the PrometheusRule's spec, so the alerts are shown to fire (and stay quiet) on
// chosen series, not only to parse.
func TestPrometheusRuleUnitTests(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: run `make deps` (it installs Debian's prometheus package, which has promtool)")
	}
	tests, err := filepath.Glob(filepath.Join("monitoring", "tests", "*.test.yaml"))
	if err != nil || len(tests) == 0 {
		t.Fatalf("no monitoring/tests/*.test.yaml: %v", err)
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
	for _, test := range tests {
		t.Run(filepath.Base(test), func(t *testing.T) {
			body, err := os.ReadFile(test)
			if err != nil {
				t.Fatal(err)
			}
			copied := filepath.Join(dir, filepath.Base(test))
			if err := os.WriteFile(copied, body, 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(promtool, "test", "rules", copied).CombinedOutput()
			if err != nil {
				t.Fatalf("promtool test rules %s: %v\n%s", test, err, out)
			}
		})
	}
}
