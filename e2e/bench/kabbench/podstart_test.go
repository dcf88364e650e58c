package main

import (
	"slices"
	"testing"
	"time"
)

// Every variant goes first equally often, and each sample runs every variant once.
func TestRotation(t *testing.T) {
	for i, want := range [][]int{{0, 1, 2}, {1, 2, 0}, {2, 0, 1}, {0, 1, 2}} {
		if got := rotation(i, 3); !slices.Equal(got, want) {
			t.Errorf("rotation(%d, 3) = %v, want %v", i, got, want)
		}
	}
	if got := rotation(1, 2); !slices.Equal(got, []int{1, 0}) {
		t.Errorf("rotation(1, 2) = %v, want [1 0]", got)
	}
}

// A step is measured within one run, from the milestone just before it in that run.
func TestStepsPerRun(t *testing.T) {
	ms := time.Millisecond
	runs := []map[string]time.Duration{
		{"scheduled": 30 * ms, "app running": 1600 * ms, "Ready": 2000 * ms},
		{"Ready": 900 * ms, "scheduled": 10 * ms},
	}
	got := stepsPerRun(runs)
	want := []map[string]time.Duration{
		{"scheduled": 30 * ms, "app running": 1570 * ms, "Ready": 400 * ms},
		{"scheduled": 10 * ms, "Ready": 890 * ms},
	}
	for i := range want {
		for k, w := range want[i] {
			if got[i][k] != w {
				t.Errorf("run %d step %q = %s, want %s", i, k, got[i][k], w)
			}
		}
		if len(got[i]) != len(want[i]) {
			t.Errorf("run %d: %d steps, want %d", i, len(got[i]), len(want[i]))
		}
	}
}
