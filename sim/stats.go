package sim

import (
	"math"
	"math/bits"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// histogramMax is the largest value a Histogram resolves (about 2.8 hours in
// nanoseconds); larger observations are clamped to it.
const histogramMax = int64(10_000 * Second)

// Histogram is a streaming, mergeable latency histogram: an HdrHistogram with
// two significant digits (log-linear buckets 1/128 of their magnitude wide,
// about 40 KiB whatever the number of observations), plus the exact count,
// mean and maximum. Quantile returns the middle of the bucket holding the
// requested rank, so its relative error is at most 1/256 (0.4 %).
type Histogram struct {
	h   *hdrhistogram.Histogram
	sum Int128
	max Time
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram {
	return &Histogram{h: hdrhistogram.New(1, histogramMax, 2)}
}

// Record adds one observation; negative values count as 0.
func (h *Histogram) Record(v Time) {
	if v < 0 {
		v = 0
	}
	h.sum.Add(int64(v))
	if v > h.max {
		h.max = v
	}
	x := int64(v)
	if x > histogramMax {
		x = histogramMax
	}
	_ = h.h.RecordValue(x) // cannot fail: x is within the trackable range
}

// Count is the number of observations.
func (h *Histogram) Count() int64 { return h.h.TotalCount() }

// Mean is the exact mean of the observations (0 when empty).
func (h *Histogram) Mean() Time {
	n := h.h.TotalCount()
	if n == 0 {
		return 0
	}
	return Time(math.Round(h.sum.Float64() / float64(n)))
}

// Max is the exact largest observation.
func (h *Histogram) Max() Time { return h.max }

// Quantile returns the q-quantile (0 ≤ q ≤ 1), 0 when empty.
func (h *Histogram) Quantile(q float64) Time {
	if h.h.TotalCount() == 0 {
		return 0
	}
	v := h.h.ValueAtQuantile(q * 100) // highest value equivalent to the bucket
	if q >= 1 || Time(v) > h.max {
		return h.max
	}
	// Buckets hold 128..256 distinct sub-buckets: values below 256 are exact,
	// above that a sub-bucket spans 2^(bitlen-8) values.
	width := int64(1)
	if n := bits.Len64(uint64(v)); n > 8 {
		width = 1 << (n - 8)
	}
	return Time(v - (width-1)/2)
}

// Merge adds the observations of o to h.
func (h *Histogram) Merge(o *Histogram) {
	h.h.Merge(o.h)
	h.sum = h.sum.Sub(Int128{}.Sub(o.sum))
	if o.max > h.max {
		h.max = o.max
	}
}

// Reset forgets every observation.
func (h *Histogram) Reset() {
	h.h.Reset()
	h.sum = Int128{}
	h.max = 0
}

// Kahan is a compensated (Neumaier) sum: its result does not depend on the
// magnitude mix of the terms the way a naive float sum does.
type Kahan struct{ sum, c float64 }

// Add adds x.
func (k *Kahan) Add(x float64) {
	t := k.sum + x
	if math.Abs(k.sum) >= math.Abs(x) {
		k.c += (k.sum - t) + x
	} else {
		k.c += (x - t) + k.sum
	}
	k.sum = t
}

// Sum is the compensated total.
func (k *Kahan) Sum() float64 { return k.sum + k.c }

// Level tracks a non-negative integer quantity over time (busy cores, queue
// length, requests in flight) and integrates it exactly, for time-weighted
// means over the whole run and over the current window.
type Level struct {
	v         int64
	last      Time
	area      Int128 // ∫ v dt since time 0, in unit·ns
	runStart  Time
	runArea   Int128 // area at runStart
	winStart  Time
	winArea   Int128 // area at winStart
	max, wmax int64
}

// Add changes the level by d at time now.
func (l *Level) Add(now Time, d int64) {
	if dt := now - l.last; dt > 0 {
		if l.v > 0 {
			l.area.AddProduct(l.v, int64(dt))
		}
		l.last = now
	}
	l.v += d
	if l.v > l.wmax {
		l.wmax = l.v
		if l.v > l.max {
			l.max = l.v
		}
	}
}

// Value is the current level.
func (l *Level) Value() int64 { return l.v }

func (l *Level) advance(now Time) { l.Add(now, 0) }

// Mean is the time-weighted mean since the run statistics were last reset.
func (l *Level) Mean(now Time) float64 {
	l.advance(now)
	if now <= l.runStart {
		return float64(l.v)
	}
	return l.area.Sub(l.runArea).Float64() / float64(now-l.runStart)
}

// Max is the largest level since the run statistics were last reset.
func (l *Level) Max() int64 { return l.max }

// CloseWindow returns the time-weighted mean and the maximum since the last
// window closed, and starts a new window at now.
func (l *Level) CloseWindow(now Time) (mean float64, max int64) {
	l.advance(now)
	mean = float64(l.v)
	if now > l.winStart {
		mean = l.area.Sub(l.winArea).Float64() / float64(now-l.winStart)
	}
	max = l.wmax
	l.winArea, l.winStart, l.wmax = l.area, now, l.v
	return mean, max
}

// ResetRun restarts the run statistics at now (the end of a warm-up period),
// keeping the current level.
func (l *Level) ResetRun(now Time) {
	l.advance(now)
	l.runArea, l.runStart, l.max = l.area, now, l.v
}
