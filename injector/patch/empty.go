package patch

import (
	"reflect"
	"unsafe"
)

// emptyAtFunc reports, from the field's memory alone, that an omitempty field is empty, so that
// a field left out of both documents costs two loads instead of two reflect.Values: most of a
// pod's fields are unset on both sides, and the walk visits each. It only ever answers "empty"
// where isEmptyValue would; false means "not known", and the caller asks reflect.
type emptyAtFunc func(p unsafe.Pointer) bool

// emptyAt is the check for a field of type t, or nil where only reflect can tell (structs,
// arrays, interfaces, floats, whose -0 is not empty).
func emptyAt(t reflect.Type) emptyAtFunc {
	switch t.Kind() {
	case reflect.String:
		return func(p unsafe.Pointer) bool { return len(*(*string)(p)) == 0 }
	case reflect.Slice:
		// Every slice header has the same layout: its length is read the same way.
		return func(p unsafe.Pointer) bool { return len(*(*[]byte)(p)) == 0 }
	case reflect.Pointer:
		return func(p unsafe.Pointer) bool { return *(*unsafe.Pointer)(p) == nil }
	case reflect.Map:
		// A nil map is empty; a non-nil one may be too, which reflect finds out.
		return func(p unsafe.Pointer) bool { return *(*unsafe.Pointer)(p) == nil }
	case reflect.Bool:
		return func(p unsafe.Pointer) bool { return !*(*bool)(p) }
	case reflect.Int, reflect.Int64, reflect.Uint, reflect.Uint64, reflect.Uintptr:
		if t.Size() == 8 {
			return func(p unsafe.Pointer) bool { return *(*uint64)(p) == 0 }
		}
	case reflect.Int32, reflect.Uint32:
		return func(p unsafe.Pointer) bool { return *(*uint32)(p) == 0 }
	case reflect.Int16, reflect.Uint16:
		return func(p unsafe.Pointer) bool { return *(*uint16)(p) == 0 }
	case reflect.Int8, reflect.Uint8:
		return func(p unsafe.Pointer) bool { return *(*uint8)(p) == 0 }
	}
	return nil
}
