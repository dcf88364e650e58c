package mutation_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/boanu/kab/injector/config"
	"github.com/boanu/kab/injector/internal/podcase"
	"github.com/boanu/kab/injector/mutation"
	"sigs.k8s.io/yaml"
)

// TestNamespacedLayoutGolden runs testdata/layout/<case>.pod.yaml with <case>.config.yaml
// (layout: namespaced) against <case>.golden.yaml or <case>.error.golden. They live apart from
// testdata/*.pod.yaml because the API-server golden test creates each of those in a namespace
// of its own, which the namespaced subPath would name.
func TestNamespacedLayoutGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/layout/*.pod.yaml")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no layout cases: %v", err)
	}
	for _, input := range inputs {
		name := strings.TrimSuffix(input, ".pod.yaml")
		t.Run(filepath.Base(name), func(t *testing.T) {
			cfg, err := config.Load(name + ".config.yaml")
			if err != nil {
				t.Fatal(err)
			}
			pod := podcase.Pod(t, podcase.JSON(t, input))
			mutated, _, err := mutation.Mutate(pod, cfg)
			if err != nil {
				want, readErr := os.ReadFile(name + ".error.golden")
				if readErr != nil || err.Error()+"\n" != string(want) {
					t.Fatalf("denied with %q, want %q (%v)", err, want, readErr)
				}
				return
			}
			got, err := yaml.Marshal(mutated)
			if err != nil {
				t.Fatal(err)
			}
			want := podcase.Pod(t, podcase.JSON(t, name+".golden.yaml"))
			wantYAML, _ := yaml.Marshal(want)
			if string(got) != string(wantYAML) {
				t.Errorf("mutated pod differs from %s.golden.yaml:\n%s", name, got)
			}
		})
	}
}
