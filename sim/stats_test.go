package sim

import (
	"math"
	"sort"
	"testing"
)

// The histogram's percentiles must be within 1 % of the exact order
// statistic, for any distribution shape and magnitude.
func TestHistogramQuantileError(t *testing.T) {
	cases := []struct {
		name string
		draw func(s *Stream) Time
	}{
		{"exp 10ms", func(s *Stream) Time { return Time(s.ExpFloat64() * 1e7) }},
		{"lognormal wide", func(s *Stream) Time { return Time(math.Exp(s.NormFloat64()*2) * 1e6) }},
		{"uniform ns", func(s *Stream) Time { return Time(s.IntN(5000)) }},
		{"seconds", func(s *Stream) Time { return Time((1 + s.Float64()) * 3e9) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := NewStream(7, "hist", c.name)
			h := NewHistogram()
			vals := make([]Time, 200_000)
			for i := range vals {
				vals[i] = c.draw(s)
				h.Record(vals[i])
			}
			sort.Slice(vals, func(i, j int) bool { return vals[i] < vals[j] })
			for _, q := range []float64{0.01, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999, 0.9999} {
				exact := vals[int(math.Ceil(q*float64(len(vals))))-1]
				got := h.Quantile(q)
				if rel := math.Abs(float64(got-exact)) / math.Max(float64(exact), 1); rel > 0.01 && math.Abs(float64(got-exact)) > 1 {
					t.Errorf("q=%v: histogram %v, exact %v (%.3f %% off)", q, got, exact, 100*rel)
				}
			}
			if h.Max() != vals[len(vals)-1] {
				t.Errorf("max %v, exact %v", h.Max(), vals[len(vals)-1])
			}
			var sum float64
			for _, v := range vals {
				sum += float64(v)
			}
			if m := float64(h.Mean()); math.Abs(m-sum/float64(len(vals))) > 1 {
				t.Errorf("mean %v, exact %v", m, sum/float64(len(vals)))
			}
		})
	}
}

func TestHistogramMergeAndReset(t *testing.T) {
	a, b, all := NewHistogram(), NewHistogram(), NewHistogram()
	s := NewStream(1, "m", "m")
	for i := 0; i < 10000; i++ {
		v := Time(s.ExpFloat64() * 1e6)
		all.Record(v)
		if i%3 == 0 {
			a.Record(v)
		} else {
			b.Record(v)
		}
	}
	a.Merge(b)
	for _, q := range []float64{0.5, 0.99} {
		if a.Quantile(q) != all.Quantile(q) {
			t.Errorf("merged q%v = %v, want %v", q, a.Quantile(q), all.Quantile(q))
		}
	}
	if a.Count() != all.Count() || a.Max() != all.Max() || a.Mean() != all.Mean() {
		t.Errorf("merged count/max/mean %d/%v/%v, want %d/%v/%v", a.Count(), a.Max(), a.Mean(), all.Count(), all.Max(), all.Mean())
	}
	a.Reset()
	if a.Count() != 0 || a.Max() != 0 || a.Quantile(0.5) != 0 {
		t.Errorf("reset histogram not empty")
	}
}

func TestLevel(t *testing.T) {
	var l Level
	l.Add(0, 2)          // 2 during [0,10)
	l.Add(10*Second, 3)  // 5 during [10,20)
	l.Add(20*Second, -5) // 0 during [20,40)
	if m := l.Mean(40 * Second); math.Abs(m-(20+50)/40.0) > 1e-12 {
		t.Errorf("mean = %v, want %v", m, 70/40.0)
	}
	if l.Max() != 5 {
		t.Errorf("max = %d, want 5", l.Max())
	}
	m, mx := l.CloseWindow(40 * Second)
	if math.Abs(m-70/40.0) > 1e-12 || mx != 5 {
		t.Errorf("window = %v/%d", m, mx)
	}
	l.Add(50*Second, 4)
	m, mx = l.CloseWindow(60 * Second)
	if math.Abs(m-2) > 1e-12 || mx != 4 {
		t.Errorf("second window = %v/%d, want 2/4", m, mx)
	}
	l.ResetRun(60 * Second)
	if m := l.Mean(70 * Second); m != 4 {
		t.Errorf("mean after reset = %v, want 4", m)
	}
}

func TestKahan(t *testing.T) {
	var k Kahan
	k.Add(1e16)
	for i := 0; i < 1000; i++ {
		k.Add(1)
	}
	k.Add(-1e16)
	if k.Sum() != 1000 {
		t.Errorf("compensated sum = %v, want 1000", k.Sum())
	}
}

func TestInt128(t *testing.T) {
	var a Int128
	a.AddProduct(math.MaxInt64, math.MaxInt64) // far beyond int64
	a.AddProduct(math.MaxInt64, math.MaxInt64)
	b := a
	a.Add(-5)
	a.Add(3)
	if d := a.Sub(b); d.Float64() != -2 {
		t.Errorf("difference %v, want -2", d.Float64())
	}
	want := 2 * float64(math.MaxInt64) * float64(math.MaxInt64)
	if got := b.Float64(); math.Abs(got-want) > 1e-12*want {
		t.Errorf("%v, want %v", got, want)
	}
	var c Int128
	for i := 0; i < 1000; i++ {
		c.Add(-1)
	}
	if c.Float64() != -1000 {
		t.Errorf("%v, want -1000", c.Float64())
	}
}

// Every value falls inside the bounds of its bucket, buckets are contiguous,
// and no bucket is wider than 1/128 of its smallest value.
func TestBucketLayout(t *testing.T) {
	prevEnd := int64(0)
	for i := 0; i < histogramBuckets; i++ {
		lo, w := bucketBounds(i)
		if lo != prevEnd {
			t.Fatalf("bucket %d starts at %d, previous ended at %d", i, lo, prevEnd)
		}
		if lo >= 256 && w*128 > lo {
			t.Fatalf("bucket %d [%d, +%d) wider than 1/128", i, lo, w)
		}
		for _, v := range []int64{lo, lo + w - 1} {
			if bucketIndex(v) != i {
				t.Fatalf("value %d in bucket %d, want %d", v, bucketIndex(v), i)
			}
		}
		prevEnd = lo + w
	}
	if prevEnd <= histogramMax {
		t.Errorf("buckets end at %d, below the maximum %d", prevEnd, histogramMax)
	}
}
