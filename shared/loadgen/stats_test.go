package main

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i + 1) // 1..100
	}
	for _, c := range []struct {
		name   string
		sorted []time.Duration
		q      float64
		want   time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one p50", []time.Duration{7}, 0.5, 7},
		{"one p99", []time.Duration{7}, 0.99, 7},
		{"p50 of 1..100", hundred, 0.50, 50},
		{"p99 of 1..100", hundred, 0.99, 99},
		{"p100 of 1..100", hundred, 1, 100},
		{"p1 of 1..100", hundred, 0.01, 1},
		{"p50 of four", []time.Duration{10, 20, 30, 40}, 0.5, 20},
		{"p99 of four", []time.Duration{10, 20, 30, 40}, 0.99, 40},
		{"p75 of four", []time.Duration{10, 20, 30, 40}, 0.75, 30},
		{"tiny q", []time.Duration{10, 20}, 0.000001, 10},
	} {
		if got := percentile(c.sorted, c.q); got != c.want {
			t.Errorf("%s: percentile(q=%v) = %v, want %v", c.name, c.q, got, c.want)
		}
	}
}

// TestPercentileNearestRank checks the definition on random data: at least
// q of the samples are ≤ the answer and fewer than q are < it.
func TestPercentileNearestRank(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 200; trial++ {
		n := 1 + r.IntN(500)
		d := make([]time.Duration, n)
		for i := range d {
			d[i] = time.Duration(r.IntN(50))
		}
		sortDurations(d)
		for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
			p := percentile(d, q)
			le, lt := 0, 0
			for _, x := range d {
				if x <= p {
					le++
				}
				if x < p {
					lt++
				}
			}
			if float64(le) < q*float64(n)-1e-9 || float64(lt) >= q*float64(n) {
				t.Fatalf("n=%d q=%v: p=%v has %d ≤ and %d <", n, q, p, le, lt)
			}
		}
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		xs   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{3, 1}, 2},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{9, 9, 1, 9, 1}, 9},
	} {
		in := append([]float64(nil), c.xs...)
		if got := median(c.xs); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.xs, got, c.want)
		}
		for i := range in {
			if in[i] != c.xs[i] {
				t.Errorf("median changed its input: %v became %v", in, c.xs)
			}
		}
	}
}
