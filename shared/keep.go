package shared

import (
	"fmt"
	"strconv"
	"strings"
)

// KeepPolicy is backup-keep parsed: how many snapshots each rule keeps (0: the rule is off).
// A plain integer N is Last=N. A snapshot survives when any rule keeps it (DESIGN §9, restic's
// forget semantics); the rules are applied by agent/retention.
type KeepPolicy struct {
	Last    int
	Hourly  int
	Daily   int
	Weekly  int
	Monthly int
	Yearly  int
}

// KeepRules names the policy's rules in the order they are written and documented.
var KeepRules = []string{"last", "hourly", "daily", "weekly", "monthly", "yearly"}

// keepExample is the policy quoted in error messages.
const keepExample = "last=3 hourly=24 daily=7 weekly=4 monthly=12 yearly=3"

// IsZero reports an unset policy: seed mode, kab deletes nothing.
func (p KeepPolicy) IsZero() bool { return p == KeepPolicy{} }

// Count returns the rule's n by name ("daily" → Daily).
func (p KeepPolicy) Count(rule string) int {
	if f := p.field(rule); f != nil {
		return *f
	}
	return 0
}

func (p *KeepPolicy) field(rule string) *int {
	switch rule {
	case "last":
		return &p.Last
	case "hourly":
		return &p.Hourly
	case "daily":
		return &p.Daily
	case "weekly":
		return &p.Weekly
	case "monthly":
		return &p.Monthly
	case "yearly":
		return &p.Yearly
	}
	return nil
}

// String writes the policy in the annotation's own grammar ("last=3 daily=7").
func (p KeepPolicy) String() string {
	var words []string
	for _, rule := range KeepRules {
		if n := p.Count(rule); n > 0 {
			words = append(words, fmt.Sprintf("%s=%d", rule, n))
		}
	}
	return strings.Join(words, " ")
}

// parseKeep reads backup-keep: a whole number N (keep the newest N) or a policy of rule=n words.
func parseKeep(v string) (KeepPolicy, error) {
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		if n < MinBackupKeep || n > MaxBackupKeep {
			return KeepPolicy{}, fmt.Errorf("is not a valid snapshot count; use a whole number from %d to %d, or a policy such as %q, or remove the annotation for seed mode", MinBackupKeep, MaxBackupKeep, keepExample)
		}
		return KeepPolicy{Last: n}, nil
	}
	var p KeepPolicy
	for _, word := range strings.Fields(v) {
		rule, count, found := strings.Cut(word, "=")
		f := p.field(rule)
		switch {
		case !found:
			return KeepPolicy{}, fmt.Errorf("has %q, which is not rule=n; use a whole number (keep the newest N) or rules such as %q", word, keepExample)
		case f == nil:
			return KeepPolicy{}, fmt.Errorf("has the unknown rule %q in %q: did you mean %q? Rules: %s (e.g. %q)", rule, word, closestWord(rule, KeepRules), strings.Join(KeepRules, ", "), keepExample)
		case *f != 0:
			return KeepPolicy{}, fmt.Errorf("names the rule %q twice; give each rule once (e.g. %q)", rule, keepExample)
		}
		n, err := strconv.Atoi(count)
		if err != nil || n < MinBackupKeep || n > MaxBackupKeep {
			return KeepPolicy{}, fmt.Errorf("has %q: each rule keeps a whole number from %d to %d (e.g. %q)", word, MinBackupKeep, MaxBackupKeep, keepExample)
		}
		*f = n
	}
	if p.IsZero() {
		return KeepPolicy{}, fmt.Errorf("has no rule; use a whole number or rules such as %q", keepExample)
	}
	return p, nil
}
