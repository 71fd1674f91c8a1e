package model

import (
	"math"

	"github.com/capsim/capsim/sim"
)

// DiurnalProcess is a sinusoidal daily cycle of the arrival rate, from
// Trough to Peak (per second), highest at PeakAt (mod Period); Poisson, or
// evenly spaced when Uniform; optionally with a flash crowd on top.
type DiurnalProcess struct {
	Peak, Trough   float64
	Period, PeakAt sim.Time
	Uniform        bool
	Flash          *Flash
}

func (p *DiurnalProcess) PeakRate() float64 { return p.Peak + p.Flash.peak() }

// arrivals follows the cycle with linear segments every minute (or 1/1440
// of the period, if shorter), where the chord's rate is within 10⁻⁶ of the
// sinusoid's.
func (p *DiurnalProcess) arrivals(start, end sim.Time) (arrivals, error) {
	mid, amp := (p.Peak+p.Trough)/2, (p.Peak-p.Trough)/2
	base := func(t sim.Time) float64 {
		return mid + amp*math.Cos(2*math.Pi*float64(t-p.PeakAt)/float64(p.Period))
	}
	step := min(sim.Minute, max(p.Period/1440, sim.Second))
	return newRateArrivals(profile(start, end, base, nil, step, p.Flash), p.Uniform), nil
}
