package shared

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Spec is a pod's kab annotations, parsed and validated, with defaults filled in.
type Spec struct {
	BackupName    string
	ContainerName string // "" when the annotation is unset: the pod's only container
	Schedule      Schedule
	BackupShell   []string
	BackupExec    string // "" when unset: no agent
	RestoreShell  []string
	RestoreExec   string // "" when unset: no restore container
	Timeout       time.Duration
	Keep          KeepPolicy // zero when unset: seed mode; otherwise snapshot mode
	Verify        string     // backup-verify script; "" when unset
	AllowEmpty    bool       // backup-allow-empty: a run that wrote nothing is still a success
	Offsite       string     // offsite: name of the Secret with the S3 settings; "" when unset
	Drill         string     // drill: "latest" or a snapshot stamp on a restore-drill pod; "" otherwise

	// values holds each key's value as written, or its default, so the agent gets the
	// user's own spelling (a cron line stays a cron line); indexed like Annotations.
	values []string
}

// SnapshotMode reports whether backups go to snapshots/<stamp>/ with a latest link.
func (s *Spec) SnapshotMode() bool { return !s.Keep.IsZero() }

// Value returns the key's value as written by the user, or its default.
func (s *Spec) Value(key string) string {
	if i, ok := keyIndex[key]; ok {
		return s.value(i)
	}
	return ""
}

func (s *Spec) value(i int) string {
	if i < len(s.values) {
		return s.values[i]
	}
	return ""
}

// ValueError says which setting is wrong, with what value, and what would be valid.
type ValueError struct {
	Name   string // "annotation kab.boa.nu/backup-keep" or "variable KAB_BACKUP_KEEP"
	Value  string
	Reason string
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("%s: %q %s", e.Name, e.Value, e.Reason)
}

// ErrUnknownKey is wrapped by the error for a key under the prefix that kab does not know.
var ErrUnknownKey = errors.New("unknown kab annotation")

// HasAnnotations reports whether any annotation uses kab's prefix: only such pods are kab's.
func HasAnnotations(annotations map[string]string) bool {
	for k := range annotations {
		if strings.HasPrefix(k, Prefix) {
			return true
		}
	}
	return false
}

// Parse reads every kab annotation into a Spec. All problems are reported at once (joined),
// so a user fixes a pod in one round trip rather than one error at a time.
func Parse(annotations map[string]string) (*Spec, error) {
	var errs []error
	if hasUnknownKey(annotations) { // sorted only then: the errors come in key order
		for _, key := range sortedKeys(annotations) {
			if name, unknown := unknownKey(key); unknown {
				errs = append(errs, unknownKeyError(name, annotations[key]))
			}
		}
	}
	spec, err := build(func(i int) (string, bool) {
		v, ok := annotations[annotationKeys[i]]
		return v, ok
	}, func(i int) string { return "annotation " + annotationKeys[i] }, false)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return spec, nil
}

// unknownKey: key is under the prefix, not the status, and not in the table.
func unknownKey(key string) (name string, unknown bool) {
	name, ok := strings.CutPrefix(key, Prefix)
	if !ok || name == KeyStatus {
		return "", false
	}
	_, known := keyIndex[name]
	return name, !known
}

func hasUnknownKey(annotations map[string]string) bool {
	for key := range annotations {
		if _, unknown := unknownKey(key); unknown {
			return true
		}
	}
	return false
}

// build fills a Spec from a lookup over the table entries (only the agent's, with agentOnly),
// both taking an index into Annotations; name tells how a key is called where the value came
// from (an annotation or a KAB_* variable), for the error text.
func build(lookup func(i int) (string, bool), name func(i int) string, agentOnly bool) (*Spec, error) {
	spec := &Spec{values: make([]string, len(Annotations))}
	var errs []error
	for i, a := range Annotations {
		if agentOnly && !a.ToAgent {
			continue
		}
		v, set := lookup(i)
		if set && strings.TrimSpace(v) == "" {
			errs = append(errs, &ValueError{Name: name(i), Value: v, Reason: "is empty; remove it to use the default" + defaultHint(a)})
			continue
		}
		if !set {
			v = a.Default
		}
		spec.values[i] = v
		if v == "" {
			continue
		}
		if err := a.apply(spec, v); err != nil {
			errs = append(errs, &ValueError{Name: name(i), Value: v, Reason: err.Error()})
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return spec, nil
}

func defaultHint(a Annotation) string {
	if a.Default == "" {
		return ""
	}
	return fmt.Sprintf(" (%q)", a.Default)
}

func unknownKeyError(name, value string) error {
	return fmt.Errorf("%w %s%s (value %q): did you mean %s%s? Known keys: %s",
		ErrUnknownKey, Prefix, name, value, Prefix, closestKey(name), strings.Join(knownKeys(), ", "))
}

func knownKeys() []string {
	keys := make([]string, 0, len(Annotations))
	for _, a := range Annotations {
		keys = append(keys, a.Key)
	}
	return keys
}

func closestKey(name string) string { return closestWord(name, knownKeys()) }

// closestWord is the candidate nearest to word by edit distance, for did-you-mean messages.
func closestWord(word string, candidates []string) string {
	best, bestDist := "", -1
	for _, c := range candidates {
		if d := editDistance(word, c); bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance: typos like "backup-shedule" land on the right key.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
