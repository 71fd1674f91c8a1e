package model

import "github.com/capsim/capsim/sim"

// RateProcess is a constant rate of arrivals per second: Poisson, or
// evenly spaced when Uniform; optionally with a flash crowd on top.
type RateProcess struct {
	Rate    float64
	Uniform bool
	Flash   *Flash
}

func (p *RateProcess) PeakRate() float64 { return p.Rate + p.Flash.peak() }

func (p *RateProcess) arrivals(start, end sim.Time) (arrivals, error) {
	if p.Flash != nil {
		base := func(sim.Time) float64 { return p.Rate }
		return newRateArrivals(profile(start, end, base, nil, 0, p.Flash), p.Uniform), nil
	}
	return newRateArrivals([]segment{{start: start, length: end - start, r0: p.Rate, r1: p.Rate}}, p.Uniform), nil
}
