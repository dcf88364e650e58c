package mutation_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/boanu/kab/e2e/golden"
	"github.com/boanu/kab/injector/config"
	"github.com/boanu/kab/injector/internal/podcase"
	"github.com/boanu/kab/injector/mutation"
	"github.com/boanu/kab/injector/patch"
)

// TestGolden runs every testdata/<case>.pod.yaml through Mutate and the patch, the way the API
// server would: the patch is APPLIED to the raw input (not to the typed pod), so fields the Go
// types drop must survive, and the result is compared with <case>.golden.yaml. A denial is
// compared with <case>.error.golden. testdata/<case>.config.yaml overrides testdata/config.yaml.
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*.pod.yaml")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, input := range inputs {
		name := strings.TrimSuffix(filepath.Base(input), ".pod.yaml")
		t.Run(name, func(t *testing.T) {
			rawPod := podcase.JSON(t, input)
			cfg := podcase.Config(t, "testdata", name)
			pod := podcase.Pod(t, rawPod)
			before := encode(t, pod)

			mutated, outcome, err := mutation.Mutate(pod, cfg)
			if !bytes.Equal(encode(t, pod), before) {
				t.Fatal("Mutate modified its input")
			}
			errorGolden := filepath.Join("testdata", name+".error.golden")
			podGolden := filepath.Join("testdata", name+".golden.yaml")
			if err != nil {
				var denied *mutation.DeniedError
				if !errors.As(err, &denied) {
					t.Fatalf("Mutate returned %T, want *mutation.DeniedError: %v", err, err)
				}
				golden.Check(t, errorGolden, []byte(err.Error()+"\n"))
				mustNotExist(t, podGolden)
				return
			}
			mustNotExist(t, errorGolden)

			patched := applyPatch(t, rawPod, pod, mutated)
			if outcome.Skipped() && !bytes.Equal(patched, rawPod) {
				t.Fatalf("outcome %q but the patch changes the pod", outcome)
			}
			// The patch must carry the whole mutation: the patched raw pod, read back with
			// the Go types, is exactly what Mutate returned.
			if got, want := encode(t, podcase.Pod(t, patched)), encode(t, mutated); !bytes.Equal(got, want) {
				t.Fatalf("patched pod differs from the mutated pod\npatched: %s\nmutated: %s", got, want)
			}
			out, err := yaml.JSONToYAML(patched)
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, podGolden, append([]byte("# outcome: "+outcome.String()+"\n"), out...))
		})
	}
}

// TestIdempotent: a reinvocation of the webhook on an injected pod changes nothing.
func TestIdempotent(t *testing.T) {
	inputs, _ := filepath.Glob("testdata/*.pod.yaml")
	for _, input := range inputs {
		name := strings.TrimSuffix(filepath.Base(input), ".pod.yaml")
		t.Run(name, func(t *testing.T) {
			cfg := podcase.Config(t, "testdata", name)
			once, outcome, err := mutation.Mutate(podcase.Pod(t, podcase.JSON(t, input)), cfg)
			if err != nil || outcome != mutation.Injected {
				return // denials and skips have nothing to reinvoke on
			}
			twice, outcome, err := mutation.Mutate(once, cfg)
			if err != nil {
				t.Fatalf("second pass denied the injected pod: %v", err)
			}
			if outcome != mutation.SkippedAlreadyInjected {
				t.Fatalf("second pass outcome %q, want %q", outcome, mutation.SkippedAlreadyInjected)
			}
			if p, err := patch.Between(once, twice); err != nil || p != nil {
				t.Fatalf("second pass produced a patch %s (err %v)", p, err)
			}
		})
	}
}

func applyPatch(t *testing.T, rawPod []byte, original, mutated *corev1.Pod) []byte {
	t.Helper()
	ops, err := patch.Between(original, mutated)
	if err != nil {
		t.Fatal(err)
	}
	if ops == nil {
		return rawPod
	}
	decoded, err := jsonpatch.DecodePatch(ops)
	if err != nil {
		t.Fatalf("patch is not RFC 6902: %v\n%s", err, ops)
	}
	patched, err := decoded.Apply(rawPod)
	if err != nil {
		t.Fatalf("patch does not apply to the raw pod: %v\n%s", err, ops)
	}
	return patched
}

func encode(t testing.TB, v any) []byte {
	t.Helper()
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func mustNotExist(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		if golden.Updating() {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("%s exists but this case no longer produces it (go test -update removes it)", path)
	}
}

func fuzzConfig(t testing.TB) *config.Config {
	t.Helper()
	cfg, err := config.Load(filepath.Join("testdata", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func metav1ObjectMeta(name string, annotations map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: "apps", Annotations: annotations}
}
