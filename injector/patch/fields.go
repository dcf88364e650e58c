package patch

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
)

// field is one member of a struct's JSON object, as encoding/json writes it.
type field struct {
	name      string // the JSON key
	token     string // name as a JSON pointer token (~ and / escaped)
	index     []int  // as reflect.Value.FieldByIndex takes it; more than one step for inlined structs
	omitEmpty bool
	omitZero  bool
	isZero    func(reflect.Value) bool // the type's own IsZero, for omitzero; nil: reflect's
	shape     *lazyShape               // the field type's
	offset    uintptr                  // from the start of the outermost struct, through inlined ones
	emptyAt   emptyAtFunc              // for omitempty fields: see emptyAt; nil: ask reflect
}

// shape is how the typed walk treats a type.
type shape struct {
	leaf   bool       // compare by encoding: a marshaler, an interface, or a struct layout not modelled below
	fields []field    // for a struct that is not a leaf
	elem   *lazyShape // for a pointer, slice or map: its element type's
}

// lazyShape is a type's shape, found on first use and then kept where the walk needs it: a
// shape refers to its fields' and elements' shapes without a lookup per value walked, and
// without building all of a recursive type's shapes at once.
type lazyShape struct {
	t reflect.Type
	p atomic.Pointer[shape]
}

func lazyShapeOf(t reflect.Type) *lazyShape { return &lazyShape{t: t} }

func (l *lazyShape) get() *shape {
	if s := l.p.Load(); s != nil {
		return s
	}
	s := shapeOf(l.t)
	l.p.Store(s)
	return s
}

var shapes sync.Map // reflect.Type → *shape

var (
	marshalerType     = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	isZeroerType      = reflect.TypeFor[interface{ IsZero() bool }]()
)

// shapeOf models t the way encoding/json's typeFields does, for the struct layouts the
// Kubernetes types use: exported fields named by their json tag, "-" skipped, omitempty and
// omitzero, and embedded structs without a json name inlined (TypeMeta, ObjectMeta's own).
// Anything else — a marshaler, a ",string" option, an embedded pointer or non-struct, two
// fields with the same name, a tag encoding/json would not accept — makes t a leaf, compared
// by its encoding: the walk never guesses what encoding/json would write.
func shapeOf(t reflect.Type) *shape {
	if s, ok := shapes.Load(t); ok {
		return s.(*shape)
	}
	s := buildShape(t)
	shapes.Store(t, s)
	return s
}

func buildShape(t reflect.Type) *shape {
	if isMarshaler(t) {
		return &shape{leaf: true}
	}
	switch t.Kind() {
	case reflect.Struct:
		fields, ok := structFields(t, nil, 0, map[reflect.Type]bool{})
		if !ok || hasDuplicateNames(fields) {
			return &shape{leaf: true}
		}
		return &shape{fields: fields}
	case reflect.Pointer, reflect.Map, reflect.Slice:
		return &shape{elem: lazyShapeOf(t.Elem())}
	case reflect.String, reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return &shape{}
	}
	return &shape{leaf: true} // interfaces, arrays, channels, functions…
}

// isMarshaler: encoding/json calls a method of t (or of *t, when the value is addressable)
// instead of looking at its fields.
func isMarshaler(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return t.Implements(marshalerType) || t.Implements(textMarshalerType) ||
		p.Implements(marshalerType) || p.Implements(textMarshalerType)
}

func structFields(t reflect.Type, prefix []int, base uintptr, seen map[reflect.Type]bool) ([]field, bool) {
	if seen[t] {
		return nil, false
	}
	seen[t] = true
	var out []field
	for i := range t.NumField() {
		sf := t.Field(i)
		tag, hasTag := sf.Tag.Lookup("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		index := append(append([]int(nil), prefix...), i)
		switch {
		case sf.Anonymous && name == "":
			// Inlined: its fields are the parent's (TypeMeta in every object). Not through an
			// unexported type: reflect would not hand its values out for encoding.
			if sf.Type.Kind() != reflect.Struct || !sf.IsExported() || isMarshaler(sf.Type) {
				return nil, false
			}
			inner, ok := structFields(sf.Type, index, base+sf.Offset, seen)
			if !ok {
				return nil, false
			}
			out = append(out, inner...)
			continue
		case sf.Anonymous && !sf.IsExported():
			return nil, false
		case !sf.IsExported():
			continue
		}
		// A named field, embedded ones included (ObjectMeta is `json:"metadata"`).
		if hasTag && name != "" && !validTag(name) {
			return nil, false
		}
		if name == "" {
			name = sf.Name
		}
		f := field{name: name, token: pointerToken(name), index: index, shape: lazyShapeOf(sf.Type), offset: base + sf.Offset}
		for opt := range strings.SplitSeq(opts, ",") {
			switch opt {
			case "omitempty":
				f.omitEmpty = true
			case "omitzero":
				f.omitZero = true
				if f.isZero, _ = zeroFunc(sf.Type); f.isZero == nil && sf.Type.Kind() == reflect.Interface {
					return nil, false
				}
			case "", "inline":
			default: // ",string" and whatever a later encoding/json adds
				return nil, false
			}
		}
		if f.omitEmpty && !f.omitZero {
			f.emptyAt = emptyAt(sf.Type)
		}
		out = append(out, f)
	}
	return out, true
}

// zeroFunc is encoding/json's choice of IsZero for an omitzero field of type t; nil means
// reflect.Value.IsZero.
func zeroFunc(t reflect.Type) (func(reflect.Value) bool, bool) {
	switch {
	case t.Kind() == reflect.Interface && t.Implements(isZeroerType):
		return nil, false // not modelled: the caller makes the struct a leaf
	case t.Kind() == reflect.Pointer && t.Implements(isZeroerType):
		return func(v reflect.Value) bool {
			return v.IsNil() || v.Interface().(interface{ IsZero() bool }).IsZero()
		}, true
	case t.Implements(isZeroerType):
		return func(v reflect.Value) bool { return v.Interface().(interface{ IsZero() bool }).IsZero() }, true
	case reflect.PointerTo(t).Implements(isZeroerType):
		return func(v reflect.Value) bool {
			if !v.CanAddr() {
				boxed := reflect.New(v.Type()).Elem()
				boxed.Set(v)
				v = boxed
			}
			return v.Addr().Interface().(interface{ IsZero() bool }).IsZero()
		}, true
	}
	return nil, true
}

func hasDuplicateNames(fields []field) bool {
	seen := make(map[string]bool, len(fields))
	for _, f := range fields {
		if seen[f.name] {
			return true
		}
		seen[f.name] = true
	}
	return false
}

// validTag is encoding/json's isValidTag: a name it would not accept falls back to the Go
// field name there, which this walk does not model.
func validTag(s string) bool {
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}

// omitted: encoding/json leaves the field out of its object.
func (f *field) omitted(v reflect.Value) bool {
	if f.omitEmpty && isEmptyValue(v) {
		return true
	}
	if !f.omitZero {
		return false
	}
	if f.isZero != nil {
		return f.isZero(v)
	}
	return v.IsZero()
}

// isEmptyValue is encoding/json's.
func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64,
		reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}
