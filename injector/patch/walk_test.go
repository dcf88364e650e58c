package patch

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// object encodes itself as a JSON object: the walk cannot see its fields.
type object struct{ A, B int }

func (o object) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"a": o.A, "b": []int{o.B}})
}

type quoted struct {
	N int `json:"n,string"`
}

type holder struct {
	Obj   object         `json:"obj"`
	Any   any            `json:"any,omitempty"`
	Quote quoted         `json:"quote"`
	Ptr   *object        `json:"ptr"`
	Raw   []byte         `json:"raw,omitempty"`
	Num   float64        `json:"num"`
	Tilde map[string]int `json:"ti~/lde,omitempty"`
}

// TestWalkFallsBackWhereItDoesNotModel: values the walk compares by their encoding — a
// marshaler's object, an interface, a ",string" struct, a nil pointer, []byte, a float — still
// get a patch that turns the one document into the other, the object's with paths below it.
func TestWalkFallsBackWhereItDoesNotModel(t *testing.T) {
	before := holder{Obj: object{1, 2}, Any: map[string]any{"big": json.Number("9007199254740993")}, Quote: quoted{1}, Num: 0.5}
	after := holder{Obj: object{1, 3}, Any: map[string]any{"big": json.Number("9007199254740995")}, Quote: quoted{2},
		Ptr: &object{}, Raw: []byte("x"), Num: 1e21, Tilde: map[string]int{"k": 1}}
	for _, dir := range []struct{ a, b holder }{{before, after}, {after, before}} {
		ops, err := Between(&dir.a, &dir.b)
		if err != nil {
			t.Fatal(err)
		}
		if !sameJSON(t, apply(t, mustMarshal(t, dir.a), ops), mustMarshal(t, dir.b)) {
			t.Fatalf("patch %s does not turn %s into %s", ops, mustMarshal(t, dir.a), mustMarshal(t, dir.b))
		}
	}
	ops, _ := Between(&before, &after)
	for _, want := range []string{`"path":"/obj/b/0"`, `"path":"/any/big","value":9007199254740995`, `"path":"/quote/n","value":"2"`, `"path":"/ti~0~1lde"`} {
		if !strings.Contains(string(ops), want) {
			t.Errorf("patch %s lacks %s", ops, want)
		}
	}
}

type hidden struct {
	X float64 `json:"x"`
}

type withHidden struct {
	hidden
	Y []hidden `json:"y"`
}

// TestWalkUnexportedEmbeddedAndNegativeZero: an unexported embedded struct (its fields are
// written, but reflect does not hand them out) and -0 against 0 (== but written differently).
func TestWalkUnexportedEmbeddedAndNegativeZero(t *testing.T) {
	negZero := math.Copysign(0, -1)
	cases := []struct{ a, b any }{
		{&withHidden{hidden: hidden{1}}, &withHidden{hidden: hidden{2}}},
		{&holder{Num: 0}, &holder{Num: negZero}},
	}
	for _, c := range cases {
		ops, err := Between(c.a, c.b)
		if err != nil {
			t.Fatal(err)
		}
		if ops == nil || !sameJSON(t, apply(t, mustMarshal(t, c.a), ops), mustMarshal(t, c.b)) {
			t.Fatalf("patch %s does not turn %s into %s", ops, mustMarshal(t, c.a), mustMarshal(t, c.b))
		}
	}
}
