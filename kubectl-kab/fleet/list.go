package fleet

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ListKind and ListAPIVersion name the -o json|yaml document; the printers of cli-runtime
// refuse objects without a kind, and a kind lets scripts tell this output apart.
const (
	ListKind       = "StatusList"
	ListAPIVersion = "kab.boa.nu/v1alpha1"
)

// List is the rows as one document for the cli-runtime JSON and YAML printers.
type List struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Items      []Row  `json:"items"`
}

// NewList wraps rows.
func NewList(rows []Row) *List {
	if rows == nil {
		rows = []Row{}
	}
	return &List{APIVersion: ListAPIVersion, Kind: ListKind, Items: rows}
}

// GetObjectKind and DeepCopyObject make List a runtime.Object.
func (l *List) GetObjectKind() schema.ObjectKind { return l }

// DeepCopyObject copies the list; rows are values, the agent JSON is copied too.
func (l *List) DeepCopyObject() runtime.Object {
	c := *l
	c.Items = make([]Row, len(l.Items))
	copy(c.Items, l.Items)
	for i := range c.Items {
		c.Items[i].Agent = append(rawJSON(nil), l.Items[i].Agent...)
	}
	return &c
}

// SetGroupVersionKind is part of schema.ObjectKind.
func (l *List) SetGroupVersionKind(gvk schema.GroupVersionKind) {
	l.APIVersion, l.Kind = gvk.GroupVersion().String(), gvk.Kind
}

// GroupVersionKind is part of schema.ObjectKind.
func (l *List) GroupVersionKind() schema.GroupVersionKind {
	return schema.FromAPIVersionAndKind(l.APIVersion, l.Kind)
}

// Problems counts the rows that are not OK: the exit code of `kubectl kab status`.
func Problems(rows []Row) int {
	n := 0
	for _, r := range rows {
		if r.State != StateOK {
			n++
		}
	}
	return n
}
