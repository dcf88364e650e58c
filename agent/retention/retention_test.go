package retention

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/boanu/kab/shared"
)

// timeline is a snapshot every step from start (inclusive) to end (exclusive).
func timeline(start, end time.Time, step time.Duration) []time.Time {
	var ts []time.Time
	for t := start; t.Before(end); t = t.Add(step) {
		ts = append(ts, t)
	}
	return ts
}

// kept formats the kept times, newest first, in loc.
func kept(ds []Decision, loc *time.Location) []string {
	var out []string
	for _, d := range ds {
		if d.Keep {
			out = append(out, d.Time.In(loc).Format("2006-01-02 15:04"))
		}
	}
	return out
}

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

// year2026 is a year of 15-minute snapshots; 2026-12-31 is a Thursday of ISO week 2026-W53.
var year2026 = timeline(utc("2026-01-01 00:00"), utc("2027-01-01 00:00"), 15*time.Minute)

func TestApplyYearOfQuarterHours(t *testing.T) {
	cases := []struct {
		name   string
		policy shared.KeepPolicy
		want   []string
	}{
		{"last", shared.KeepPolicy{Last: 3}, []string{"2026-12-31 23:45", "2026-12-31 23:30", "2026-12-31 23:15"}},
		{"hourly", shared.KeepPolicy{Hourly: 3}, []string{"2026-12-31 23:45", "2026-12-31 22:45", "2026-12-31 21:45"}},
		{"daily", shared.KeepPolicy{Daily: 3}, []string{"2026-12-31 23:45", "2026-12-30 23:45", "2026-12-29 23:45"}},
		// ISO weeks end on Sunday: the newest of each is Sunday 23:45, the current week's is today's.
		{"weekly", shared.KeepPolicy{Weekly: 3}, []string{"2026-12-31 23:45", "2026-12-27 23:45", "2026-12-20 23:45"}},
		{"monthly", shared.KeepPolicy{Monthly: 3}, []string{"2026-12-31 23:45", "2026-11-30 23:45", "2026-10-31 23:45"}},
		// One year of history for yearly=3: the rule runs short, so the oldest is kept too.
		{"yearly short", shared.KeepPolicy{Yearly: 3}, []string{"2026-12-31 23:45", "2026-01-01 00:00"}},
		{"monthly 12 exact", shared.KeepPolicy{Monthly: 12}, []string{
			"2026-12-31 23:45", "2026-11-30 23:45", "2026-10-31 23:45", "2026-09-30 23:45", "2026-08-31 23:45", "2026-07-31 23:45",
			"2026-06-30 23:45", "2026-05-31 23:45", "2026-04-30 23:45", "2026-03-31 23:45", "2026-02-28 23:45", "2026-01-31 23:45"}},
		{"monthly 13 short", shared.KeepPolicy{Monthly: 13}, []string{
			"2026-12-31 23:45", "2026-11-30 23:45", "2026-10-31 23:45", "2026-09-30 23:45", "2026-08-31 23:45", "2026-07-31 23:45",
			"2026-06-30 23:45", "2026-05-31 23:45", "2026-04-30 23:45", "2026-03-31 23:45", "2026-02-28 23:45", "2026-01-31 23:45",
			"2026-01-01 00:00"}},
		{"rules overlap", shared.KeepPolicy{Last: 2, Hourly: 2, Daily: 2, Weekly: 2}, []string{
			"2026-12-31 23:45", "2026-12-31 23:30", "2026-12-31 22:45", "2026-12-30 23:45", "2026-12-27 23:45"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Apply(year2026, c.policy, time.UTC)
			if len(got) != len(year2026) {
				t.Fatalf("%d decisions for %d snapshots", len(got), len(year2026))
			}
			if k := kept(got, time.UTC); !slices.Equal(k, c.want) {
				t.Errorf("policy %q kept\n  %v\nwant\n  %v", c.policy, k, c.want)
			}
		})
	}
}

func TestApplyReasons(t *testing.T) {
	got := Apply(year2026, shared.KeepPolicy{Last: 1, Daily: 2, Yearly: 2}, time.UTC)
	want := map[string]string{
		"2026-12-31 23:45": "last 1, daily 2026-12-31, yearly 2026",
		"2026-12-30 23:45": "daily 2026-12-30",
		"2026-01-01 00:00": "oldest",
	}
	n := 0
	for _, d := range got {
		key := d.Time.UTC().Format("2006-01-02 15:04")
		if !d.Keep {
			if len(d.Reasons) > 0 {
				t.Errorf("%s removed but has reasons %v", key, d.Reasons)
			}
			continue
		}
		n++
		if r := strings.Join(d.Reasons, ", "); r != want[key] {
			t.Errorf("%s kept for %q, want %q", key, r, want[key])
		}
	}
	if n != len(want) {
		t.Errorf("kept %d snapshots, want %d", n, len(want))
	}
}

// Over years, yearly and monthly rules pick the last snapshot of each year and month, across
// leap days and year ends, whatever order the times come in.
func TestApplyAcrossYears(t *testing.T) {
	var ts []time.Time
	for t := utc("2023-06-01 03:00"); t.Before(utc("2028-03-01 00:00")); t = t.Add(24 * time.Hour) {
		ts = append(ts, t)
	}
	slices.Reverse(ts[len(ts)/2:]) // any order in
	got := Apply(ts, shared.KeepPolicy{Yearly: 4, Monthly: 3}, time.UTC)
	want := []string{"2028-02-29 03:00", "2028-01-31 03:00", "2027-12-31 03:00", "2026-12-31 03:00", "2025-12-31 03:00"}
	if k := kept(got, time.UTC); !slices.Equal(k, want) {
		t.Errorf("kept %v, want %v", k, want)
	}
	for i := 1; i < len(got); i++ {
		if !got[i-1].Time.After(got[i].Time) {
			t.Fatalf("decisions not newest first at %d: %v then %v", i, got[i-1].Time, got[i].Time)
		}
	}
}

// Days are counted in the schedule's zone: in Europe/Berlin, 23:30 UTC is already the next day,
// and the autumn DST change makes a 25-hour day that is still one day.
func TestApplyInScheduleZone(t *testing.T) {
	s, err := shared.ParseSchedule("CRON_TZ=Europe/Berlin 30 * * * *")
	if err != nil {
		t.Fatal(err)
	}
	loc := s.Location()
	if loc.String() != "Europe/Berlin" {
		t.Fatalf("Location() = %v, want Europe/Berlin", loc)
	}
	// Hourly snapshots at :30 UTC around 2026-10-25, when Berlin goes from CEST (+2) to CET (+1).
	ts := timeline(utc("2026-10-23 00:30"), utc("2026-10-26 12:00"), time.Hour)
	got := kept(Apply(ts, shared.KeepPolicy{Daily: 3}, loc), loc)
	want := []string{"2026-10-26 12:30", "2026-10-25 23:30", "2026-10-24 23:30"}
	if !slices.Equal(got, want) {
		t.Errorf("Berlin days kept %v, want %v", got, want)
	}
	gotUTC := kept(Apply(ts, shared.KeepPolicy{Daily: 3}, time.UTC), time.UTC)
	wantUTC := []string{"2026-10-26 11:30", "2026-10-25 23:30", "2026-10-24 23:30"}
	if !slices.Equal(gotUTC, wantUTC) {
		t.Errorf("UTC days kept %v, want %v", gotUTC, wantUTC)
	}
	// The 25-hour day: wall-clock 02:xx happens twice (CEST, then CET). As in restic, a period is
	// a wall-clock hour in the zone, so the two are one hour and only the later is kept.
	hours := kept(Apply(ts, shared.KeepPolicy{Hourly: 40}, loc), loc)
	if n := strings.Count(strings.Join(hours, ","), "2026-10-25 02:30"); n != 1 {
		t.Errorf("kept %d snapshots at Berlin 2026-10-25 02:30, want 1 (one wall-clock hour): %v", n, hours)
	}
	if len(hours) != 40 {
		t.Errorf("hourly=40 kept %d snapshots, want 40", len(hours))
	}
	if UTC := (shared.Schedule{Cron: "0 3 * * *"}).Location(); UTC != time.UTC {
		t.Errorf("a cron schedule without zone: Location() = %v, want UTC", UTC)
	}
}

func TestApplyEmptyAndZero(t *testing.T) {
	if got := Apply(nil, shared.KeepPolicy{Last: 3}, time.UTC); len(got) != 0 {
		t.Errorf("no snapshots: %v", got)
	}
	got := Apply(year2026[:5], shared.KeepPolicy{}, nil)
	for _, d := range got {
		if d.Keep {
			t.Errorf("the zero policy kept %v", d.Time)
		}
	}
}
