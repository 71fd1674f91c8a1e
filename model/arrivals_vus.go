package model

import (
	"math"

	"github.com/capsim/capsim/model/dist"
	"github.com/capsim/capsim/sim"
)

// VUProcess is a closed model (k6 constant-vus / ramping-vus, Gatling
// injectClosed): virtual users each send a request (or a session), wait for
// it, think for Think, and go again. Stages ramp the number of VUs
// linearly from VUs to each stage's Target.
type VUProcess struct {
	VUs    int64
	Stages []Stage
	Think  dist.Dist // after each iteration; nil: none
	Pacing sim.Time  // the interval a user means to keep between requests (0: the mean think time), for the corrected latency
}

// PeakRate is unknown: a closed model's rate follows the system's
// response time.
func (p *VUProcess) PeakRate() float64 { return 0 }

func (p *VUProcess) arrivals(start, _ sim.Time) (arrivals, error) {
	return &vuStarts{p: p, start: start, t0: start, v0: float64(p.VUs)}, nil
}

// target is how many VUs the process wants at t, for a source that started
// at start.
func (p *VUProcess) target(start, t sim.Time) int64 {
	if len(p.Stages) == 0 {
		return p.VUs
	}
	v, t0 := float64(p.VUs), start
	for _, st := range p.Stages {
		if t < t0+st.Duration {
			f := float64(t-t0) / float64(st.Duration)
			return int64(math.Floor(v + f*(st.Target-v)))
		}
		v, t0 = st.Target, t0+st.Duration
	}
	return int64(v)
}

// vuStarts are the times virtual users start: VUs at the source's start,
// then, during ramps up, the k-th more when the linear ramp reaches k (as
// k6's ramping-vus executor does).
type vuStarts struct {
	p     *VUProcess
	start sim.Time
	n     int64 // VUs started
	stage int
	t0    sim.Time
	v0    float64
}

func (a *vuStarts) next(*sim.Stream) (sim.Time, bool) {
	if a.n < a.p.VUs {
		a.n++
		return a.start, true
	}
	for a.stage < len(a.p.Stages) {
		st := a.p.Stages[a.stage]
		k := float64(a.n + 1)
		if st.Target > a.v0 && k <= st.Target {
			a.n++
			return a.t0 + sim.Time(float64(st.Duration)*(k-a.v0)/(st.Target-a.v0)), true
		}
		a.t0 += st.Duration
		a.v0 = st.Target
		a.n = min(a.n, int64(st.Target)) // after a ramp down, later ramps start new VUs again
		a.stage++
	}
	return 0, false
}
