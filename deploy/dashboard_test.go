package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"sigs.k8s.io/yaml"

	"github.com/boanu/kab/agent/metrics"
)

// grafanaVariables are the dashboard's template variables and Grafana's built-ins it uses, with
// a value Prometheus accepts in their place. A variable not listed fails the test: promtool could
// not parse the expression, and a user's Grafana would not know it either.
var grafanaVariables = map[string]string{
	"$backup_name":     ".*",
	"$__range":         "7d",
	"$__rate_interval": "5m",
	"${datasource}":    "",
}

var (
	kabMetricName   = regexp.MustCompile(`\bkab_[a-zA-Z0-9_]+`)
	grafanaVariable = regexp.MustCompile(`\$\{?[a-zA-Z_][a-zA-Z0-9_]*\}?`)
	labelValues     = regexp.MustCompile(`^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)$`)
)

// scrapedMetricsEnv names a file holding a running agent's /metrics, as scraped in the kind e2e
// suite (scenario 16-helm): when set, TestDashboardQueries checks the dashboard against what that
// agent really served instead of the agent's registry built in this process.
const scrapedMetricsEnv = "KAB_AGENT_METRICS"

// TestDashboardQueries checks every PromQL expression in monitoring/dashboard.json: each parses
// (promtool loads them as recording rules) and each kab_ metric it names is one the agent
// exposes, so a renamed metric breaks this test instead of silently emptying a panel.
func TestDashboardQueries(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: run `make deps` (it installs Debian's prometheus package, which has promtool)")
	}
	dash := readDashboard(t)
	var exprs []string
	collectExprs(dash, &exprs)
	if len(exprs) < 10 {
		t.Fatalf("dashboard.json has %d PromQL expressions (targets[].expr); the panels lost their queries?", len(exprs))
	}

	exposed := exposedMetricNames(t)
	used := map[string]bool{}
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for i, expr := range exprs {
		for _, name := range kabMetricName.FindAllString(expr, -1) {
			used[name] = true
			if !exposed[name] {
				t.Errorf("dashboard expression %q uses %s, which the agent does not expose; it exposes:\n  %s", expr, name, strings.Join(sortedKeys(exposed), "\n  "))
			}
		}
		promql := grafanaVariable.ReplaceAllStringFunc(expr, func(v string) string {
			value, ok := grafanaVariables[v]
			if !ok {
				t.Errorf("dashboard expression %q uses Grafana variable %s, which is neither a template variable of the dashboard nor a known built-in (%s)", expr, v, strings.Join(sortedKeys(grafanaVariables), ", "))
			}
			return value
		})
		quoted, _ := json.Marshal(promql) // a JSON string is a YAML string
		fmt.Fprintf(&rules, "      - record: kab_dashboard:expr%d\n        expr: %s\n", i, quoted)
	}

	// Template variable queries are Grafana's label_values(metric, label), not PromQL: check the metric.
	for _, q := range variableQueries(t, dash) {
		m := labelValues.FindStringSubmatch(q)
		if m == nil {
			t.Errorf("dashboard variable query %q: want label_values(<kab metric>, <label>)", q)
			continue
		}
		used[m[1]] = true
		if !exposed[m[1]] {
			t.Errorf("dashboard variable query %q uses %s, which the agent does not expose", q, m[1])
		}
	}

	// DESIGN.md §12 names what the dashboard shows; each needs its metric.
	for _, name := range []string{
		"kab_backup_last_success_timestamp_seconds", "kab_backup_last_exit_code", "kab_backup_size_bytes",
		"kab_backup_duration_seconds_bucket", "kab_backup_runs_total", "kab_offsite_last_success_timestamp_seconds",
	} {
		if !used[name] {
			t.Errorf("dashboard.json does not use %s (fleet table, size, durations, failures, offsite lag)", name)
		}
	}

	file := filepath.Join(t.TempDir(), "dashboard-rules.yaml")
	if err := os.WriteFile(file, []byte(rules.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "rules", file).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules on the dashboard's expressions: %v\n%s\n%s", err, out, rules.String())
	}
}

// TestDashboardConfigMap checks the kustomize monitoring folder ships dashboard.json unchanged
// in a ConfigMap Grafana's sidecar picks up.
func TestDashboardConfigMap(t *testing.T) {
	objs := kustomizeObjects(t, "monitoring")
	want, err := os.ReadFile(filepath.Join("monitoring", "dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.kind() != "ConfigMap" {
			continue
		}
		var cm struct {
			Metadata struct {
				Name   string            `json:"name"`
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
			Data map[string]string `json:"data"`
		}
		raw, _ := json.Marshal(o)
		if err := json.Unmarshal(raw, &cm); err != nil {
			t.Fatal(err)
		}
		if cm.Metadata.Labels["grafana_dashboard"] != "1" {
			t.Errorf("ConfigMap %s: label grafana_dashboard=%q, want \"1\" (Grafana's sidecar selects on it)", cm.Metadata.Name, cm.Metadata.Labels["grafana_dashboard"])
		}
		if cm.Data["kab.json"] != string(want) {
			t.Errorf("ConfigMap %s: data[kab.json] is not monitoring/dashboard.json", cm.Metadata.Name)
		}
		return
	}
	t.Fatal("kubectl kustomize deploy/monitoring has no ConfigMap carrying the dashboard")
}

func readDashboard(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("monitoring", "dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash map[string]any
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("monitoring/dashboard.json is not JSON: %v", err)
	}
	return dash
}

// collectExprs walks the whole dashboard (panels, rows' nested panels, anything) for "expr".
func collectExprs(v any, out *[]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			if s, ok := child.(string); ok && k == "expr" {
				*out = append(*out, s)
				continue
			}
			collectExprs(child, out)
		}
	case []any:
		for _, child := range v {
			collectExprs(child, out)
		}
	}
}

func variableQueries(t *testing.T, dash map[string]any) []string {
	t.Helper()
	var tmpl struct {
		Templating struct {
			List []struct {
				Type  string          `json:"type"`
				Query json.RawMessage `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	raw, _ := json.Marshal(dash)
	if err := json.Unmarshal(raw, &tmpl); err != nil {
		t.Fatal(err)
	}
	var qs []string
	for _, v := range tmpl.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(v.Query, &q); err != nil { // older dashboards: a plain string
			var s string
			if err := json.Unmarshal(v.Query, &s); err != nil {
				t.Fatalf("dashboard variable query %s: %v", v.Query, err)
			}
			q.Query = s
		}
		qs = append(qs, q.Query)
	}
	return qs
}

// exposedMetricNames is what the agent exposes: scraped from a running agent when
// $KAB_AGENT_METRICS names a file, else the agent's registry.
func exposedMetricNames(t *testing.T) map[string]bool {
	t.Helper()
	file := os.Getenv(scrapedMetricsEnv)
	if file == "" {
		return agentMetricNames(t)
	}
	names := scrapedMetricNames(t, file)
	t.Logf("checking against %d kab_ series names scraped from a running agent (%s)", len(names), file)
	return names
}

// agentMetricNames gathers the agent's own registry the way the agent builds it with every
// optional family present (snapshot mode, an offsite Secret).
func agentMetricNames(t *testing.T) map[string]bool {
	t.Helper()
	m := metrics.New("dashboard-test", true, func() (time.Time, bool) { return time.Now(), true })
	metrics.NewOffsite(m.Registry, "dashboard-test")
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := seriesNames(families)
	if len(names) == 0 {
		t.Fatal("the agent's registry has no kab_ metrics")
	}
	return names
}

// scrapedMetricNames parses a /metrics response in the Prometheus text format.
func scrapedMetricNames(t *testing.T, file string) map[string]bool {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatalf("$%s: %v", scrapedMetricsEnv, err)
	}
	defer f.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	byName, err := parser.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("$%s=%s is not a /metrics scrape in the Prometheus text format: %v", scrapedMetricsEnv, file, err)
	}
	families := make([]*dto.MetricFamily, 0, len(byName))
	for _, f := range byName {
		families = append(families, f)
	}
	names := seriesNames(families)
	if len(names) == 0 {
		t.Fatalf("$%s=%s has no kab_ metrics: not scraped from a kab agent?", scrapedMetricsEnv, file)
	}
	return names
}

// seriesNames are the kab_ series names a scrape shows: a histogram as its _bucket, _sum and
// _count. Families without samples count as absent: a query on them returns nothing.
func seriesNames(families []*dto.MetricFamily) map[string]bool {
	names := map[string]bool{}
	for _, f := range families {
		if len(f.GetMetric()) == 0 {
			continue
		}
		if !strings.HasPrefix(f.GetName(), "kab_") {
			continue
		}
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM:
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[f.GetName()+s] = true
			}
		case dto.MetricType_SUMMARY:
			names[f.GetName()+"_sum"], names[f.GetName()+"_count"] = true, true
			names[f.GetName()] = true
		default:
			names[f.GetName()] = true
		}
	}
	return names
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// object is one parsed Kubernetes object.
type object map[string]any

func (o object) kind() string { s, _ := o["kind"].(string); return s }

// kustomizeObjects renders a kustomize folder with the project's kubectl (as deploy/render.sh does).
func kustomizeObjects(t *testing.T, dir string) []object {
	t.Helper()
	kubectl := os.Getenv("KAB_KUBECTL")
	if kubectl == "" {
		out, err := exec.Command("../e2e/lib/build-k8s.sh", "kubectl").Output()
		if err != nil {
			t.Fatalf("e2e/lib/build-k8s.sh kubectl: %v", err)
		}
		kubectl = filepath.Join(strings.TrimSpace(string(out)), "kubectl")
	}
	out, err := exec.Command(kubectl, "kustomize", dir).Output()
	if err != nil {
		t.Fatalf("kubectl kustomize %s: %v", dir, err)
	}
	return parseObjects(t, dir, out)
}

// parseObjects splits a multi-document YAML stream into objects, skipping empty documents.
func parseObjects(t *testing.T, source string, data []byte) []object {
	t.Helper()
	var objs []object
	for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
		var o object
		if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
			t.Fatalf("%s: document %d: %v", source, i, err)
		}
		if len(o) > 0 {
			objs = append(objs, o)
		}
	}
	return objs
}
