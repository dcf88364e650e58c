package patch

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	corev1 "k8s.io/api/core/v1"

	"github.com/boanu/kab/injector/internal/podcase"
	"github.com/boanu/kab/injector/mutation"
)

// TestWalkOnGoldenPods: for every input of the mutation's golden tests, in both directions
// (injecting, and undoing the injection), the walked patch
//   - applied to the encoded original gives exactly the encoded mutated pod;
//   - applied to the raw input (unknown fields and all) gives what the generic JSON diff's
//     patch gives;
//   - has no more operations than the generic diff's.
func TestWalkOnGoldenPods(t *testing.T) {
	inputs, err := filepath.Glob("../mutation/testdata/*.pod.yaml")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	injected := 0
	for _, input := range inputs {
		name := strings.TrimSuffix(filepath.Base(input), ".pod.yaml")
		t.Run(name, func(t *testing.T) {
			raw := podcase.JSON(t, input)
			pod := podcase.Pod(t, raw)
			if pod.Namespace == "" {
				pod.Namespace = "apps" // as the webhook sets it
			}
			mutated, outcome, err := mutation.Mutate(pod, podcase.Config(t, "../mutation/testdata", name))
			var denied *mutation.DeniedError
			if errors.As(err, &denied) {
				return
			} else if err != nil {
				t.Fatal(err)
			}
			if outcome == mutation.Injected {
				injected++
			}
			checkAgainstGeneric(t, pod, mutated, raw)
			checkAgainstGeneric(t, mutated, pod, nil)
		})
	}
	if injected < 10 {
		t.Fatalf("only %d golden inputs were injected: the test no longer covers the mutation", injected)
	}
}

// checkAgainstGeneric is the property every patch must have; raw, when not nil, is the
// original as the API server holds it.
func checkAgainstGeneric(t *testing.T, original, mutated *corev1.Pod, raw []byte) {
	t.Helper()
	walked, err := Between(original, mutated)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(walked) && walked != nil {
		t.Fatalf("patch is not JSON: %s", walked)
	}
	// Both sides read back and written again: encoding/json writes a byte that is not UTF-8 as
	// \ufffd, and the character it stands for once decoded.
	want := reencode(t, mustMarshal(t, mutated))
	if got := reencode(t, apply(t, mustMarshal(t, original), walked)); !bytes.Equal(got, want) {
		t.Fatalf("patch %s\napplied to the original gives\n%s\nwant\n%s", walked, got, want)
	}
	generic, err := generic(original, mutated)
	if err != nil {
		t.Fatal(err)
	}
	if n, m := countOps(t, walked), countOps(t, generic); n > m {
		t.Errorf("walked patch has %d operations, the generic diff %d\nwalked:  %s\ngeneric: %s", n, m, walked, generic)
	}
	// The raw input may lack fields the Go types always write ("resources": {}), where neither
	// patch applies; the API server applies patches to its own encoding, which has them.
	if raw == nil {
		return
	}
	if viaGeneric, err := tryApply(raw, generic); err == nil {
		if viaWalk := apply(t, raw, walked); !sameJSON(t, viaWalk, viaGeneric) {
			t.Errorf("on the raw pod the walked patch gives\n%s\nthe generic diff\n%s", viaWalk, viaGeneric)
		}
	}
}

func tryApply(doc, ops []byte) ([]byte, error) {
	if ops == nil {
		return doc, nil
	}
	p, err := jsonpatch.DecodePatch(ops)
	if err != nil {
		return nil, err
	}
	return p.Apply(doc)
}

func apply(t *testing.T, doc, ops []byte) []byte {
	t.Helper()
	out, err := tryApply(doc, ops)
	if err != nil {
		t.Fatalf("patch does not apply: %v\n%s\nto\n%s", err, ops, doc)
	}
	return out
}

// reencode reads a patched document back with the Go types and writes it as encoding/json does.
func reencode(t *testing.T, doc []byte) []byte {
	t.Helper()
	return mustMarshal(t, podcase.Pod(t, doc))
}

func countOps(t *testing.T, ops []byte) int {
	t.Helper()
	if ops == nil {
		return 0
	}
	var list []json.RawMessage
	if err := json.Unmarshal(ops, &list); err != nil {
		t.Fatalf("patch is not an array: %v\n%s", err, ops)
	}
	return len(list)
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	for _, d := range []struct {
		doc []byte
		v   *any
	}{{a, &x}, {b, &y}} {
		dec := json.NewDecoder(bytes.NewReader(d.doc))
		dec.UseNumber()
		if err := dec.Decode(d.v); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, d.doc)
		}
	}
	return reflect.DeepEqual(x, y)
}

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
