package deploy

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/boanu/kab/injector/config"
)

// The Helm chart in deploy/chart and the kustomize tree are one install described twice; these
// tests render both and fail on any difference, so neither can drift. Each case is an overlay
// (or deploy/kab.yaml, the default install) and the chart values that mean the same.
var chartCases = []struct {
	name      string
	kustomize string   // a kustomize folder, or "" for deploy/kab.yaml
	set       []string // helm --set values
	showOnly  string   // helm --show-only, for a folder that holds part of an install
}{
	{name: "default is deploy/kab.yaml"},
	{name: "hostpath", kustomize: "overlays/hostpath", set: []string{"volume.kind=hostPath", "heal.evict=false"}},
	{name: "claim", kustomize: "overlays/hostpath/claim", set: []string{"volume.kind=persistentVolumeClaim", "heal.evict=false"}},
	{name: "cert-manager", kustomize: "overlays/cert-manager", set: []string{"tls.mode=certManager"}},
	{name: "monitoring", kustomize: "monitoring", set: []string{"monitoring.enabled=true"}, showOnly: "templates/monitoring.yaml"},
}

func TestChartMatchesKustomize(t *testing.T) {
	helm := helmBinary(t)
	for _, c := range chartCases {
		t.Run(c.name, func(t *testing.T) {
			var want []object
			if c.kustomize == "" {
				data, err := os.ReadFile("kab.yaml")
				if err != nil {
					t.Fatal(err)
				}
				want = parseObjects(t, "kab.yaml", data)
			} else {
				want = kustomizeObjects(t, c.kustomize)
			}
			args := []string{"template", "kab", "chart"}
			for _, s := range c.set {
				args = append(args, "--set", s)
			}
			if c.showOnly != "" {
				args = append(args, "--show-only", c.showOnly)
			}
			got := parseObjects(t, "helm "+strings.Join(args, " "), runHelm(t, helm, args...))
			compareObjects(t, normalize(t, got), normalize(t, want))
		})
	}
}

// TestChartLint runs helm lint --strict with the defaults and with each case's values.
func TestChartLint(t *testing.T) {
	helm := helmBinary(t)
	for _, c := range chartCases {
		args := []string{"lint", "--strict", "chart"}
		for _, s := range c.set {
			args = append(args, "--set", s)
		}
		runHelm(t, helm, args...)
	}
}

// TestChartRejectsBadValues: a wrong value is refused by values.schema.json, naming the field.
func TestChartRejectsBadValues(t *testing.T) {
	helm := helmBinary(t)
	for set, field := range map[string]string{
		"volume.kind=nfs4":       "volume",
		"tls.mode=letsencrypt":   "tls",
		"layout=tree":            "layout",
		"injector.replicas=0":    "replicas",
		"monitoring.enable=true": "enable",
		"namespace.name=Kab_Sys": "namespace",
		"heal.evict=sometimes":   "evict",
	} {
		out, err := exec.Command(helm, "template", "kab", "chart", "--set", set).CombinedOutput()
		if err == nil {
			t.Errorf("helm template --set %s: accepted, want a schema error", set)
			continue
		}
		if !strings.Contains(string(out), field) {
			t.Errorf("helm template --set %s: error does not name %q:\n%s", set, field, out)
		}
	}
}

// helmBinary is the real helm built from Go modules by e2e/lib/build-helm.sh (cached in .cache/).
func helmBinary(t *testing.T) string {
	t.Helper()
	if h := os.Getenv("KAB_HELM"); h != "" {
		return h
	}
	var stderr bytes.Buffer
	cmd := exec.Command("../e2e/lib/build-helm.sh")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm is missing and e2e/lib/build-helm.sh could not build it (run `make deps`): %v\n%s", err, stderr.String())
	}
	return filepath.Join(strings.TrimSpace(string(out)), "helm")
}

func runHelm(t *testing.T, helm string, args ...string) []byte {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(helm, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return out
}

// generatedConfigName is the injector config's name with its content hash: kustomize's
// configMapGenerator and the chart both hash the content, in different ways.
var generatedConfigName = regexp.MustCompile(`^kab-injector-config-[a-z0-9]{10}$`)

// normalize makes the two renderings comparable where they may honestly differ: the config
// ConfigMap's hash suffix, and its config.yaml, compared as the injector reads it (comments and
// key order are not the same install's business).
func normalize(t *testing.T, objs []object) []object {
	t.Helper()
	var out []object
	for _, o := range objs {
		raw, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		var n object
		if err := json.Unmarshal(raw, &n); err != nil {
			t.Fatal(err)
		}
		meta, _ := n["metadata"].(map[string]any)
		if name, _ := meta["name"].(string); n.kind() == "ConfigMap" && generatedConfigName.MatchString(name) {
			meta["name"] = "kab-injector-config-HASH"
			data, _ := n["data"].(map[string]any)
			text, _ := data["config.yaml"].(string)
			cfg, err := config.Parse([]byte(text))
			if err != nil {
				t.Fatalf("ConfigMap %s: the injector refuses its config.yaml: %v\n%s", name, err, text)
			}
			canonical, err := json.Marshal(cfg)
			if err != nil {
				t.Fatal(err)
			}
			data["config.yaml"] = string(canonical)
		}
		if n.kind() == "Deployment" {
			raw, _ := json.Marshal(n)
			raw = regexp.MustCompile(`"kab-injector-config-[a-z0-9]{10}"`).ReplaceAll(raw, []byte(`"kab-injector-config-HASH"`))
			n = object{}
			if err := json.Unmarshal(raw, &n); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, n)
	}
	return out
}

func objectKey(o object) string {
	meta, _ := o["metadata"].(map[string]any)
	ns, _ := meta["namespace"].(string)
	name, _ := meta["name"].(string)
	api, _ := o["apiVersion"].(string)
	return api + " " + o.kind() + " " + ns + "/" + name
}

// compareObjects matches objects by apiVersion, kind, namespace and name (order does not matter)
// and shows each difference as both sides in YAML.
func compareObjects(t *testing.T, got, want []object) {
	t.Helper()
	index := func(objs []object) map[string]object {
		m := map[string]object{}
		for _, o := range objs {
			if _, dup := m[objectKey(o)]; dup {
				t.Errorf("%s rendered twice", objectKey(o))
			}
			m[objectKey(o)] = o
		}
		return m
	}
	g, w := index(got), index(want)
	keys := map[string]bool{}
	for k := range g {
		keys[k] = true
	}
	for k := range w {
		keys[k] = true
	}
	for _, k := range sortedKeys(keys) {
		switch go_, wo := g[k], w[k]; {
		case go_ == nil:
			t.Errorf("the chart does not render %s, which kustomize does", k)
		case wo == nil:
			t.Errorf("the chart renders %s, which kustomize does not", k)
		case !reflect.DeepEqual(go_, wo):
			gy, _ := yaml.Marshal(go_)
			wy, _ := yaml.Marshal(wo)
			t.Errorf("%s differs:\n--- chart\n%s\n--- kustomize\n%s\nfirst difference: %s", k, gy, wy, firstDifference(string(wy), string(gy)))
		}
	}
}
