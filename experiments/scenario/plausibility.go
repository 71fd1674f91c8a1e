package scenario

import (
	"math"

	"github.com/capsim/capsim/model"
)

// plausibility warns where the offered load exceeds a service's capacity at
// the traffic's peak rate: the run is legal, but queues will grow without
// bound while it lasts.
func (d *decoder) plausibility(cfg *model.Config) {
	svcIdx := map[string]int{}
	for i, s := range cfg.Services {
		svcIdx[s.Name] = i
	}
	lbTo := map[string]string{}
	for _, b := range cfg.Balancers {
		lbTo[b.Name] = b.To
	}
	demand := make([]float64, len(cfg.Services)) // core-seconds per second
	for _, tr := range cfg.Traffic {
		peak := peakRate(&tr)
		if peak <= 0 || math.IsInf(peak, 0) {
			continue
		}
		eps, weights := entryEndpoints(&tr)
		for i, ep := range eps {
			visitCPU(cfg, svcIdx, lbTo, tr.To, ep, peak*weights[i], demand, 0)
		}
	}
	keyless := ""
	for _, tr := range cfg.Traffic {
		if tr.Keys == nil && keyless == "" {
			keyless = tr.Name
		}
	}
	for _, s := range cfg.Services {
		if s.Cache != nil && s.Cache.HitRatio < 0 && keyless != "" {
			d.warnf("cache."+s.Name, "traffic.%s sends requests without keys: they all share one key in this key-level cache (give the traffic keys = \"zipf(s=0.8, n=100000)\")", keyless)
		}
	}
	for i, s := range cfg.Services {
		if s.Cache != nil && s.Cores == 1 && s.Endpoints[0].Steps[0].Kind == model.StepSleep {
			continue // a cache without cores does not saturate
		}
		capacity := float64(s.Instances * s.Cores)
		if ratio := demand[i] / capacity; ratio > 1 {
			d.warnf("service."+s.Name, "offered cpu load at the traffic's peak is %.2f× the capacity of service.%s (%d instances × %d cores): queues will grow while the peak lasts", ratio, s.Name, s.Instances, s.Cores)
		}
	}
}

// peakRate is a source's highest request rate per second (∞ for users
// arriving at once).
func peakRate(tr *model.TrafficConfig) float64 {
	perArrival := 1.0
	if len(tr.Session) > 0 {
		perArrival = float64(len(tr.Session))
	}
	switch {
	case tr.Rate > 0:
		return tr.Rate * perArrival
	case len(tr.Stages) > 0:
		peak := tr.StartRate
		for _, s := range tr.Stages {
			peak = math.Max(peak, s.Target)
		}
		return peak * perArrival
	case tr.Users > 0:
		if tr.Over <= 0 || tr.Shape == model.ShapeAtOnce {
			return math.Inf(1)
		}
		r := float64(tr.Users) / tr.Over.Seconds()
		if tr.Shape == model.ShapeHeaviside {
			// Peak density of Gatling's erf ramp: n·2t0/(over·√π).
			t0 := math.Abs(math.Erfinv(2/float64(tr.Users+2) - 1))
			r *= 2 * t0 / math.Sqrt(math.Pi)
		}
		// Session requests after the first are spread by think times;
		// count the first request only, a lower bound on the peak.
		return r
	}
	return 0
}

func entryEndpoints(tr *model.TrafficConfig) ([]string, []float64) {
	switch {
	case len(tr.Session) > 0:
		return []string{tr.Session[0].Endpoint}, []float64{1}
	case len(tr.Mix) > 0:
		var total float64
		for _, m := range tr.Mix {
			total += m.Weight
		}
		var eps []string
		var w []float64
		for _, m := range tr.Mix {
			eps = append(eps, m.Endpoint)
			w = append(w, m.Weight/total)
		}
		return eps, w
	}
	return []string{tr.Endpoint}, []float64{1}
}

// visitCPU adds the cpu demand of rate calls to comp/ep and everything they
// call.
func visitCPU(cfg *model.Config, svcIdx map[string]int, lbTo map[string]string, comp, ep string, rate float64, demand []float64, depth int) {
	if depth > 32 {
		return
	}
	if to, ok := lbTo[comp]; ok {
		comp = to
	}
	i, ok := svcIdx[comp]
	if !ok {
		return
	}
	s := &cfg.Services[i]
	e := findEndpoint(s, ep)
	if e == nil {
		return
	}
	for _, st := range e.Steps {
		r := rate * st.P
		switch st.Kind {
		case model.StepCPU:
			if st.Dist != nil {
				demand[i] += r * st.Dist.Mean() / 1e9
			}
		case model.StepCall:
			next := st.Endpoint
			if next == "" {
				next = e.Name
			}
			visitCPU(cfg, svcIdx, lbTo, st.Target, next, r, demand, depth+1)
		}
	}
}

func findEndpoint(s *model.ServiceConfig, name string) *model.EndpointConfig {
	for i := range s.Endpoints {
		if s.Endpoints[i].Name == name {
			return &s.Endpoints[i]
		}
	}
	if len(s.Endpoints) == 1 {
		return &s.Endpoints[0]
	}
	return nil
}
