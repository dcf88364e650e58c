// Package podcase reads the injector's golden cases (injector/mutation/testdata: a pod as YAML,
// its config) for the tests of the mutation, the patch and the webhook, all in one way.
package podcase

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/boanu/kab/injector/config"
)

// Config loads the case's own <dir>/<name>.config.yaml, or <dir>/config.yaml when it has none.
func Config(t testing.TB, dir, name string) *config.Config {
	t.Helper()
	path := filepath.Join(dir, name+".config.yaml")
	if _, err := os.Stat(path); err != nil {
		path = filepath.Join(dir, "config.yaml")
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// JSON reads a YAML file as the raw JSON the API server would send.
func JSON(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out, err := yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out
}

// Pod decodes JSON as the webhook does: fields unknown to the Go types are dropped.
func Pod(t testing.TB, data []byte) *corev1.Pod {
	t.Helper()
	var pod corev1.Pod
	if err := json.Unmarshal(data, &pod); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	return &pod
}
