package shared

import (
	"testing"
	"time"
)

func TestParseScheduleAccepts(t *testing.T) {
	cases := []struct {
		in        string
		wantEvery time.Duration
		wantCron  string
	}{
		{"3600", time.Hour, ""},
		{"1", time.Second, ""},
		{"100", 100 * time.Second, ""},
		{"15m", 15 * time.Minute, ""},
		{"1h30m", 90 * time.Minute, ""},
		{"@every 10s", 10 * time.Second, ""},
		{"@every 2h", 2 * time.Hour, ""},
		{"0 3 * * *", 0, "0 3 * * *"},
		{"*/5 * * * *", 0, "*/5 * * * *"},
		{"0 4 * JAN,JUL SUN", 0, "0 4 * JAN,JUL SUN"},
		{"@hourly", 0, "@hourly"},
		{"@daily", 0, "@daily"},
		{"@weekly", 0, "@weekly"},
		{"@midnight", 0, "@midnight"},
		{"@monthly", 0, "@monthly"},
		{"@yearly", 0, "@yearly"},
		{"@annually", 0, "@annually"},
		{"CRON_TZ=Europe/Oslo 0 3 * * *", 0, "CRON_TZ=Europe/Oslo 0 3 * * *"},
		{"TZ=America/New_York @daily", 0, "CRON_TZ=America/New_York @daily"},
		{"CRON_TZ=UTC  30 2 * * *", 0, "CRON_TZ=UTC 30 2 * * *"},
	}
	for _, tc := range cases {
		got, err := ParseSchedule(tc.in)
		if err != nil {
			t.Errorf("ParseSchedule(%q): %v", tc.in, err)
			continue
		}
		if got.Every != tc.wantEvery || got.Cron != tc.wantCron {
			t.Errorf("ParseSchedule(%q) = %+v, want every %s cron %q", tc.in, got, tc.wantEvery, tc.wantCron)
		}
		if got.IsCron() != (tc.wantCron != "") {
			t.Errorf("ParseSchedule(%q).IsCron() = %v", tc.in, got.IsCron())
		}
	}
}

func TestParseScheduleRejects(t *testing.T) {
	for _, in := range []string{"", "0", "-1", "0s", "-1h", "500ms", "@every", "@every -1m", "@every x",
		"* * *", "0 0 3 * * *", "61 * * * *", "@fortnightly", "CRON_TZ=Nowhere/Land @daily", "CRON_TZ= @daily",
		"99999999999999999999", "8784h1s"} {
		if got, err := ParseSchedule(in); err == nil {
			t.Errorf("ParseSchedule(%q) = %+v, want an error", in, got)
		}
	}
}

func FuzzParseSchedule(f *testing.F) {
	for _, seed := range []string{"3600", "15m", "@every 1h", "0 3 * * *", "@daily", "CRON_TZ=Europe/Oslo 0 3 * * *", "TZ=UTC @hourly", "-1", "x"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseSchedule(in)
		if err != nil {
			return
		}
		// Every accepted schedule is exactly one kind, and an interval is positive.
		if s.IsCron() == (s.Every != 0) {
			t.Fatalf("ParseSchedule(%q) = %+v: want exactly one of cron or interval", in, s)
		}
		if !s.IsCron() && s.Every < time.Second {
			t.Fatalf("ParseSchedule(%q) accepted interval %s", in, s.Every)
		}
		if s.IsCron() {
			if _, err := cronParser.Parse(s.Cron); err != nil {
				t.Fatalf("ParseSchedule(%q) gave cron %q that does not parse: %v", in, s.Cron, err)
			}
		}
	})
}
