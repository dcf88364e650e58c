package retention

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/boanu/kab/shared"
)

// TestApplyMatchesRestic runs Debian's restic (installed by make deps, e2e/lib/host-deps.sh) on
// a real repository of snapshots taken at chosen times and compares what `restic forget` keeps
// with Apply. Restic 0.14 predates the "keep the oldest when a rule runs short" change, so every
// policy here finds at least n periods for each rule.
func TestApplyMatchesRestic(t *testing.T) {
	bin, err := exec.LookPath("restic")
	if err != nil {
		t.Fatal("restic is not installed; run `make deps` (e2e/lib/host-deps.sh installs Debian's restic)")
	}
	dir := t.TempDir()
	repo, data := filepath.Join(dir, "repo"), filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	restic := func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"--repo", repo, "--no-cache", "--quiet"}, args...)...)
		cmd.Env = append(os.Environ(), "RESTIC_PASSWORD=kab-test", "TZ=UTC")
		out, err := cmd.Output()
		if err != nil {
			stderr := ""
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("restic %v: %v\n%s", args, err, stderr)
		}
		return out
	}
	restic("init")

	// Irregular times over ~3 months (several on some days, gaps of days), then a year end.
	var times []time.Time
	start := utc("2025-11-20 06:10")
	for i, step := 0, time.Duration(0); i < 36; i++ {
		step = time.Duration(5+(i*37)%97) * time.Hour
		if i%5 == 0 {
			step = 20 * time.Minute
		}
		start = start.Add(step)
		times = append(times, start)
	}
	times = append(times, utc("2026-12-31 23:59"), utc("2027-01-01 00:01"), utc("2027-01-03 12:00"))
	for _, ts := range times {
		restic("backup", "--host", "kab", "--time", ts.Format("2006-01-02 15:04:05"), data)
	}

	policies := []shared.KeepPolicy{
		{Last: 4},
		{Hourly: 5},
		{Daily: 6},
		{Weekly: 5},
		{Monthly: 3},
		{Yearly: 2},
		{Last: 2, Daily: 3, Weekly: 2, Monthly: 2, Yearly: 2},
	}
	for _, p := range policies {
		t.Run(p.String(), func(t *testing.T) {
			args := []string{"forget", "--dry-run", "--json"}
			for _, rule := range shared.KeepRules {
				if n := p.Count(rule); n > 0 {
					args = append(args, fmt.Sprintf("--keep-%s=%d", rule, n))
				}
			}
			var groups []struct {
				Keep []struct {
					Time time.Time `json:"time"`
				} `json:"keep"`
			}
			if err := json.Unmarshal(restic(args...), &groups); err != nil || len(groups) != 1 {
				t.Fatalf("restic forget output: %v, %d groups (want 1)", err, len(groups))
			}
			var want []string
			for _, k := range groups[0].Keep {
				want = append(want, k.Time.UTC().Format("2006-01-02 15:04"))
			}
			slices.Sort(want)
			slices.Reverse(want)
			got := kept(Apply(times, p, time.UTC), time.UTC)
			if !slices.Equal(got, want) {
				t.Errorf("policy %q: Apply kept\n  %v\nrestic forget kept\n  %v", p, got, want)
			}
		})
	}
}
