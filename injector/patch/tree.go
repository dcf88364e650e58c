package patch

import (
	jsoniter "github.com/json-iterator/go"
	"github.com/wI2L/jsondiff"
)

// treeJSON reads the re-encoded pods into the generic trees the diff walks, and writes the
// operations' values back out. Profiling the admission handler showed these two steps, done
// with encoding/json, costing four times the mutation itself: decoding into interface{} and
// encoding maps (sorted keys, and every Operation.MarshalJSON result re-validated by the outer
// encoder) dominate. The typed pods are still encoded by encoding/json, which defines what
// "the Go types know" means.
//
// UseNumber keeps numbers as their literal text (json.Number, which jsondiff compares as a
// string): an integer above 2^53 in a cloned container survives into the patch unrounded.
// Map keys are written unsorted: a patch value's key order means nothing.
var treeJSON = jsoniter.Config{EscapeHTML: true, UseNumber: true}.Froze()

func decodeTree(data []byte, v any) error { return treeJSON.Unmarshal(data, v) }

// encode writes ops as RFC 6902 does and as jsondiff's Operation.MarshalJSON would: "from"
// only for move and copy, "value" (null included) only for add, replace and test.
func encode(ops jsondiff.Patch) ([]byte, error) {
	s := treeJSON.BorrowStream(nil)
	defer treeJSON.ReturnStream(s)
	s.WriteArrayStart()
	for i, op := range ops {
		if i > 0 {
			s.WriteMore()
		}
		s.WriteObjectStart()
		s.WriteObjectField("op")
		s.WriteString(op.Type)
		switch op.Type {
		case jsondiff.OperationMove, jsondiff.OperationCopy:
			s.WriteMore()
			s.WriteObjectField("from")
			s.WriteString(op.From)
		}
		s.WriteMore()
		s.WriteObjectField("path")
		s.WriteString(op.Path)
		switch op.Type {
		case jsondiff.OperationAdd, jsondiff.OperationReplace, jsondiff.OperationTest:
			s.WriteMore()
			s.WriteObjectField("value")
			s.WriteVal(op.Value)
		}
		s.WriteObjectEnd()
	}
	s.WriteArrayEnd()
	if s.Error != nil {
		return nil, s.Error
	}
	return append([]byte(nil), s.Buffer()...), nil
}

// generic writes jsondiff's operations between a and b, two encoded objects or two encoded
// arrays found at the walker's path, with their paths made absolute.
func (w *walker) generic(a, b []byte) error {
	ops, err := jsondiff.CompareJSON(a, b, jsondiff.LCS(), jsondiff.UnmarshalFunc(decodeTree))
	if err != nil {
		return err
	}
	abs := func(p string) []byte { return append(w.path[:len(w.path):len(w.path)], p...) }
	for _, op := range ops {
		w.openAt(op.Type, abs(op.Path))
		switch op.Type {
		case jsondiff.OperationMove, jsondiff.OperationCopy:
			w.out.WriteString(`,"from":`)
			w.out.Write(appendString(w.out.AvailableBuffer(), abs(op.From)))
		case jsondiff.OperationAdd, jsondiff.OperationReplace, jsondiff.OperationTest:
			value, err := treeJSON.Marshal(op.Value)
			if err != nil {
				return err
			}
			w.out.WriteString(`,"value":`)
			w.out.Write(value)
		}
		w.out.WriteByte('}')
	}
	return nil
}
