package measure

import (
	"math"
	"slices"
	"time"

	"github.com/capsim/capsim/sim"
)

// MaxExact is how many latency samples are kept for exact percentiles;
// beyond it percentiles come from a histogram (≤ 0.4 % relative error).
// 4 Mi samples are 32 MB.
const MaxExact = 4 << 20

// maxExact is MaxExact, lowered by tests to reach the histogram's path.
var maxExact = MaxExact

// Stats are latency statistics in milliseconds.
type Stats struct {
	N    int64   `json:"n"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	// Exact says the percentiles were computed from every sample; false:
	// from a histogram, or as the measuring tool reported them.
	Exact bool `json:"exact"`
	// Has says which percentiles the source gave (a k6 summary without
	// p(99) in --summary-trend-stats has none): keys "mean", "p50", "p90",
	// "p95", "p99", "max".
	Has map[string]bool `json:"-"`
}

// samples accumulates latencies (ms): every value while they fit in
// MaxExact, and always a histogram, so that memory stays bounded.
type samples struct {
	exact    []float64
	limit    int // most exact samples kept
	overflow bool
	hist     *sim.Histogram
	sum      sim.Kahan
	n        int64
	max      float64
}

func newSamples(limit int) *samples { return &samples{hist: sim.NewHistogram(), limit: limit} }

func (s *samples) add(ms float64) {
	s.n++
	s.sum.Add(ms)
	s.max = max(s.max, ms)
	s.hist.Record(sim.Time(math.Round(ms * float64(time.Millisecond))))
	if !s.overflow {
		if len(s.exact) < s.limit {
			s.exact = append(s.exact, ms)
		} else {
			s.overflow, s.exact = true, nil
		}
	}
}

// stats computes the statistics; it sorts the exact samples.
func (s *samples) stats() Stats {
	st := Stats{N: s.n, Max: s.max, Exact: !s.overflow,
		Has: map[string]bool{"mean": true, "p50": true, "p90": true, "p95": true, "p99": true, "max": true}}
	if s.n == 0 {
		return st
	}
	st.Mean = s.sum.Sum() / float64(s.n)
	q := func(p float64) float64 {
		if s.overflow {
			return s.hist.Quantile(p).Millis()
		}
		return Percentile(s.exact, p)
	}
	if !s.overflow {
		slices.Sort(s.exact)
	}
	st.P50, st.P90, st.P95, st.P99 = q(0.5), q(0.9), q(0.95), q(0.99)
	return st
}

// Percentile is k6's trend percentile of sorted values: the value at rank
// p·(n−1), interpolated linearly between its neighbours (k6's
// metrics.TrendSink.P).
func Percentile(sorted []float64, p float64) float64 {
	switch len(sorted) {
	case 0:
		return 0
	case 1:
		return sorted[0]
	}
	i := p * float64(len(sorted)-1)
	lo, hi := sorted[int(math.Floor(i))], sorted[int(math.Ceil(i))]
	return lo + (hi-lo)*(i-math.Floor(i))
}

// windowHist is a small log histogram for one window of the series: 8
// buckets per power of two of microseconds (≤ 9 % wide), enough to draw a
// percentile's line, 1.3 KB a window.
type windowHist [320]uint32

func (h *windowHist) add(ms float64) {
	us := ms * 1000
	i := 0
	if us >= 1 {
		e := math.Floor(math.Log2(us))
		frac := us/math.Exp2(e) - 1 // [0, 1)
		i = min(int(e)*8+int(frac*8)+1, len(h)-1)
	}
	h[i]++
}

// quantile returns the geometric middle of the bucket holding rank
// ceil(q·n), in ms.
func (h *windowHist) quantile(q float64, n uint32) float64 {
	if n == 0 {
		return math.NaN()
	}
	rank := uint32(max(1, math.Ceil(q*float64(n))))
	var seen uint32
	for i, c := range h {
		seen += c
		if seen >= rank {
			if i == 0 {
				return 0.0005
			}
			e, sub := (i-1)/8, (i-1)%8
			lo := math.Exp2(float64(e)) * (1 + float64(sub)/8)
			hi := math.Exp2(float64(e)) * (1 + float64(sub+1)/8)
			return math.Sqrt(lo*hi) / 1000
		}
	}
	return math.NaN()
}

func (h *windowHist) merge(o *windowHist) {
	for i := range h {
		h[i] += o[i]
	}
}
