package patch

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unsafe"
)

// walker compares two values of the same Go type the way their encoding/json documents would
// compare, without producing those documents: unchanged fields cost a comparison, and only
// what the patch carries (added and replaced values) is encoded. It writes the operations
// straight into out, a JSON array still missing its closing bracket.
type walker struct {
	out  bytes.Buffer
	enc  *json.Encoder // writes values into out, as json.Marshal would
	path []byte        // the current JSON pointer
	ops  int

	// dry: only find out whether there is a difference (errDiffers at the first one).
	dry  bool
	same *walker // the dry walker this one asks, made on first use
}

// errDiffers ends a dry walk at the first operation it would write.
var errDiffers = errors.New("differs")

// walkers are reused: the buffer a patch is written into is the largest allocation.
var walkers = sync.Pool{New: func() any {
	w := &walker{path: make([]byte, 0, 64)}
	w.enc = json.NewEncoder(&w.out)
	return w
}}

func getWalker() *walker {
	w := walkers.Get().(*walker)
	w.out.Reset()
	w.out.WriteByte('[')
	w.path, w.ops = w.path[:0], 0
	return w
}

func putWalker(w *walker) {
	if w.out.Cap() <= 1<<20 { // the webhook's body limit: a pod cannot need more
		walkers.Put(w)
	}
}

// value compares a and b, both of the same type and both present in their documents at w.path.
func (w *walker) value(a, b reflect.Value) error { return w.valueOf(shapeOf(a.Type()), a, b) }

// valueOf is value with the type's shape at hand.
func (w *walker) valueOf(s *shape, a, b reflect.Value) error {
	if s.leaf {
		return w.leaf(a, b)
	}
	switch a.Kind() {
	case reflect.Struct:
		return w.structs(s, a, b)
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() && b.IsNil() {
				return nil
			}
			return w.leaf(a, b) // null against a value
		}
		return w.valueOf(s.elem.get(), a.Elem(), b.Elem())
	case reflect.Slice:
		if a.Type().Elem().Kind() == reflect.Uint8 || a.IsNil() || b.IsNil() {
			return w.leaf(a, b) // []byte is a base64 string; nil is null
		}
		return w.slices(s.elem.get(), a, b)
	case reflect.Map:
		if a.Type().Key().Kind() != reflect.String || a.IsNil() || b.IsNil() {
			return w.leaf(a, b)
		}
		return w.maps(s.elem.get(), a, b)
	case reflect.String:
		if a.String() != b.String() {
			return w.replace(b)
		}
		return nil
	case reflect.Bool:
		if a.Bool() != b.Bool() {
			return w.replace(b)
		}
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if a.Int() != b.Int() {
			return w.replace(b)
		}
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if a.Uint() != b.Uint() {
			return w.replace(b)
		}
		return nil
	case reflect.Float32, reflect.Float64:
		if math.Float64bits(a.Float()) == math.Float64bits(b.Float()) {
			return nil
		}
		return w.encoded(a, b) // not == : -0 and 0 are written differently
	}
	return w.leaf(a, b)
}

func (w *walker) structs(s *shape, a, b reflect.Value) error {
	var pa, pb unsafe.Pointer // where a and b are in memory, when they are addressable
	if a.CanAddr() && b.CanAddr() {
		pa, pb = a.Addr().UnsafePointer(), b.Addr().UnsafePointer()
	}
	for i := range s.fields {
		f := &s.fields[i]
		if pa != nil && f.emptyAt != nil && f.emptyAt(unsafe.Add(pa, f.offset)) && f.emptyAt(unsafe.Add(pb, f.offset)) {
			continue // left out of both documents
		}
		fa, fb := fieldByIndex(a, f.index), fieldByIndex(b, f.index)
		inA, inB := !f.omitted(fa), !f.omitted(fb)
		if !inA && !inB {
			continue
		}
		mark := w.push(f.token)
		var err error
		switch {
		case inA && inB:
			err = w.valueOf(f.shape.get(), fa, fb)
		case inB:
			err = w.add(fb)
		default:
			err = w.remove()
		}
		w.path = w.path[:mark]
		if err != nil {
			return err
		}
	}
	return nil
}

func fieldByIndex(v reflect.Value, index []int) reflect.Value {
	for _, i := range index {
		v = v.Field(i)
	}
	return v
}

// slices diffs two arrays as jsondiff's LCS option does: elements in the longest common
// subsequence keep their paths; between two matches, elements are paired up and diffed in
// place, and the surplus of either side is removed or added. A container prepended to a list
// is one "add" at its index, and the containers after it keep what the API server holds for
// them, fields this build does not know included.
func (w *walker) slices(elem *shape, a, b reflect.Value) error {
	pairs, same := w.lcs(elem, a, b)
	if same {
		return nil
	}
	ai, bi := 0, 0
	step := func(endA, endB int) error {
		for ai < endA || bi < endB {
			// bi is the element's index in the document as patched so far.
			mark := w.pushIndex(bi)
			var err error
			switch {
			case ai < endA && bi < endB:
				err = w.valueOf(elem, a.Index(ai), b.Index(bi))
				ai++
				bi++
			case ai < endA:
				err = w.remove()
				ai++
			default:
				err = w.add(b.Index(bi))
				bi++
			}
			w.path = w.path[:mark]
			if err != nil {
				return err
			}
		}
		return nil
	}
	for _, p := range pairs {
		if err := step(p[0], p[1]); err != nil {
			return err
		}
		ai++
		bi++
	}
	return step(a.Len(), b.Len())
}

// lcs returns the index pairs of a longest common subsequence of a and b, equal meaning equal
// encodings, as in jsondiff, or same when a and b are equal as a whole. The common prefix and
// suffix are matched without the quadratic table, which then only covers what lies between
// them (as jsondiff's, it is O(n·m)).
func (w *walker) lcs(elem *shape, a, b reflect.Value) (pairs [][2]int, same bool) {
	n, m := a.Len(), b.Len()
	if n == 1 && m == 1 {
		// Matched or not, the two are diffed in place: the answer changes nothing.
		return nil, false
	}
	lo := 0
	for lo < n && lo < m && w.equal(elem, a.Index(lo), b.Index(lo)) {
		lo++
	}
	if lo == n && lo == m {
		return nil, true
	}
	var tail [][2]int
	head := make([][2]int, lo, min(n, m)) // room for every pair
	for i := range head {
		head[i] = [2]int{i, i}
	}
	hiA, hiB := n, m
	for hiA > lo && hiB > lo && w.equal(elem, a.Index(hiA-1), b.Index(hiB-1)) {
		hiA--
		hiB--
		tail = append(tail, [2]int{hiA, hiB})
	}
	slices.Reverse(tail)
	rows, cols := hiA-lo, hiB-lo
	if rows == 0 || cols == 0 {
		return append(head, tail...), false
	}
	// eq[i*cols+j]: a[lo+i] and b[lo+j] encode alike; t: the usual length table.
	eq := make([]bool, rows*cols)
	t := make([]int, (rows+1)*(cols+1))
	at := func(i, j int) *int { return &t[i*(cols+1)+j] }
	for i := 1; i <= rows; i++ {
		for j := 1; j <= cols; j++ {
			if eq[(i-1)*cols+j-1] = w.equal(elem, a.Index(lo+i-1), b.Index(lo+j-1)); eq[(i-1)*cols+j-1] {
				*at(i, j) = *at(i-1, j-1) + 1
			} else {
				*at(i, j) = max(*at(i-1, j), *at(i, j-1))
			}
		}
	}
	var mid [][2]int
	for i, j := rows, cols; i > 0 && j > 0; {
		switch {
		case eq[(i-1)*cols+j-1]:
			mid = append(mid, [2]int{lo + i - 1, lo + j - 1})
			i--
			j--
		case *at(i-1, j) > *at(i, j-1):
			i--
		default:
			j--
		}
	}
	slices.Reverse(mid)
	return append(append(head, mid...), tail...), false
}

func (w *walker) maps(elem *shape, a, b reflect.Value) error {
	if t := a.Type(); t.ConvertibleTo(stringMap) {
		// Labels, annotations, selectors: plain Go maps, no reflection per key.
		return w.stringMaps(a.Convert(stringMap).Interface().(map[string]string), b.Convert(stringMap).Interface().(map[string]string))
	}
	keys := func(m reflect.Value) []reflect.Value {
		out := m.MapKeys()
		slices.SortFunc(out, func(x, y reflect.Value) int { return strings.Compare(x.String(), y.String()) })
		return out
	}
	for _, k := range keys(a) {
		if !b.MapIndex(k).IsValid() {
			mark := w.pushKey(k.String())
			err := w.remove()
			w.path = w.path[:mark]
			if err != nil {
				return err
			}
		}
	}
	for _, k := range keys(b) {
		va, vb := a.MapIndex(k), b.MapIndex(k)
		mark := w.pushKey(k.String())
		var err error
		if va.IsValid() {
			err = w.valueOf(elem, va, vb)
		} else {
			err = w.add(vb)
		}
		w.path = w.path[:mark]
		if err != nil {
			return err
		}
	}
	return nil
}

var stringMap = reflect.TypeFor[map[string]string]()

func (w *walker) stringMaps(a, b map[string]string) error {
	var room [2][8]string // the keys of a usual patch fit without an allocation
	gone := room[0][:0]
	for k := range a {
		if _, ok := b[k]; !ok {
			gone = append(gone, k)
		}
	}
	slices.Sort(gone)
	for _, k := range gone {
		mark := w.pushKey(k)
		err := w.remove()
		w.path = w.path[:mark]
		if err != nil {
			return err
		}
	}
	changed := room[1][:0]
	for k, vb := range b {
		if va, had := a[k]; !had || va != vb {
			changed = append(changed, k)
		}
	}
	slices.Sort(changed)
	for _, k := range changed {
		_, had := a[k]
		vb := b[k]
		mark := w.pushKey(k)
		op := "add"
		if had {
			op = "replace"
		}
		err := w.withValue(op, reflect.ValueOf(vb))
		w.path = w.path[:mark]
		if err != nil {
			return err
		}
	}
	return nil
}

// leaf compares two values by what encoding/json writes for them. Different scalars are a
// replace; two different objects or arrays (a marshaler's output, an interface's content) go
// through the generic JSON diff, so the patch stays as small there as it was before.
func (w *walker) leaf(a, b reflect.Value) error {
	if deepEqual(a, b) {
		return nil
	}
	return w.encoded(a, b)
}

func (w *walker) encoded(a, b reflect.Value) error {
	ja, err := json.Marshal(encodable(a))
	if err != nil {
		return err
	}
	jb, err := json.Marshal(encodable(b))
	if err != nil {
		return err
	}
	if bytes.Equal(ja, jb) {
		return nil
	}
	if w.dry {
		return errDiffers
	}
	if composite(ja) && composite(jb) && ja[0] == jb[0] {
		return w.generic(ja, jb)
	}
	w.open("replace")
	w.out.WriteString(`,"value":`)
	w.out.Write(jb)
	w.out.WriteByte('}')
	return nil
}

func composite(doc []byte) bool { return doc[0] == '{' || doc[0] == '[' }

// encodable is v as encoding/json would see it inside its parent: through a pointer when
// addressable, so that methods on *T apply exactly where they would.
func encodable(v reflect.Value) any {
	if v.CanAddr() {
		return v.Addr().Interface()
	}
	return v.Interface()
}

func deepEqual(a, b reflect.Value) bool {
	return reflect.DeepEqual(encodable(a), encodable(b))
}

func (w *walker) add(v reflect.Value) error { return w.withValue("add", v) }

func (w *walker) replace(v reflect.Value) error { return w.withValue("replace", v) }

func (w *walker) withValue(op string, v reflect.Value) error {
	if w.dry {
		return errDiffers
	}
	w.open(op)
	w.out.WriteString(`,"value":`)
	// An error leaves out as it was: Encode writes only a complete value.
	if err := w.enc.Encode(encodable(v)); err != nil {
		return err
	}
	w.out.Truncate(w.out.Len() - 1) // Encode's newline
	w.out.WriteByte('}')
	return nil
}

func (w *walker) remove() error {
	if w.dry {
		return errDiffers
	}
	w.open("remove")
	w.out.WriteByte('}')
	return nil
}

// equal: a and b encode to equal JSON documents (objects compared by key, as jsondiff does).
// reflect.DeepEqual decides most pairs at once, but not all: a nil and an empty list under
// omitempty, for one, are both left out.
func (w *walker) equal(s *shape, a, b reflect.Value) bool {
	if a.Kind() == reflect.String && !s.leaf {
		// What the two steps below decide for a string (args, commands), without boxing it.
		return a.String() == b.String()
	}
	if deepEqual(a, b) {
		return true
	}
	if w.same == nil {
		w.same = &walker{dry: true}
	}
	return w.same.valueOf(s, a, b) == nil // an encoding error: not equal, and the real walk reports it
}

// open writes an operation's name and path.
func (w *walker) open(op string) { w.openAt(op, w.path) }

func (w *walker) openAt(op string, path []byte) {
	if w.ops > 0 {
		w.out.WriteByte(',')
	}
	w.ops++
	w.out.WriteString(`{"op":"`)
	w.out.WriteString(op)
	w.out.WriteString(`","path":`)
	w.out.Write(appendString(w.out.AvailableBuffer(), path))
}

func (w *walker) push(token string) int {
	mark := len(w.path)
	w.path = append(append(w.path, '/'), token...)
	return mark
}

// pushKey adds a map key, escaped as a pointer token.
func (w *walker) pushKey(key string) int {
	mark := len(w.path)
	w.path = appendToken(append(w.path, '/'), key)
	return mark
}

func (w *walker) pushIndex(i int) int {
	mark := len(w.path)
	w.path = append(w.path, '/')
	w.path = appendInt(w.path, i)
	return mark
}
