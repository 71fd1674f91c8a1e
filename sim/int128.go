package sim

import "math/bits"

// Int128 is an exact signed 128-bit accumulator for sums of int64 values and
// of products of two non-negative int64 values (level × duration). Exact
// integer sums make statistics independent of summation order and of the
// platform's floating point.
type Int128 struct {
	hi int64
	lo uint64
}

// Add adds x.
func (a *Int128) Add(x int64) {
	var c uint64
	a.lo, c = bits.Add64(a.lo, uint64(x), 0)
	a.hi += x>>63 + int64(c) // x>>63 sign-extends x to 128 bits
}

// AddProduct adds x·y for x, y ≥ 0.
func (a *Int128) AddProduct(x, y int64) {
	hi, lo := bits.Mul64(uint64(x), uint64(y))
	var c uint64
	a.lo, c = bits.Add64(a.lo, lo, 0)
	a.hi += int64(hi) + int64(c)
}

// Sub returns a − b.
func (a Int128) Sub(b Int128) Int128 {
	lo, borrow := bits.Sub64(a.lo, b.lo, 0)
	return Int128{hi: a.hi - b.hi - int64(borrow), lo: lo}
}

// Float64 converts to float64 (exact up to 2^53, then within two roundings).
func (a Int128) Float64() float64 {
	if a.hi < 0 {
		lo, c := bits.Add64(^a.lo, 1, 0)
		hi := ^uint64(a.hi) + c
		return -(float64(hi)*(1<<64) + float64(lo))
	}
	return float64(a.hi)*(1<<64) + float64(a.lo)
}
