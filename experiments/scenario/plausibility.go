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
	load := g.Load(rates)
	keyless := ""
	for _, tr := range cfg.Traffic {
		if p, ok := tr.Arrivals.(*model.TraceProcess); ok && p.Keyed {
			continue // the trace's rows carry keys
		}
		if tr.Keys == nil && keyless == "" {
			keyless = tr.Name
		}
	}
	for i, cp := range g.Capacities(load, rates) {
		c := cfg.Components[i]
		if k, ok := c.(*model.CacheConfig); ok && k.KeyLevel() {
			if keyless != "" {
				d.warnf(model.Label(c), "traffic.%s sends requests without keys: they all share one key in this key-level cache (give the traffic keys = \"zipf(s=0.8, n=100000)\")", keyless)
			}
			if k.Capacity == 0 {
				d.warnf(model.Label(c), "has no capacity: it keeps every key fetched within its ttl (%v), so its memory grows with the distinct keys requested in any ttl; give capacity = N to bound it", k.TTL)
			}
		}
		if fn, ok := c.(*model.FunctionConfig); ok {
			d.functionLoad(fn, cp.Demand)
			continue
		}
		if cp.Cores <= 0 {
			continue
		}
		ratio := cp.Demand / cp.Cores
		if ratio <= nearCapacity {
			continue
		}
		f := c.FleetConfig()
		if ratio <= 1 && waitInServiceTimes(f.Cores, ratio) < longWait {
			continue // many cores absorb a high utilisation
		}
		size := fmt.Sprintf("%s × %s", count(cp.Instance, "instance"), count(f.Cores, "core"))
		switch {
		case cp.Node != "":
			size = fmt.Sprintf("its busiest node, %s, with %s", cp.Node, count(f.Cores, "core"))
		case cp.AtMax:
			size += ", its autoscaler's max"
		}
		unbounded := ""
		if f.Queue == model.Unlimited {
			unbounded = "; its queue is unbounded, so memory grows with it (set queue = N to reject the excess instead)"
		}
		if ratio <= 1 {
			d.warnf(model.Label(c), "offered cpu load at the traffic's peak is %.0f %% of the capacity of %s (%s): expect queues; an M/M/c station this busy waits %.0f× its service time on average", 100*ratio, model.Label(c), size, waitInServiceTimes(f.Cores, ratio))
			continue
		}
		d.warnf(model.Label(c), "offered cpu load at the traffic's peak is %.2f× the capacity of %s (%s): queues will grow while the peak lasts%s", ratio, model.Label(c), size, unbounded)
	}
}

// functionLoad warns when a function's peak needs more environments than
// max_instances allows: the excess is throttled, not queued.
func (d *decoder) functionLoad(fn *model.FunctionConfig, demand float64) {
	if fn.MaxInstances == model.Unlimited || demand <= 0 {
		return
	}
	capacity := float64(fn.MaxInstances * fn.Cores)
	if ratio := demand / capacity; ratio > nearCapacity {
		d.warnf(model.Label(fn), "offered cpu load at the traffic's peak is %.0f %% of what max_instances = %d environments × %s can run: invocations beyond them are throttled (rejected; asynchronous ones wait)", 100*ratio, fn.MaxInstances, count(fn.Cores, "core"))
	}
}

// A component that keeps up on average is still warned about when it runs
// above nearCapacity and an M/M/c station with its cores would wait more
// than longWait service times on average (Erlang C): one core at 95 %
// waits 19 service times, 80 cores at 97 % a fraction of one.
const (
	nearCapacity = 0.9
	longWait     = 5
)

// waitInServiceTimes is the M/M/c mean wait in units of the mean service
// time, E[W]/E[S] = C(c, a) / (c(1 − ρ)), at utilisation rho < 1.
func waitInServiceTimes(c int, rho float64) float64 {
	a := rho * float64(c)
	b := 1.0 // Erlang B by the stable recursion
	for k := 1; k <= c; k++ {
		b = a * b / (float64(k) + a*b)
	}
	erlangC := b / (1 - rho*(1-b))
	return erlangC / (float64(c) * (1 - rho))
}

// count says "1 core" or "4 cores".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
