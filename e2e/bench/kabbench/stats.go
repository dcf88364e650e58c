package main

import (
	"fmt"
	"slices"
	"time"
)

// summary is what every figure is reported as: n, min, median, max.
type summary struct {
	n                int
	min, median, max time.Duration
}

func summarize(samples []time.Duration) summary {
	if len(samples) == 0 {
		return summary{}
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	mid := len(s) / 2
	median := s[mid]
	if len(s)%2 == 0 {
		median = (s[mid-1] + s[mid]) / 2
	}
	return summary{n: len(s), min: s[0], median: median, max: s[len(s)-1]}
}

func (s summary) String() string {
	if s.n == 0 {
		return "n=0"
	}
	return fmt.Sprintf("n=%d min %s median %s max %s", s.n, ms(s.min), ms(s.median), ms(s.max))
}

// ms prints a duration in milliseconds with enough digits for sub-millisecond figures.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v < 10:
		return fmt.Sprintf("%.2f ms", v)
	case v < 1000:
		return fmt.Sprintf("%.1f ms", v)
	}
	return fmt.Sprintf("%.0f ms", v)
}

// ratio is a/b of two medians, printed as "1.23×".
func ratio(a, b summary) string {
	if b.median == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", float64(a.median)/float64(b.median))
}
