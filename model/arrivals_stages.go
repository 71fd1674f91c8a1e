package model

import (
	"math"

	"github.com/capsim/capsim/sim"
)

// StagesProcess is k6's ramping-arrival-rate executor: from StartRate, the
// rate ramps linearly to each stage's Target over its Duration; none after
// the last stage. Poisson, or evenly spaced when Uniform (k6's own
// iteration times); optionally with a flash crowd on top.
type StagesProcess struct {
	StartRate float64
	Stages    []Stage
	Uniform   bool
	Flash     *Flash
}

// Stage is one ramp: to Target (per second, or VUs) over Duration.
type Stage struct {
	Duration sim.Time
	Target   float64
}

func (p *StagesProcess) PeakRate() float64 {
	peak := p.StartRate
	for _, s := range p.Stages {
		peak = math.Max(peak, s.Target)
	}
	return peak + p.Flash.peak()
}

func (p *StagesProcess) arrivals(start, end sim.Time) (arrivals, error) {
	if p.Flash != nil {
		var corners []sim.Time
		t := start
		for _, st := range p.Stages {
			t += st.Duration
			corners = append(corners, t)
		}
		return newRateArrivals(profile(start, end, p.rate(start), corners, 0, p.Flash), p.Uniform), nil
	}
	segs := make([]segment, 0, len(p.Stages))
	t, r := start, p.StartRate
	for _, st := range p.Stages {
		segs = append(segs, segment{start: t, length: st.Duration, r0: r, r1: st.Target})
		t += st.Duration
		r = st.Target
	}
	return newRateArrivals(segs, p.Uniform), nil
}

// rate is the stages' rate at t for a source starting at start.
func (p *StagesProcess) rate(start sim.Time) func(sim.Time) float64 {
	return func(t sim.Time) float64 {
		v, t0 := p.StartRate, start
		r := v
		for _, st := range p.Stages {
			if t < t0+st.Duration {
				return v + float64(t-t0)/float64(st.Duration)*(st.Target-v)
			}
			v, t0, r = st.Target, t0+st.Duration, 0 // after the last stage: none
		}
		return r
	}
}
