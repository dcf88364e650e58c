package patch

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/wI2L/jsondiff"
)

// TestEncodeMatchesLibrary: the fast encoder writes what jsondiff's own Operation.MarshalJSON
// writes, for every operation type and for a null, a nested and a numeric value.
func TestEncodeMatchesLibrary(t *testing.T) {
	ops := jsondiff.Patch{
		{Type: jsondiff.OperationAdd, Path: "/spec/initContainers/0", Value: map[string]any{"name": "kab-restore", "args": []any{"a", json.Number("1")}}},
		{Type: jsondiff.OperationAdd, Path: "/metadata/labels/a~1b", Value: nil},
		{Type: jsondiff.OperationReplace, Path: "/spec/shareProcessNamespace", Value: true},
		{Type: jsondiff.OperationRemove, Path: "/spec/volumes/2"},
		{Type: jsondiff.OperationMove, From: "/a", Path: "/b"},
		{Type: jsondiff.OperationCopy, From: "/c", Path: "/d"},
		{Type: jsondiff.OperationTest, Path: "/e", Value: "<&>\u2028"},
	}
	got, err := encode(ops)
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(ops)
	if err != nil {
		t.Fatal(err)
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("encode wrote invalid JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("encode wrote\n%s\nthe library writes\n%s", got, want)
	}
}

// TestBetweenKeepsLargeIntegers: a number above 2^53 in an added element reaches the patch as
// written, not rounded through float64.
func TestBetweenKeepsLargeIntegers(t *testing.T) {
	type box struct {
		Items []map[string]int64 `json:"items"`
	}
	before := box{Items: []map[string]int64{{"n": 1}}}
	after := box{Items: []map[string]int64{{"n": 9007199254740993}, {"n": 1}}}
	ops, err := Between(before, after)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ops), "9007199254740993") || strings.Count(string(ops), `"op"`) != 1 {
		t.Fatalf("patch %s, want one add carrying 9007199254740993", ops)
	}
}
