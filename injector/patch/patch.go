// Package patch turns a pod and its mutated copy into the RFC 6902 JSON patch an admission
// webhook answers with. The patch is always computed by a diff, never assembled by hand:
// hand-built operations drift from the object they claim to describe.
package patch

import (
	"fmt"
	"reflect"

	"github.com/wI2L/jsondiff"
)

// Between returns the JSON patch that turns original into mutated, or nil when they encode to
// the same JSON. The documents compared are what encoding/json writes for each, so fields the
// Go types do not know are absent from both sides and no operation touches them.
//
// Arrays are compared by their longest common subsequence: a container inserted before others
// becomes an "add" at its index, and existing elements keep their paths' contents. An
// index-by-index diff would rewrite element 0 into the new container and re-add the old one at
// the end — and the API server, applying that to the object it holds, would leave the fields
// this build does not know on the wrong container.
//
// Two values of the same struct type (a pod and its mutation) are compared field by field
// without encoding either (walk.go): only the values the patch carries are encoded. Anything
// else goes through jsondiff on the encoded documents, as does every part of a struct whose
// encoding the walk does not model (fields.go).
func Between(original, mutated any) ([]byte, error) {
	ops, err := AppendBetween(nil, original, mutated)
	if len(ops) == 0 {
		return nil, err
	}
	return ops, err
}

// AppendBetween is Between writing the patch at the end of dst, for a caller that reuses one
// buffer across admissions: the patch is the largest thing an admission allocates besides the
// pods. With no difference, or an error, dst is returned as it was.
func AppendBetween(dst []byte, original, mutated any) ([]byte, error) {
	a, b := reflect.ValueOf(original), reflect.ValueOf(mutated)
	if !a.IsValid() || !b.IsValid() || a.Type() != b.Type() || !walkable(a.Type()) ||
		a.Kind() == reflect.Pointer && (a.IsNil() || b.IsNil()) {
		ops, err := generic(original, mutated)
		return append(dst, ops...), err
	}
	w := getWalker()
	defer putWalker(w)
	if err := w.value(a, b); err != nil {
		return dst, fmt.Errorf("diff pod: %w", err)
	}
	if w.ops == 0 {
		return dst, nil
	}
	w.out.WriteByte(']')
	return append(dst, w.out.Bytes()...), nil
}

// walkable: a struct or a pointer to one, whose document is an object for the walk to start in.
func walkable(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct && !shapeOf(t).leaf
}

// generic is the whole-document diff: both values encoded, decoded into trees, compared.
func generic(original, mutated any) ([]byte, error) {
	ops, err := jsondiff.Compare(original, mutated, jsondiff.LCS(), jsondiff.UnmarshalFunc(decodeTree))
	if err != nil {
		return nil, fmt.Errorf("diff pod: %w", err)
	}
	if len(ops) == 0 {
		return nil, nil
	}
	out, err := encode(ops)
	if err != nil {
		return nil, fmt.Errorf("encode patch: %w", err)
	}
	return out, nil
}
