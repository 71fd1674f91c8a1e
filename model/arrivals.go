package model

import (
	"math"
	"slices"

	"github.com/capsim/capsim/sim"
)

// ArrivalProcess is how a traffic source's requests arrive. Each process is
// its own type, in its own file (arrivals_rate.go, arrivals_stages.go,
// arrivals_diurnal.go, arrivals_users.go, arrivals_inject.go,
// arrivals_vus.go, trace.go); the scenario decoder picks one per source,
// the way it picks a balancer's picker.
type ArrivalProcess interface {
	// PeakRate is the highest arrival rate per second, for plausibility
	// warnings: +Inf when arrivals come at once, 0 when it cannot be known
	// without running (a trace; a closed model, whose rate follows the
	// system's).
	PeakRate() float64
	// arrivals starts the process for one run of a source that begins at
	// start and takes no arrival at or after end.
	arrivals(start, end sim.Time) (arrivals, error)
}

// arrivals generates a source's arrival times in order, for one run.
type arrivals interface {
	// next returns the next arrival time, or false when there are no more.
	next(rng *sim.Stream) (sim.Time, bool)
}

// segment is a period over which the arrival rate ramps linearly from r0 to
// r1 (per second).
type segment struct {
	start, length sim.Time
	r0, r1        float64
	cum0          float64 // expected arrivals before the segment
}

// expected is the expected number of arrivals in the whole segment.
func (g *segment) expected() float64 {
	return g.length.Seconds() * (g.r0 + g.r1) / 2
}

// rateArrivals inverts the cumulative rate Λ(t): the i-th arrival is at
// Λ⁻¹(cᵢ), with cᵢ = i for evenly spaced arrivals (k6's arrival-rate
// executors: iteration i starts when the integral of the rate reaches i) or
// cᵢ a sum of unit exponentials for a (non-homogeneous) Poisson process —
// exact, with no thinning.
type rateArrivals struct {
	segs    []segment
	seg     int
	c       float64
	uniform bool
	started bool
}

func newRateArrivals(segs []segment, uniform bool) *rateArrivals {
	var cum float64
	for i := range segs {
		segs[i].cum0 = cum
		cum += segs[i].expected()
	}
	return &rateArrivals{segs: segs, uniform: uniform}
}

func (a *rateArrivals) next(rng *sim.Stream) (sim.Time, bool) {
	if a.uniform {
		if a.started {
			a.c++
		}
		a.started = true
	} else {
		a.c += rng.ExpFloat64()
	}
	for a.seg < len(a.segs) {
		g := &a.segs[a.seg]
		x := a.c - g.cum0
		if x <= g.expected() && g.length > 0 && (g.r0 > 0 || g.r1 > 0) {
			T := g.length.Seconds()
			var t float64
			if g.r0 == g.r1 {
				t = x / g.r0 // a constant rate: the quadratic below with slope 0, without its square root
			} else {
				slope := (g.r1 - g.r0) / T
				// Solve r0·t + slope·t²/2 = x in the stable form.
				disc := float64(g.r0*g.r0) + float64(2*slope*x) // float64(): no fused multiply-add (see docs/results.md)
				if disc < 0 {
					disc = 0
				}
				t = 2 * x / (g.r0 + math.Sqrt(disc))
			}
			if t > T {
				t = T
			}
			at := g.start + sim.FromSeconds(t)
			if at >= g.start+g.length {
				a.seg++ // rounding put it at the segment's end: next segment
				continue
			}
			return at, true
		}
		a.seg++
	}
	return 0, false
}

// profile turns a rate profile, base(t) per second with its corners (where
// its slope changes), plus an optional flash crowd, into linear segments
// from start to end: exact at the corners and the flash crowd's phases,
// and every step (if > 0) in between, for smooth profiles (a daily cycle).
func profile(start, end sim.Time, base func(sim.Time) float64, corners []sim.Time, step sim.Time, f *Flash) []segment {
	rate := func(t sim.Time) float64 {
		r := base(t)
		if f != nil {
			r += f.extra(t)
		}
		return math.Max(r, 0)
	}
	points := append([]sim.Time{start, end}, corners...)
	if f != nil {
		points = append(points, f.At, f.At+f.Rise, f.At+f.Rise+f.Hold, f.At+f.Rise+f.Hold+f.Decay)
	}
	if step > 0 {
		for t := start + step; t < end; t += step {
			points = append(points, t)
		}
	}
	slices.Sort(points)
	var segs []segment
	for i := 0; i+1 < len(points); i++ {
		a, b := points[i], points[i+1]
		if a < start || b > end || b <= a {
			continue
		}
		// The value just inside each end, so that jumps at corners (a
		// stage's end) belong to the right segment.
		segs = append(segs, segment{start: a, length: b - a, r0: rate(a), r1: rate(b - 1)})
	}
	return segs
}

// Flash is a flash crowd added to a source's rate: from At the extra rate
// rises linearly to Peak over Rise, holds for Hold, and falls to 0 over
// Decay.
type Flash struct {
	At, Rise, Hold, Decay sim.Time
	Peak                  float64
}

// extra is the flash crowd's rate at t.
func (f *Flash) extra(t sim.Time) float64 {
	switch dt := t - f.At; {
	case dt < 0:
	case dt < f.Rise:
		return f.Peak * float64(dt) / float64(max(f.Rise, 1))
	case dt < f.Rise+f.Hold:
		return f.Peak
	case dt < f.Rise+f.Hold+f.Decay:
		return f.Peak * (1 - float64(dt-f.Rise-f.Hold)/float64(max(f.Decay, 1)))
	}
	return 0
}

// peak is the flash crowd's highest extra rate (0 without one).
func (f *Flash) peak() float64 {
	if f == nil {
		return 0
	}
	return f.Peak
}
