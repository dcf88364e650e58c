package mutation_test

import (
	"encoding/json"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/wI2L/jsondiff"

	"github.com/boanu/kab/injector/internal/podcase"
	"github.com/boanu/kab/injector/mutation"
	"github.com/boanu/kab/injector/patch"
)

// TestUnknownFieldsStayOnTheirContainer checks by name, not by golden file, that a field this
// build does not know stays on the container it was written on when kab prepends kab-restore
// and kab-agent. The index-by-index diff is run too, to prove the case would catch the bug.
func TestUnknownFieldsStayOnTheirContainer(t *testing.T) {
	raw := podcase.JSON(t, "testdata/unknown-fields.pod.yaml")
	pod := podcase.Pod(t, raw)
	mutated, _, err := mutation.Mutate(pod, podcase.Config(t, "testdata", "unknown-fields"))
	if err != nil {
		t.Fatal(err)
	}

	ops, err := patch.Between(pod, mutated)
	if err != nil {
		t.Fatal(err)
	}
	if owner := futureFieldOwners(t, applyOps(t, raw, ops)); owner["setup"] != "belongs-to-setup" || owner["app"] != "belongs-to-app" || len(owner) != 2 {
		t.Fatalf("unknown fields moved: %v", owner)
	}

	indexWise, err := jsondiff.Compare(pod, mutated)
	if err != nil {
		t.Fatal(err)
	}
	indexOps, err := json.Marshal(indexWise)
	if err != nil {
		t.Fatal(err)
	}
	if owner := futureFieldOwners(t, applyOps(t, raw, indexOps)); owner["setup"] == "belongs-to-setup" {
		t.Fatalf("the index-wise diff kept the field in place too (%v): this case no longer shows why LCS is needed", owner)
	}
}

func applyOps(t *testing.T, raw, ops []byte) []byte {
	t.Helper()
	p, err := jsonpatch.DecodePatch(ops)
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Apply(raw)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// futureFieldOwners maps container name → its futureContainerField, over all containers.
func futureFieldOwners(t *testing.T, podJSON []byte) map[string]string {
	t.Helper()
	var pod struct {
		Spec struct {
			InitContainers []map[string]any `json:"initContainers"`
			Containers     []map[string]any `json:"containers"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(podJSON, &pod); err != nil {
		t.Fatal(err)
	}
	owners := map[string]string{}
	for _, c := range append(pod.Spec.InitContainers, pod.Spec.Containers...) {
		if v, ok := c["futureContainerField"].(string); ok {
			owners[c["name"].(string)] = v
		}
	}
	return owners
}
