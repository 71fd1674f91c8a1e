package sim

import (
	"math"
	"math/bits"
)

// histogramMax is the largest value a Histogram resolves (about 2.8 hours in
// nanoseconds); larger observations are clamped to it.
const histogramMax = int64(10_000 * Second)

// subBits is log2 of the sub-buckets per power of two: 2^subBits = 128
// sub-buckets, so a bucket is at most 1/128 of its value wide.
const subBits = 7

// histogramBuckets covers 0..histogramMax: values below 256 have their own
// bucket; above, each power of two [2^k, 2^(k+1)) is split into 128.
var histogramBuckets = bucketIndex(histogramMax) + 1

// bucketIndex maps a value to its bucket: the identity below 256, then
// 128 buckets per power of two (the HdrHistogram layout with two significant
// digits).
func bucketIndex(v int64) int {
	if v < 2<<subBits {
		return int(v)
	}
	shift := bits.Len64(uint64(v)) - (subBits + 1)
	return shift<<subBits + int(v>>shift)
}

// bucketBounds returns the smallest value of bucket i and its width.
func bucketBounds(i int) (lo, width int64) {
	if i < 2<<subBits {
		return int64(i), 1
	}
	shift := i>>subBits - 1
	sub := int64(i - shift<<subBits) // in [128, 256)
	return sub << shift, 1 << shift
}

// Histogram is a streaming, mergeable latency histogram with log-linear
// buckets (HdrHistogram's layout with two significant digits: each bucket
// at most 1/128 of its value wide, 39 KiB whatever the number of
// observations), plus the exact count, mean and maximum. Quantile returns
// the middle of the bucket holding the requested rank, so its relative
// error is at most 1/256 (0.4 %).
type Histogram struct {
	counts []uint64
	n      int64
	sum    Int128
	max    Time
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram {
	return &Histogram{counts: make([]uint64, histogramBuckets)}
}

// Record adds one observation; negative values count as 0.
func (h *Histogram) Record(v Time) {
	if v < 0 {
		v = 0
	}
	x := int64(v)
	h.sum.Add(x)
	if v > h.max {
		h.max = v
	}
	if x > histogramMax {
		x = histogramMax
	}
	h.counts[bucketIndex(x)]++
	h.n++
}

// Count is the number of observations.
func (h *Histogram) Count() int64 { return h.n }

// Mean is the exact mean of the observations (0 when empty).
func (h *Histogram) Mean() Time {
	if h.n == 0 {
		return 0
	}
	return Time(math.Round(h.sum.Float64() / float64(h.n)))
}

// Max is the exact largest observation.
func (h *Histogram) Max() Time { return h.max }

// Quantile returns the q-quantile (0 ≤ q ≤ 1): the middle of the bucket
// holding the observation of rank ceil(q·n) (the exact maximum for q = 1),
// 0 when empty.
func (h *Histogram) Quantile(q float64) Time {
	if h.n == 0 {
		return 0
	}
	if q >= 1 {
		return h.max
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, w := bucketBounds(i)
			v := Time(lo + (w-1)/2)
			return min(v, h.max)
		}
	}
	return h.max
}

// Merge adds the observations of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum = h.sum.Sub(Int128{}.Sub(o.sum))
	if o.max > h.max {
		h.max = o.max
	}
}

// Reset forgets every observation.
func (h *Histogram) Reset() {
	if h.n > 0 {
		clear(h.counts)
	}
	h.n, h.sum, h.max = 0, Int128{}, 0
}
