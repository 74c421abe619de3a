package main

import (
	"slices"
	"time"
)

// percentile returns the nearest-rank q-quantile (0 < q ≤ 1) of sorted
// durations: the smallest sample such that at least q of all samples are ≤
// it. It returns 0 for no samples.
func percentile(sorted []time.Duration, q float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// rank = ceil(q·n), computed in integers to avoid 0.99·100 = 98.999….
	rank := int((int64(q*1e6)*int64(n) + 1e6 - 1) / 1e6)
	rank = max(1, min(rank, n))
	return sorted[rank-1]
}

// median returns the median of xs (the mean of the two middle values for an
// even count) without changing xs. It returns 0 for no values.
func median(xs []float64) float64 {
	n := len(xs)
	if n == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// sortDurations sorts d in place and returns it.
func sortDurations(d []time.Duration) []time.Duration {
	slices.Sort(d)
	return d
}
