package model

import "math"

// loadIndex is a min-segment tree over the loads of a station's ready
// instances, by their position in the ready list. A station builds it the
// first time a picker asks for the least loaded instance, and from then on
// keeps it current in O(log n) per load change, so that least-connections
// picks cost O(log n) in the fleet size instead of a scan (haproxy keeps its
// leastconn servers in a tree for the same reason).
type loadIndex struct {
	size int     // leaves: a power of two ≥ the ready instances
	t    []int32 // t[1] is the root; leaf p is t[size+p]; unused leaves hold empty
}

const emptyLeaf = math.MaxInt32

// build indexes n positions whose loads load(p) gives.
func (x *loadIndex) build(n int, load func(p int) int) {
	x.size = 1
	for x.size < max(n, 1) {
		x.size <<= 1
	}
	x.t = make([]int32, 2*x.size)
	for p := range x.size {
		v := int32(emptyLeaf)
		if p < n {
			v = int32(load(p))
		}
		x.t[x.size+p] = v
	}
	for i := x.size - 1; i >= 1; i-- {
		x.t[i] = min(x.t[2*i], x.t[2*i+1])
	}
}

// set changes the load at position p (which must be < size).
func (x *loadIndex) set(p, load int) {
	i := x.size + p
	x.t[i] = int32(load)
	for i >>= 1; i >= 1; i >>= 1 {
		m := min(x.t[2*i], x.t[2*i+1])
		if x.t[i] == m {
			return // nothing above changes
		}
		x.t[i] = m
	}
}

// leastFrom is the first position, from p on and then from 0, holding the
// smallest load.
func (x *loadIndex) leastFrom(p int) int {
	m := x.t[1]
	if i := x.first(1, 0, x.size, p, m); i >= 0 {
		return i
	}
	return x.first(1, 0, x.size, 0, m)
}

// first is the first leaf at or after from, within node (covering
// [lo, hi)), whose value is m (the minimum), or −1.
func (x *loadIndex) first(node, lo, hi, from int, m int32) int {
	if hi <= from || x.t[node] != m {
		return -1
	}
	if hi-lo == 1 {
		return lo
	}
	mid := (lo + hi) / 2
	if i := x.first(2*node, lo, mid, from, m); i >= 0 {
		return i
	}
	return x.first(2*node+1, mid, hi, from, m)
}
