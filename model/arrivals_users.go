package model

import (
	"math"

	"github.com/capsim/capsim/sim"
)

// UsersProcess is a fixed number of Users arriving over Over, with a
// Shape (Gatling's rampUsers, stressPeakUsers, atOnceUsers, or uniformly
// random times).
type UsersProcess struct {
	Users int64
	Over  sim.Time
	Shape Shape
}

// Shape is how Users arrive over Over.
type Shape int

const (
	ShapeLinear    Shape = iota // evenly spaced (Gatling rampUsers)
	ShapeHeaviside              // erf-shaped (Gatling stressPeakUsers)
	ShapeAtOnce                 // all at Start (Gatling atOnceUsers)
	ShapePoisson                // Users random arrival times, uniform over Over
)

// PeakRate: users over the period, at the erf curve's steepest for
// heaviside, infinite at once.
func (p *UsersProcess) PeakRate() float64 {
	if p.Over <= 0 || p.Shape == ShapeAtOnce {
		return math.Inf(1)
	}
	r := float64(p.Users) / p.Over.Seconds()
	if p.Shape == ShapeHeaviside {
		// Peak density of Gatling's erf ramp: n·2t0/(over·√π).
		t0 := math.Abs(math.Erfinv(2/float64(p.Users+2) - 1))
		r *= 2 * t0 / math.Sqrt(math.Pi)
	}
	return r
}

func (p *UsersProcess) arrivals(start, _ sim.Time) (arrivals, error) {
	return newUserArrivals(p.Users, start, p.Over, p.Shape), nil
}

// userArrivals are the arrival times of a fixed number of users.
type userArrivals struct {
	n, i   int64
	start  sim.Time
	over   sim.Time
	shape  Shape
	u      float64 // last order statistic (ShapePoisson)
	t0, hk float64 // heaviside constants
}

func newUserArrivals(n int64, start, over sim.Time, shape Shape) *userArrivals {
	a := &userArrivals{n: n, start: start, over: over, shape: shape}
	if a.over <= 0 {
		a.shape = ShapeAtOnce
	}
	if a.shape == ShapeHeaviside {
		// Gatling's HeavisideOpenInjection: user i (1-based) arrives at
		// k·(erfinv(2i/(n+2) − 1) + t0), t0 = |erfinv(2/(n+2) − 1)|,
		// k = over/(2·t0).
		a.t0 = math.Abs(math.Erfinv(2/float64(a.n+2) - 1))
		a.hk = float64(a.over) / (2 * a.t0)
	}
	return a
}

func (a *userArrivals) next(rng *sim.Stream) (sim.Time, bool) {
	if a.i >= a.n {
		return 0, false
	}
	i := a.i
	a.i++
	switch a.shape {
	case ShapeLinear:
		// Gatling's rampUsers: evenly spaced, the first at the start.
		return a.start + sim.Time(float64(a.over)*float64(i)/float64(a.n)), true
	case ShapeHeaviside:
		x := float64(i+1) / float64(a.n+2)
		t := a.hk * (math.Erfinv(float64(2*x)-1) + a.t0)
		return a.start + sim.Time(t), true
	case ShapePoisson:
		// Sequential uniform order statistics: U(i) = 1 − (1 − U(i−1))·V^(1/(n−i)).
		a.u = 1 - float64((1-a.u)*math.Pow(rng.Float64(), 1/float64(a.n-i)))
		return a.start + sim.Time(a.u*float64(a.over)), true
	}
	return a.start, true // at once
}
