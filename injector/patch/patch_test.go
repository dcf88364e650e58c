package patch

import (
	"encoding/json"
	"testing"
)

type pod struct {
	Containers []container `json:"containers"`
}

type container struct {
	Name  string `json:"name"`
	Image string `json:"image,omitempty"`
}

func TestBetweenEqualIsNil(t *testing.T) {
	p := pod{Containers: []container{{Name: "app"}}}
	ops, err := Between(p, p)
	if err != nil || ops != nil {
		t.Fatalf("ops %s err %v, want nil", ops, err)
	}
}

// TestBetweenPrependIsAnInsertion: the one property kab relies on — a prepended element is an
// "add" at its index, and the existing elements are not rewritten.
func TestBetweenPrependIsAnInsertion(t *testing.T) {
	before := pod{Containers: []container{{Name: "setup", Image: "busybox"}, {Name: "migrate", Image: "app"}}}
	after := pod{Containers: append([]container{{Name: "kab-restore", Image: "app"}}, before.Containers...)}
	ops, err := Between(before, after)
	if err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(ops, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0]["op"] != "add" || got[0]["path"] != "/containers/0" {
		t.Fatalf("patch %s, want one add at /containers/0", ops)
	}
}
