package model

import (
	"fmt"
	"math"

	"github.com/capsim/capsim/sim"
)

// Load is an estimate of the work a traffic offers each component, along
// the resolved call graph: for plausibility warnings before a run, not a
// substitute for one.
type Load struct {
	// Demand is the cpu work offered to each component (indexed like
	// Config.Components), in core-seconds per second.
	Demand []float64
	// Calls is the rate of calls reaching each endpoint of each
	// component's station, per second.
	Calls [][]float64
	// HitRatio is the estimated hit ratio of each cache (NaN elsewhere).
	HitRatio []float64
}

// maxEstimatedKeys bounds the key spaces the estimates sum over; beyond
// it key-level caches are assumed to miss (a conservative estimate) and
// shards to share evenly.
const maxEstimatedKeys = 2_000_000

// Load estimates the load when traffic source t sends rates[t][i] requests
// per second to its i-th entry endpoint (see EntryEndpoints). Calls, async
// steps and every parallel branch carry their probability; steps
// conditional on a cache lookup carry the cache's estimated hit (or miss)
// ratio; a cpu step adds its mean. What the graph could not resolve is left
// out.
//
// Hit ratios: a fixed hit_ratio is itself; a key-level cache is estimated
// from the traffic's keys with Che's approximation for LRU (t_C solves
// Σ 1 − e^(−λ_k t_C) = C), and with the TTL renewal ratio λ_k T/(1 + λ_k T)
// when entries expire (the smaller of the two for a key).
func (g *Graph) Load(rates [][]float64) *Load {
	n := len(g.cfg.Components)
	hit := make([]float64, n)
	for i := range hit {
		hit[i] = math.NaN()
		if k, ok := g.cfg.Components[i].(*CacheConfig); ok && !k.KeyLevel() {
			hit[i] = k.HitRatio
		}
	}
	// Two passes: the first finds each key-level cache's lookup rate (its
	// hit ratio depends on it when entries expire), the second uses the
	// hit ratios.
	l := g.propagate(rates, hit)
	for i, c := range g.cfg.Components {
		if k, ok := c.(*CacheConfig); ok && k.KeyLevel() {
			hit[i] = estimateHitRatio(k, l.Calls[i][0], g.keyMix(rates))
		}
	}
	l = g.propagate(rates, hit)
	l.HitRatio = hit
	return l
}

// propagate follows the call graph from the traffic with the given hit
// ratios (NaN: unknown, taken as 0).
func (g *Graph) propagate(rates [][]float64, hit []float64) *Load {
	l := &Load{Demand: make([]float64, len(g.cfg.Components))}
	for i := range g.cfg.Components {
		l.Calls = append(l.Calls, make([]float64, len(g.eps[i])))
	}
	hitOf := func(comp int32) float64 {
		if h := hit[comp]; !math.IsNaN(h) {
			return h
		}
		return 0
	}
	var visit func(comp int32, ep int32, rate float64, depth int)
	call := func(r resolved, rate float64, depth int, pHit *float64) {
		if !r.ok {
			return
		}
		visit(r.tgt, r.ep, rate, depth+1)
		if g.isLookup(r) {
			*pHit = hitOf(int32(g.Station(int(r.tgt))))
		}
	}
	visit = func(comp int32, ep int32, rate float64, depth int) {
		if depth > 64 || rate <= 0 {
			return
		}
		st := int32(g.Station(int(comp)))
		if int(ep) >= len(g.eps[st]) {
			return
		}
		l.Calls[st][ep] += rate
		pHit := 0.0 // of the endpoint's last cache lookup
		steps := g.eps[st][ep].Steps
		for k := range steps {
			s := &steps[k]
			r := rate * s.P
			switch s.If {
			case IfHit:
				r *= pHit
			case IfMiss:
				r *= 1 - pHit
			case IfError:
				r = 0 // a fallback: rare, if the system is healthy
			}
			res := g.res[st][ep][k]
			switch s.Kind {
			case StepCPU:
				if s.Dist != nil {
					l.Demand[st] += r * s.Dist.Mean() / 1e9
				}
			case StepCall, StepAsync:
				call(res, r, depth, &pHit)
			case StepPublish:
				if res.ok {
					if c := g.consumers[res.tgt]; c.ok {
						visit(c.tgt, c.ep, r, depth+1)
					}
				}
			case StepParallel:
				for _, b := range res.branches {
					call(b, r, depth, &pHit)
				}
			}
		}
	}
	for t, tr := range g.cfg.Traffic {
		if t >= len(rates) || g.entries[t] == nil {
			continue
		}
		for i, ep := range g.entries[t] {
			if i < len(rates[t]) {
				visit(g.index[tr.To], ep, rates[t][i], 0)
			}
		}
	}
	return l
}

// keyMix is the distribution of request keys over all traffic sources,
// weighted by their rates: prob(k) for keys 1..n. Sources without keys send
// key 0; keyless reports whether all of them do.
type keyMix struct {
	n       uint64
	prob    func(k uint64) float64
	keyless bool
}

func (g *Graph) keyMix(rates [][]float64) keyMix {
	var total float64
	type part struct {
		w float64
		p func(uint64) float64
	}
	var parts []part
	var n uint64
	keyless := true
	for t, tr := range g.cfg.Traffic {
		var r float64
		if t < len(rates) {
			for _, x := range rates[t] {
				r += x
			}
		}
		total += r
		if tr.Keys == nil || r <= 0 {
			continue
		}
		keyless = false
		parts = append(parts, part{r, tr.Keys.Prob})
		n = max(n, tr.Keys.N())
	}
	if total <= 0 {
		return keyMix{keyless: true}
	}
	return keyMix{n: n, keyless: keyless, prob: func(k uint64) float64 {
		var p float64
		for _, pt := range parts {
			p += pt.w / total * pt.p(k)
		}
		return p
	}}
}

// estimateHitRatio estimates a key-level cache's hit ratio at lookups per
// second.
func estimateHitRatio(c *CacheConfig, lookups float64, keys keyMix) float64 {
	switch {
	case keys.keyless:
		return 1 // one key for every request: it stays cached
	case keys.n == 0 || keys.n > maxEstimatedKeys || lookups <= 0:
		return 0
	}
	ttl := c.TTL.Seconds()
	tc := math.Inf(1) // Che's characteristic time; ∞ when every key fits
	if c.Capacity > 0 && uint64(c.Capacity) < keys.n {
		occupancy := func(t float64) float64 {
			var o float64
			for k := uint64(1); k <= keys.n; k++ {
				o += -math.Expm1(-lookups * keys.prob(k) * t)
			}
			return o
		}
		lo, hi := 0.0, 1.0
		for occupancy(hi) < float64(c.Capacity) && hi < 1e12 {
			hi *= 2
		}
		for range 60 {
			mid := (lo + hi) / 2
			if occupancy(mid) < float64(c.Capacity) {
				lo = mid
			} else {
				hi = mid
			}
		}
		tc = (lo + hi) / 2
	}
	var h float64
	for k := uint64(1); k <= keys.n; k++ {
		p := keys.prob(k)
		lk := lookups * p
		hk := 1.0
		if !math.IsInf(tc, 1) {
			hk = -math.Expm1(-lk * tc)
		}
		if ttl > 0 {
			hk = min(hk, lk*ttl/(1+lk*ttl))
		}
		h += p * hk
	}
	return h
}

// busiestNode estimates a database's busiest node: reads and writes
// (core-seconds per second) spread over shards by the traffic's keys (hash
// or range, as the database routes them), writes to each shard's primary,
// reads as ReadFrom says. It returns the node's name and its demand.
func (c *DatabaseConfig) busiestNode(reads, writes float64, keys keyMix) (string, float64) {
	best, name := -1.0, ""
	for k, n := range c.nodeLoads(reads, writes, keys) {
		if load := n[0] + n[1]; load > best { // reads and writes come as demands here
			best, name = load, c.nodeName(k)
		}
	}
	return name, best
}

// nodeName is node k's name (s0.primary, s0.replica1, …).
func (c *DatabaseConfig) nodeName(k int) string {
	per := 1 + c.Replicas
	if k%per == 0 {
		return fmt.Sprintf("s%d.primary", k/per)
	}
	return fmt.Sprintf("s%d.replica%d", k/per, k%per)
}

// nodeLoads splits reads and writes (rates, or demands) over the nodes
// (node k = shard k/(1+replicas), primary first): the shards' shares of
// the keys (hash or range), writes at the primary, reads as read_from
// spreads them; [0] reads, [1] writes.
func (c *DatabaseConfig) nodeLoads(reads, writes float64, keys keyMix) [][2]float64 {
	shares := make([]float64, c.Shards)
	switch {
	case c.Shards == 1:
		shares[0] = 1
	case keys.keyless:
		shares[int(sim.Mix64(0)%uint64(c.Shards))] = 1
	case keys.n == 0 || keys.n > maxEstimatedKeys:
		for i := range shares {
			shares[i] = 1 / float64(c.Shards)
		}
	default:
		cc := *c
		cc.KeySpace = max(c.KeySpace, keys.n)
		d := &database{cfg: &cc}
		for k := uint64(1); k <= keys.n; k++ {
			shares[d.shard(k)] += keys.prob(k)
		}
	}
	per := 1 + c.Replicas
	out := make([][2]float64, c.Shards*per)
	for sh, share := range shares {
		p := &out[sh*per]
		p[1] = writes * share
		switch {
		case c.Replicas == 0 || c.ReadFrom == "primary":
			p[0] = reads * share
		case c.ReadFrom == "any":
			for k := 0; k < per; k++ {
				out[sh*per+k][0] = reads * share / float64(per)
			}
		default:
			for k := 1; k < per; k++ {
				out[sh*per+k][0] = reads * share / float64(c.Replicas)
			}
		}
	}
	return out
}

// Capacity is a component's cpu capacity for the load estimate, at its
// largest size (an autoscaler's max): the cores of its busiest node for a
// database, with that node's name; 0 when it has no cores to saturate.
type Capacity struct {
	Cores    float64 // cores available at the largest size
	Demand   float64 // core-seconds per second offered to them
	Node     string  // the database node the figures are about, if any
	AtMax    bool    // sized at the autoscaler's max
	Instance int     // instances counted
}

// Capacities pairs each component's estimated demand with its capacity
// (indexed like Config.Components; zero Cores where it has none).
func (g *Graph) Capacities(l *Load, rates [][]float64) []Capacity {
	out := make([]Capacity, len(g.cfg.Components))
	keys := g.keyMix(rates)
	for i, c := range g.cfg.Components {
		f := c.FleetConfig()
		if f == nil {
			continue
		}
		n := f.Instances
		atMax := false
		if f.Autoscale != nil {
			n, atMax = f.Autoscale.Max, true
		}
		out[i] = Capacity{Cores: float64(n * f.Cores), Demand: l.Demand[i], AtMax: atMax, Instance: n}
		switch k := c.(type) {
		case *CacheConfig:
			if !k.LookupOnCPU {
				out[i] = Capacity{} // a cache without cores does not saturate
			}
		case *DatabaseConfig:
			reads, writes := l.Calls[i][dbReadEP]*meanOf(k.Read), l.Calls[i][1]*meanOf(k.Write)
			node, d := k.busiestNode(reads, writes, keys)
			out[i] = Capacity{Cores: float64(f.Cores), Demand: d, Node: node, Instance: 1}
		}
	}
	return out
}

func meanOf(d interface{ Mean() float64 }) float64 {
	if d == nil {
		return 0
	}
	return d.Mean() / 1e9
}
