package model

import (
	"fmt"
	"math"
)

// Analytic is queueing theory's answer for one component, at the mean
// arrival rates given: what the simulation should come close to when the
// component's work reduces to a textbook station.
type Analytic struct {
	// Model names the station ("M/M/4", "M/G/1 (Pollaczek–Khinchine)",
	// "M/G/8 (Allen–Cunneen)", "M/M/2/5", "Erlang B (M/M/5/5)", "M/G/∞");
	// "" when the component has none, and Reason says why.
	Model  string
	Reason string
	// Exact says the model is exact for this component (not an
	// approximation) under stationary Poisson arrivals.
	Exact bool
	// Utilization is the offered load over the cores: λ·E[S] / (n·c),
	// exact whatever the model (NaN when there are no cores).
	Utilization float64
	// Mean is the mean time in the component (its calls' and sleeps' means
	// included), ns; NaN when unknown, +Inf when the station is unstable.
	Mean float64
	// P50 and P99 are exact percentiles (M/M/c with nothing but its cpu
	// step), ns; NaN otherwise.
	P50, P99 float64
	// Rejected is the fraction of calls refused (M/M/c/K, Erlang B).
	Rejected float64
	// Notes qualify the comparison (time-varying arrivals: the model is
	// at their mean rate).
	Notes []string
	// EndpointMeans is the mean time of a call to each endpoint (ns), for
	// the means along the call graph; nil when Mean is unknown.
	EndpointMeans []float64

	// own is each endpoint's mean time at the station itself — its wait
	// in the queue and its cpu step — ns, before its calls and sleeps.
	own []float64
}

// Analyze computes the analytic model of every component (in Config
// order) when traffic source t sends rates[t][i] requests per second to
// its i-th entry endpoint on average (see EntryEndpoints). A component
// gets a model when each of its endpoints is one cpu step (on a core)
// followed or preceded only by sleeps and plain calls, its fleet is fixed,
// and nothing limits its admission but, for exponential work, a finite
// queue (M/M/c/K). Its instances share the load as its balancer does:
// random splits of Poisson arrivals are Poisson; round robin gives each
// instance Erlang-n gaps (c_a² = 1/n); least-connections-like balancers
// are taken as one pooled queue. Calls add their callee's mean (and the
// network's mean hops); a callee without a model leaves the caller's mean
// unknown.
//
// measured, if not nil, is the rate of calls that reached each component
// in a run (per second, by Config index): the model then takes those
// rates instead of the ones the call graph carries from rates (the mix of
// a component's endpoints still comes from the graph) — for traffic whose
// rate varies, or with rejections upstream, the load the component saw.
func (g *Graph) Analyze(rates [][]float64, measured []float64) []Analytic {
	n := len(g.cfg.Components)
	l := g.Load(rates)
	out := make([]Analytic, n)
	done := make([]bool, n)
	var arrivalNotes []string
	poisson := true
	for t := range g.cfg.Traffic {
		switch p := g.cfg.Traffic[t].Arrivals.(type) {
		case *RateProcess:
			if p.Uniform {
				poisson = false
				arrivalNotes = append(arrivalNotes, "evenly spaced arrivals (c_a² = 0), where the model takes Poisson")
			}
			if p.Flash != nil {
				arrivalNotes = append(arrivalNotes, "a flash crowd: the model is at the mean rate")
			}
		default:
			arrivalNotes = append(arrivalNotes, fmt.Sprintf("traffic.%s's rate varies: the model is at its mean rate", g.cfg.Traffic[t].Name))
		}
	}
	callers := g.callersOf()
	keys := g.keyMix(rates)
	var visit func(i int, depth int)
	visit = func(i int, depth int) {
		if done[i] || depth > 64 {
			return
		}
		done[i] = true
		lambda := -1.0
		if i < len(measured) {
			lambda = measured[i]
		}
		a := g.station(i, l, callers, poisson, lambda, keys)
		if a.Model != "" {
			a.Notes = append(a.Notes, arrivalNotes...)
		}
		if a.Model != "" && !math.IsNaN(a.Mean) && !math.IsInf(a.Mean, 1) {
			// Each endpoint: its own time at the station, and its calls'
			// and sleeps' means; the component's mean weighs them by rate.
			var total float64
			for e := range a.own {
				total += l.Calls[i][e]
			}
			extra, ok, why := g.waitingMeans(i, func(j, ep int) float64 {
				visit(j, depth+1)
				if ep < len(out[j].EndpointMeans) {
					return out[j].EndpointMeans[ep]
				}
				return math.NaN()
			})
			if !ok {
				a.Mean, a.P50, a.P99 = math.NaN(), math.NaN(), math.NaN()
				a.Notes = append(a.Notes, why)
			} else {
				a.EndpointMeans = make([]float64, len(a.own))
				var sum, more float64
				for e := range a.own {
					a.EndpointMeans[e] = a.own[e] + extra[e]
					sum += l.Calls[i][e] * a.EndpointMeans[e]
					more += l.Calls[i][e] * extra[e]
				}
				if total > 0 {
					a.Mean = sum / total
				}
				if more > 0 {
					a.P50, a.P99 = math.NaN(), math.NaN()
				}
			}
		}
		out[i] = a
	}
	for i := range n {
		visit(i, 0)
	}
	return out
}

// callersOf maps each station to the balancers that reach it (their
// algorithms decide how its instances share the load).
func (g *Graph) callersOf() map[int][]string {
	m := map[int][]string{}
	for i, c := range g.cfg.Components {
		if b, ok := c.(*BalancerConfig); ok {
			s := g.Station(i)
			m[s] = append(m[s], b.Algorithm)
		}
	}
	return m
}

// station is component i's model, its mean without its calls.
func (g *Graph) station(i int, l *Load, callers map[int][]string, poisson bool, measured float64, keys keyMix) Analytic {
	a := Analytic{Utilization: math.NaN(), Mean: math.NaN(), P50: math.NaN(), P99: math.NaN()}
	c := g.cfg.Components[i]
	f := c.FleetConfig()
	none := func(why string) Analytic { a.Reason = why; return a }
	switch k := c.(type) {
	case *ServiceConfig:
	case *DatabaseConfig:
		if k.Shards*(1+k.Replicas) > 1 {
			return g.databaseNodes(i, k, l, keys, measured, poisson)
		}
	case *CacheConfig:
		if !k.LookupOnCPU {
			a.Model, a.Exact = "M/G/∞", true                  // lookups hold no core: no queue
			a.Mean, a.own = 0, make([]float64, len(g.eps[i])) // the lookup is a sleep step: added below
			return a
		}
	default:
		return none("not a queueing station")
	}
	if f == nil || f.Instances < 1 || f.Cores < 1 {
		return none("no instances")
	}
	switch {
	case f.Autoscale != nil:
		return none("autoscaled: its instances change over the run")
	case f.RateLimit.Rate > 0:
		return none("a rate limit")
	case f.MaxWait > 0:
		return none("max_wait sheds load")
	case f.USL.On():
		return none("the Universal Scalability Law slows its cores under load")
	case f.Warmup > 0:
		return none("instances warm up")
	case f.NodePool != "":
		return none("runs on a node pool")
	case len(f.Weights) > 0:
		return none("weighted instances")
	}
	for _, fc := range g.cfg.Faults {
		if fc.Target == c.ComponentName() {
			return none("a fault hits it")
		}
	}
	// The work of one call: one cpu step per endpoint, weighted by the
	// endpoints' rates.
	var lambda, m1, m2 float64
	timeoutNoted := false
	cpuE := make([]float64, len(g.eps[i]))
	for e, ep := range g.eps[i] {
		r := l.Calls[i][e]
		cpu := 0
		for _, s := range ep.Steps {
			switch s.Kind {
			case StepCPU:
				if s.P != 1 || s.If != Always || s.Dist == nil {
					return none("a conditional cpu step")
				}
				cpu++
				cpuE[e] = s.Dist.Mean()
				if r > 0 {
					m1 += r * s.Dist.Mean()
					m2 += r * s.Dist.SecondMoment()
				}
			case StepSleep:
			case StepCall:
				if s.Retries > 0 || s.Breaker != nil || s.ContinueOnError || s.If != Always {
					return none("a call with retries, a breaker, a fallback or a cache condition")
				}
				if s.Timeout > 0 && !timeoutNoted {
					timeoutNoted = true
					a.Notes = append(a.Notes, "its calls' timeouts are left out (they cut the slowest calls short)")
				}
			default:
				return none("async, parallel or publish steps")
			}
		}
		if cpu != 1 {
			return none("an endpoint without exactly one cpu step (each step queues for a core anew)")
		}
		lambda += r
	}
	if lambda <= 0 {
		return none("no calls reach it")
	}
	es, es2 := m1/lambda/1e9, m2/lambda/1e18 // seconds
	// own is each endpoint's queue wait (the station's mean less its mean
	// cpu step: the same for every endpoint) plus its own cpu step.
	withOwn := func(a Analytic) Analytic {
		wq := a.Mean - es*1e9
		a.own = make([]float64, len(cpuE))
		for e, c := range cpuE {
			a.own[e] = wq + c
		}
		return a
	}
	if measured >= 0 {
		lambda = measured
	}
	cs2 := es2/(es*es) - 1
	n, cores := f.Instances, f.Cores
	servers := cores
	if f.Concurrency != Unlimited && f.Concurrency < cores {
		servers = f.Concurrency
	}
	a.Utilization = lambda * es / float64(n*cores)
	// How the instances share the calls.
	alg := f.Algorithm
	if cs := callers[i]; len(cs) == 1 {
		alg = cs[0]
	} else if len(cs) > 1 {
		alg = "mixed"
	}
	ca2 := 1.0
	if !poisson {
		ca2 = 0
	}
	perInstance := lambda / float64(n)
	c2 := servers
	if n > 1 {
		switch alg {
		case "random":
		case "round_robin":
			ca2 /= float64(n)
		case "least_connections", "power_of_two", "least_latency":
			perInstance, c2 = lambda, servers*n // one pooled queue: a lower bound on the wait
			a.Notes = append(a.Notes, alg+" is taken as one queue for all instances (a lower bound on the wait)")
		default:
			return none("the balancer's algorithm (" + alg + ") spreads the load by key or weight")
		}
	}
	finite := f.Concurrency != Unlimited && f.Queue != Unlimited
	if finite {
		if math.Abs(cs2-1) > 1e-9 || ca2 != 1 {
			return none("a finite queue with work that is not exponential, or arrivals that are not Poisson")
		}
		k := f.Concurrency + f.Queue
		if c2 != servers { // pooled: n instances' capacity
			k *= n
		}
		a.Model, a.Exact = fmt.Sprintf("M/M/%d/%d", c2, k), true
		if f.Queue == 0 {
			a.Model = fmt.Sprintf("Erlang B (M/M/%d/%d)", c2, k)
		}
		a.Mean, a.Rejected = mmck(c2, k, perInstance, 1/es)
		a.Mean *= 1e9
		a.Utilization *= 1 - a.Rejected
		return withOwn(a)
	}
	rho := perInstance * es / float64(c2)
	if rho >= 1 {
		a.Model, a.Mean = "unstable", math.Inf(1)
		a.Reason = fmt.Sprintf("offered load %.2f× its capacity: the queue grows without bound", rho)
		return a
	}
	wqMMc := erlangC(c2, perInstance*es) / (float64(c2)/es - perInstance)
	switch {
	case ca2 == 1 && math.Abs(cs2-1) < 1e-9:
		a.Model, a.Exact = fmt.Sprintf("M/M/%d", c2), c2 == servers || n == 1
		a.Mean = (wqMMc + es) * 1e9
		if a.Exact {
			a.P50 = 1e9 * mmcQuantile(c2, perInstance, 1/es, 0.5)
			a.P99 = 1e9 * mmcQuantile(c2, perInstance, 1/es, 0.99)
		}
	case ca2 == 1 && c2 == 1:
		a.Model, a.Exact = "M/G/1 (Pollaczek–Khinchine)", true
		if cs2 < 1e-9 {
			a.Model = "M/D/1 (Pollaczek–Khinchine)"
		}
		a.Mean = (perInstance*es2/(2*(1-rho)) + es) * 1e9
	default:
		a.Model = fmt.Sprintf("G/G/%d (Allen–Cunneen)", c2)
		if ca2 == 1 {
			a.Model = fmt.Sprintf("M/G/%d (Allen–Cunneen)", c2)
		}
		a.Mean = ((ca2+cs2)/2*wqMMc + es) * 1e9
	}
	return withOwn(a)
}

// databaseNodes models a database of several nodes as one station per
// node: the load each takes as nodeLoads splits it (the keys' shares of
// the shards, writes at the primaries, reads as read_from spreads them),
// an M/G/c of min(cores, connections) servers each. The component's mean
// weighs the nodes' by their calls.
func (g *Graph) databaseNodes(i int, c *DatabaseConfig, l *Load, keys keyMix, measured float64, poisson bool) Analytic {
	a := Analytic{Utilization: math.NaN(), Mean: math.NaN(), P50: math.NaN(), P99: math.NaN()}
	none := func(why string) Analytic { a.Reason = why; return a }
	f := &c.Fleet
	switch {
	case c.Read == nil || c.Write == nil || f.Cores < 1:
		return none("no cores or no read/write work")
	case f.RateLimit.Rate > 0 || f.MaxWait > 0 || f.USL.On() || f.Warmup > 0:
		return none("a rate limit, max_wait, the Universal Scalability Law or warm-up")
	case f.Concurrency != Unlimited && f.Queue != Unlimited:
		return none("a finite queue at each node")
	}
	for _, fc := range g.cfg.Faults {
		if fc.Target == c.Name {
			return none("a fault hits it")
		}
	}
	reads, writes := l.Calls[i][dbReadEP], l.Calls[i][1]
	if reads+writes <= 0 {
		return none("no calls reach it")
	}
	if measured >= 0 {
		scale := measured / (reads + writes)
		reads, writes = reads*scale, writes*scale
	}
	servers := f.Cores
	if f.Concurrency != Unlimited && f.Concurrency < servers {
		servers = f.Concurrency
	}
	er, ew := c.Read.Mean()/1e9, c.Write.Mean()/1e9
	er2, ew2 := c.Read.SecondMoment()/1e18, c.Write.SecondMoment()/1e18
	ca2 := 1.0
	if !poisson {
		ca2 = 0
	}
	nodes := c.nodeLoads(reads, writes, keys)
	var readWait, writeWait, busy float64 // rate-weighted waits, s; busy cores
	exp := true
	for k, n := range nodes {
		r, w := n[0], n[1]
		lambda := r + w
		if lambda <= 0 {
			continue
		}
		es, es2 := (r*er+w*ew)/lambda, (r*er2+w*ew2)/lambda
		busy += lambda * es
		rho := lambda * es / float64(servers)
		if rho >= 1 {
			a.Model, a.Mean = "unstable", math.Inf(1)
			a.Reason = fmt.Sprintf("node %s is offered %.2f× its capacity: its queue grows without bound", c.nodeName(k), rho)
			return a
		}
		cs2 := es2/(es*es) - 1
		exp = exp && math.Abs(cs2-1) < 1e-9
		wq := (ca2 + cs2) / 2 * erlangC(servers, lambda*es) / (float64(servers)/es - lambda)
		readWait += r * wq
		writeWait += w * wq
	}
	a.Utilization = busy / float64(len(nodes)*f.Cores)
	readMean, writeMean := er, ew
	if reads > 0 {
		readMean += readWait / reads
	}
	if writes > 0 {
		writeMean += writeWait / writes
	}
	a.own = []float64{readMean * 1e9, writeMean * 1e9} // dbReadEP, then write
	a.Mean = (reads*readMean + writes*writeMean) / (reads + writes) * 1e9
	a.Model = fmt.Sprintf("M/G/%d (Allen–Cunneen) at each of %d nodes", servers, len(nodes))
	if exp && ca2 == 1 {
		a.Model = fmt.Sprintf("M/M/%d at each of %d nodes", servers, len(nodes))
	}
	a.Notes = append(a.Notes, "the nodes' shares of the calls come from the keys (hashed or ranged) and read_from, estimated")
	return a
}

// waitingMeans is, for each endpoint of component i, the mean time a call
// to it spends on its calls and sleeps (ns), with mean(j, ep) the analytic
// mean of a call to endpoint ep of station j; ok is false, with a reason,
// when a callee has none.
func (g *Graph) waitingMeans(i int, mean func(j, ep int) float64) ([]float64, bool, string) {
	out := make([]float64, len(g.eps[i]))
	for e, ep := range g.eps[i] {
		for k, s := range ep.Steps {
			switch s.Kind {
			case StepSleep:
				out[e] += s.P * meanNS(s.Dist)
			case StepCall:
				res := g.res[i][e][k]
				if !res.ok {
					return nil, false, "a call the graph could not resolve"
				}
				j := g.Station(int(res.tgt))
				m := mean(j, int(res.ep))
				if math.IsNaN(m) || math.IsInf(m, 0) {
					return nil, false, "calls " + g.cfg.Components[j].ComponentName() + ", which has no analytic mean"
				}
				if b, ok := g.cfg.Components[res.tgt].(*BalancerConfig); ok {
					m += meanNS(b.Latency) // the balancer's own time on the way in
				}
				if n := g.cfg.Network; n != nil {
					if len(n.Zones) > 0 {
						return nil, false, "network zones: crossing depends on the routing"
					}
					m += 2 * meanNS(n.Latency)
				}
				out[e] += s.P * m
			}
		}
	}
	return out, true, ""
}

// EndToEnd is the analytic mean latency of the requests (ns) — the mean
// over every traffic source's entry endpoints, weighted by rates, of the
// time a request takes there (a balancer's own latency included): the
// open network's answer for the whole path. ok is false when an entry has
// no analytic mean, or the clients are in network zones.
func (g *Graph) EndToEnd(rates [][]float64, an []Analytic) (mean float64, ok bool) {
	var sum, total float64
	for t, tr := range g.cfg.Traffic {
		if t >= len(rates) || g.entries[t] == nil {
			continue
		}
		if len(tr.Zones) > 0 {
			return 0, false
		}
		to := int(g.index[tr.To])
		st := g.Station(to)
		extra := 0.0
		if b, isBal := g.cfg.Components[to].(*BalancerConfig); isBal {
			extra = meanNS(b.Latency)
		}
		for k, ep := range g.entries[t] {
			if k >= len(rates[t]) || rates[t][k] <= 0 {
				continue
			}
			if int(ep) >= len(an[st].EndpointMeans) {
				return 0, false
			}
			sum += rates[t][k] * (an[st].EndpointMeans[ep] + extra)
			total += rates[t][k]
		}
	}
	if total <= 0 {
		return 0, false
	}
	return sum / total, true
}

// erlangC is the probability of waiting in M/M/c with offered load a = λ/μ,
// from Erlang B's stable recursion.
func erlangC(c int, a float64) float64 {
	b := 1.0
	for k := 1; k <= c; k++ {
		b = a * b / (float64(k) + a*b)
	}
	rho := a / float64(c)
	return b / (1 - rho*(1-b))
}

// mmcQuantile is the q-quantile of the M/M/c FCFS response time (s): T = W
// + S, W = 0 with probability 1 − C and Exp(cμ − λ) otherwise.
func mmcQuantile(c int, lambda, mu, q float64) float64 {
	C := erlangC(c, lambda/mu)
	a := float64(c)*mu - lambda
	cdf := func(t float64) float64 {
		var tail float64 // P(W' + S > t), W' ~ Exp(a)
		if math.Abs(a-mu) < 1e-12*mu {
			tail = (1 + mu*t) * math.Exp(-mu*t)
		} else {
			tail = (a*math.Exp(-mu*t) - mu*math.Exp(-a*t)) / (a - mu)
		}
		return 1 - ((1-C)*math.Exp(-mu*t) + C*tail)
	}
	lo, hi := 0.0, 1/mu
	for cdf(hi) < q {
		hi *= 2
	}
	for range 200 {
		mid := (lo + hi) / 2
		if cdf(mid) < q {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// mmck is M/M/c/K's mean response time of the calls admitted (s) and the
// fraction refused (Gross and Harris, §2.5).
func mmck(c, k int, lambda, mu float64) (mean, blocked float64) {
	a := lambda / mu
	p := make([]float64, k+1)
	p[0] = 1
	for n := 1; n <= k; n++ {
		p[n] = p[n-1] * a / float64(min(n, c))
	}
	var sum, l float64
	for n, x := range p {
		sum += x
		l += float64(n) * x
	}
	blocked = p[k] / sum
	l /= sum
	return l / (lambda * (1 - blocked)), blocked
}

// meanNS is a distribution's mean in ns (0 for none).
func meanNS(d interface{ Mean() float64 }) float64 { return meanOf(d) * 1e9 }
