package main

import (
	"testing"
	"time"
)

// The summary every figure is printed as: odd and even counts, unsorted input.
func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		in   []time.Duration
		want summary
	}{
		{[]time.Duration{3, 1, 2}, summary{n: 3, min: 1, median: 2, max: 3}},
		{[]time.Duration{4, 1, 3, 2}, summary{n: 4, min: 1, median: 2, max: 4}}, // (2+3)/2 in integer ns
		{[]time.Duration{7}, summary{n: 1, min: 7, median: 7, max: 7}},
		{nil, summary{}},
	} {
		if got := summarize(tc.in); got != tc.want {
			t.Errorf("summarize(%v) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
	if got := ratio(summary{n: 1, median: 3 * time.Millisecond}, summary{n: 1, median: 2 * time.Millisecond}); got != "1.50×" {
		t.Errorf("ratio = %q, want 1.50×", got)
	}
}

func TestParseProbe(t *testing.T) {
	d, err := parseProbe("noise\ntrigger_ns 1234567\n")
	if err != nil || d != 1234567 {
		t.Errorf("parseProbe = %v, %v; want 1.234567ms", d, err)
	}
	if _, err := parseProbe("no figure here"); err == nil {
		t.Error("parseProbe accepted output without a trigger_ns line")
	}
}
