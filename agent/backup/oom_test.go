package backup

import "testing"

// Both cgroup versions carry the count on an "oom_kill N" line, among others.
func TestParseOOMKills(t *testing.T) {
	for _, tc := range []struct {
		name, raw string
		want      uint64
		ok        bool
	}{
		{"v2 memory.events", "low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n", 2, true},
		{"v1 memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 7\n", 7, true},
		{"v1 before kernel 4.13 (no count)", "oom_kill_disable 0\nunder_oom 0\n", 0, false},
		{"garbage", "oom_kill many\n", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseOOMKills([]byte(tc.raw))
			if got != tc.want || ok != tc.ok {
				t.Errorf("parseOOMKills(%q) = %d, %v; want %d, %v", tc.raw, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestHumanLimit(t *testing.T) {
	for raw, want := range map[string]string{
		"536870912":           "512 MiB",
		"max":                 "none",
		"9223372036854771712": "none", // v1's "no limit"
	} {
		if got := humanLimit(raw); got != want {
			t.Errorf("humanLimit(%q) = %q, want %q", raw, got, want)
		}
	}
}
