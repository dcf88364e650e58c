// Package patch turns a pod and its mutated copy into the RFC 6902 JSON patch an admission
// webhook answers with. The patch is always computed by a library diff, never assembled by
// hand: hand-built operations drift from the object they claim to describe.
package patch

import (
	"fmt"

	"github.com/wI2L/jsondiff"
)

// Between returns the JSON patch that turns original into mutated, or nil when they encode to
// the same JSON. Both are re-encoded with encoding/json, so fields the Go types do not know are
// absent from both sides and no operation touches them.
//
// Arrays are compared by their longest common subsequence: a container inserted before others
// becomes an "add" at its index, and existing elements keep their paths' contents. An
// index-by-index diff would rewrite element 0 into the new container and re-add the old one at
// the end — and the API server, applying that to the object it holds, would leave the fields
// this build does not know on the wrong container.
func Between(original, mutated any) ([]byte, error) {
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
