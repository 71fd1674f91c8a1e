package scenario

import (
	"fmt"
	"math"

	"github.com/capsim/capsim/model"
)

// plausibility warns where the offered load exceeds a component's capacity
// at the traffic's peak rate: the run is legal, but queues will grow
// without bound while it lasts. The load follows the model's own call
// graph, so every call reaches the endpoint it reaches in a run.
func (d *decoder) plausibility(cfg *model.Config) {
	g := model.NewGraph(cfg)
	if len(g.Problems) > 0 {
		return
	}
	rates := make([][]float64, len(cfg.Traffic))
	for t := range cfg.Traffic {
		tr := &cfg.Traffic[t]
		peak := tr.Arrivals.PeakRate()
		if peak <= 0 || math.IsInf(peak, 0) {
			continue
		}
		_, isUsers := tr.Arrivals.(*model.UsersProcess)
		_, shares := model.EntryEndpoints(tr)
		for i, sh := range shares {
			if i > 0 && len(tr.Session) > 0 && isUsers {
				sh = 0 // users' later session requests are spread by think times: count the first, a lower bound
			}
			rates[t] = append(rates[t], peak*sh)
		}
	}
	demand := g.Demand(rates)
	keyless := ""
	for _, tr := range cfg.Traffic {
		if p, ok := tr.Arrivals.(*model.TraceProcess); ok && p.Keyed {
			continue // the trace's rows carry keys
		}
		if tr.Keys == nil && keyless == "" {
			keyless = tr.Name
		}
	}
	for i, c := range cfg.Components {
		if k, ok := c.(*model.CacheConfig); ok {
			if k.KeyLevel() && keyless != "" {
				d.warnf(model.Label(c), "traffic.%s sends requests without keys: they all share one key in this key-level cache (give the traffic keys = \"zipf(s=0.8, n=100000)\")", keyless)
			}
			if k.KeyLevel() && k.Capacity == 0 {
				d.warnf(model.Label(c), "has no capacity: it keeps every key fetched within its ttl (%v), so its memory grows with the distinct keys requested in any ttl; give capacity = N to bound it", k.TTL)
			}
			if !k.LookupOnCPU {
				continue // a cache without cores does not saturate
			}
		}
		f := c.FleetConfig()
		if f == nil {
			continue
		}
		capacity := float64(f.Instances * f.Cores)
		if ratio := demand[i] / capacity; ratio > 1 {
			d.warnf(model.Label(c), "offered cpu load at the traffic's peak is %.2f× the capacity of %s (%s × %s): queues will grow while the peak lasts", ratio, model.Label(c), count(f.Instances, "instance"), count(f.Cores, "core"))
		}
	}
}

// count says "1 core" or "4 cores".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
