package model

import (
	"math"

	"github.com/capsim/capsim/sim"
)

// InjectProcess is Gatling's open injection: Steps run one after the
// other, each starting where the previous one's duration ends.
type InjectProcess struct {
	Steps []InjectStep
}

// InjectStep is one Gatling open injection step. Kind is "nothing_for"
// (wait Over), "at_once" (Users at once), "ramp" (Users evenly over Over),
// "heaviside" (Users over Over on an erf curve), "constant" (Rate per
// second for Over) or "ramp_rate" (from Rate to To per second over Over).
// Rates inject at regular intervals, or as a Poisson process when Random.
type InjectStep struct {
	Kind     string
	Users    int64
	Rate, To float64
	Over     sim.Time
	Random   bool
}

// PeakRate is the highest rate of any step.
func (p *InjectProcess) PeakRate() float64 {
	var peak float64
	for _, st := range p.Steps {
		switch st.Kind {
		case "at_once":
			return math.Inf(1)
		case "ramp", "heaviside":
			peak = math.Max(peak, (&UsersProcess{Users: st.Users, Over: st.Over, Shape: map[string]Shape{"ramp": ShapeLinear, "heaviside": ShapeHeaviside}[st.Kind]}).PeakRate())
		case "constant", "ramp_rate":
			peak = math.Max(peak, math.Max(st.Rate, st.To))
		}
	}
	return peak
}

func (p *InjectProcess) arrivals(start, _ sim.Time) (arrivals, error) {
	return &chainArrivals{p: p, t: start}, nil
}

// chainArrivals runs Gatling injection steps one after the other, each
// starting where the previous one's duration ends.
type chainArrivals struct {
	p    *InjectProcess
	i    int      // next step
	t    sim.Time // start of the next step
	step arrivals
}

func (a *chainArrivals) next(rng *sim.Stream) (sim.Time, bool) {
	for {
		if a.step != nil {
			if at, ok := a.step.next(rng); ok {
				return at, true
			}
			a.step = nil
		}
		if a.i >= len(a.p.Steps) {
			return 0, false
		}
		st := a.p.Steps[a.i]
		a.i++
		start := a.t
		a.t += st.Over
		switch st.Kind {
		case "at_once":
			a.step = newUserArrivals(st.Users, start, 0, ShapeAtOnce)
		case "ramp":
			a.step = newUserArrivals(st.Users, start, st.Over, ShapeLinear)
		case "heaviside":
			a.step = newUserArrivals(st.Users, start, st.Over, ShapeHeaviside)
		case "constant":
			a.step = newRateArrivals([]segment{{start: start, length: st.Over, r0: st.Rate, r1: st.Rate}}, !st.Random)
		case "ramp_rate":
			a.step = newRateArrivals([]segment{{start: start, length: st.Over, r0: st.Rate, r1: st.To}}, !st.Random)
		}
	}
}
