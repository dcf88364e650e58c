// Package retention decides which snapshots a backup-keep policy keeps (DESIGN.md §9). It is a
// pure function of the snapshot times, the policy and the zone, as restic's ApplyPolicy: for
// each rule, the newest snapshot of each of the newest n distinct periods that have snapshots;
// last=n keeps the newest n. A snapshot survives when any rule keeps it. Both the local snapshot
// folder and the offsite copies are pruned with it, so the two histories agree.
package retention

import (
	"fmt"
	"slices"
	"time"

	"github.com/boanu/kab/shared"
)

// Decision is what the policy says about one snapshot.
type Decision struct {
	Time    time.Time
	Keep    bool
	Reasons []string // e.g. "daily 2026-12-05", "last 2", "oldest"
}

// rule buckets a time into its period; label names the period in a reason.
type rule struct {
	name  string
	count int
	label func(t time.Time, index int) string
}

// Apply decides for snapshots identified by their start times (any order, unique) which to keep;
// result sorted newest first. Periods (hour, day, ISO week, month, year) are computed in loc.
//
// As current restic does, a rule that finds fewer periods than it may keep also keeps the oldest
// snapshot, so a young history is not thinned before it is long enough to need it.
func Apply(times []time.Time, policy shared.KeepPolicy, loc *time.Location) []Decision {
	if loc == nil {
		loc = time.UTC
	}
	out := make([]Decision, len(times))
	for i, t := range times {
		out[i] = Decision{Time: t}
	}
	slices.SortFunc(out, func(a, b Decision) int { return b.Time.Compare(a.Time) })

	rules := []rule{
		{"last", policy.Last, func(_ time.Time, i int) string { return fmt.Sprint(i) }},
		{"hourly", policy.Hourly, func(t time.Time, _ int) string { return t.Format("2006-01-02T15") }},
		{"daily", policy.Daily, func(t time.Time, _ int) string { return t.Format("2006-01-02") }},
		{"weekly", policy.Weekly, func(t time.Time, _ int) string {
			y, w := t.ISOWeek()
			return fmt.Sprintf("%d-W%02d", y, w)
		}},
		{"monthly", policy.Monthly, func(t time.Time, _ int) string { return t.Format("2006-01") }},
		{"yearly", policy.Yearly, func(t time.Time, _ int) string { return t.Format("2006") }},
	}
	for _, r := range rules {
		left, last := r.count, ""
		for i := range out {
			if left <= 0 {
				break
			}
			period := r.label(out[i].Time.In(loc), i)
			oldest := i == len(out)-1
			if period == last && !oldest {
				continue
			}
			d := &out[i]
			d.Keep = true
			left--
			switch {
			case period == last: // the oldest snapshot, kept with the rule's spare count
				if !slices.Contains(d.Reasons, "oldest") {
					d.Reasons = append(d.Reasons, "oldest")
				}
			case r.name == "last":
				d.Reasons = append(d.Reasons, fmt.Sprintf("last %d", r.count-left))
			default:
				d.Reasons = append(d.Reasons, r.name+" "+period)
			}
			last = period
		}
	}
	return out
}
