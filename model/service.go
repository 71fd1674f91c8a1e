package model

import (
	"github.com/capsim/capsim/model/dist"
	"github.com/capsim/capsim/sim"
)

// instance is one member of a service fleet.
type instance struct {
	active int  // admitted calls (holding a concurrency slot)
	load   int  // admitted + waiting for admission: what balancers see
	busy   int  // cores in use
	admitQ ring // calls waiting for a concurrency slot
	cpuQ   ring // admitted calls waiting for a core

	state   instState
	created sim.Time // asked for (billed from here)
	readyAt sim.Time
	metrics instanceMetrics // kept only for autoscaled services
}

type instState uint8

const (
	instStarting instState = iota // provisioning and booting: billed, takes no requests
	instReady
	instDraining // removed: finishes what it has, takes nothing new
	instGone
)

// endpoint is an EndpointConfig with its call targets resolved.
type endpoint struct {
	name  string
	steps []step
	write bool
}

type step struct {
	kind     StepKind
	d        dist.Dist
	p        float64
	cond     CacheCond
	write    bool
	timeout  sim.Time
	target   string
	endpoint string
	tgt      target
	ep       int32
}

// componentStats are the statistics every component keeps.
type componentStats struct {
	inSystem   sim.Level // calls present (Little's L)
	waiting    sim.Level // calls waiting for admission or a core
	lat        *sim.Histogram
	winLat     *sim.Histogram
	arrivals   int64
	departures int64
	rejected   int64
	sojourn    sim.Int128 // time in the component (since start) of departed calls, ns
	presentAt  sim.Int128 // sum of the arrival times (clipped to start) of calls present
	start      sim.Time   // start of the measured period
	winRej     int64
}

func newComponentStats() componentStats {
	return componentStats{lat: sim.NewHistogram(), winLat: sim.NewHistogram()}
}

func (st *componentStats) arrive(now sim.Time) {
	st.arrivals++
	st.inSystem.Add(now, 1)
	st.presentAt.Add(int64(now))
}

func (st *componentStats) depart(o outcome, arrived, now sim.Time, measured bool) {
	st.inSystem.Add(now, -1)
	st.departures++
	from := max(arrived, st.start)
	st.presentAt.Add(-int64(from))
	st.sojourn.Add(int64(now - from))
	if o == outRejected {
		st.rejected++
		st.winRej++
	}
	if o == outOK && measured {
		st.winLat.Record(now - arrived) // merged into lat when the window closes
	}
}

func (st *componentStats) reset(now sim.Time) {
	st.inSystem.ResetRun(now)
	st.waiting.ResetRun(now)
	st.lat.Reset()
	st.winLat.Reset()
	st.arrivals, st.departures, st.rejected = 0, 0, 0
	st.sojourn = sim.Int128{}
	st.start = now
	// Calls present now count as arrivals of the measured period, so that
	// arrivals = departures + present holds for it, and their time in the
	// component counts from now.
	st.arrivals = st.inSystem.Value()
	st.presentAt = sim.Int128{}
	st.presentAt.AddProduct(st.arrivals, int64(now))
}

// flushWindow merges the window's latencies into the run's and starts a new
// window.
func (st *componentStats) flushWindow() {
	st.lat.Merge(st.winLat)
	st.winLat.Reset()
	st.winRej = 0
}

// timeInSystem is the total time calls spent in the component during the
// measured period up to now, departed or not (ns).
func (st *componentStats) timeInSystem(now sim.Time) float64 {
	t := st.sojourn
	t.AddProduct(st.inSystem.Value(), int64(now))
	return t.Sub(st.presentAt).Float64()
}

// service is the run-time state of a ServiceConfig.
type service struct {
	cfg   *ServiceConfig
	idx   int32
	insts []instance
	eps   []endpoint
	cores int

	picker                             Picker
	rngCPU, rngSleep, rngBranch, rngPk *sim.Stream

	ready []int32 // ready instances, oldest first: what balancers choose from
	fleet fleet   // instance counts, autoscaler and thrashing statistics
	cache *cache  // non-nil for caches
	db    *db     // non-nil for databases
	// perInstance keeps per-instance levels (for autoscaling metrics and
	// database node statistics); other services skip that cost.
	perInstance bool

	busy  sim.Level // cores in use over all instances
	stats componentStats
}

func newService(c *ServiceConfig, idx int32, seed uint64) *service {
	s := &service{
		cfg:       c,
		idx:       idx,
		cores:     c.Cores,
		picker:    c.NewPicker(),
		rngCPU:    sim.NewStream(seed, c.Name, "cpu"),
		rngSleep:  sim.NewStream(seed, c.Name, "sleep"),
		rngBranch: sim.NewStream(seed, c.Name, "branch"),
		rngPk:     sim.NewStream(seed, c.Name, "balance"),
		stats:     newComponentStats(),
	}
	for _, e := range c.Endpoints {
		ep := endpoint{name: e.Name, write: e.Write}
		for _, st := range e.Steps {
			p := st.P
			if p <= 0 || p > 1 {
				p = 1
			}
			ep.steps = append(ep.steps, step{kind: st.Kind, d: st.Dist, p: p, cond: st.If, write: st.Write, timeout: st.Timeout, target: st.Target, endpoint: st.Endpoint})
		}
		s.eps = append(s.eps, ep)
	}
	s.fleet.init(s)
	if c.Cache != nil {
		s.cache = newCache(c, seed)
	}
	if c.Database != nil {
		s.db = newDB(c, seed)
	}
	s.perInstance = s.fleet.scaler != nil || s.db != nil
	return s
}

// Backends view for pickers: the ready instances.
func (s *service) Len() int       { return len(s.ready) }
func (s *service) Load(i int) int { return s.insts[s.ready[i]].load }
func (s *service) Weight(i int) float64 {
	if id := int(s.ready[i]); id < len(s.cfg.Weights) {
		return s.cfg.Weights[id]
	}
	return 1
}

func (s *service) pick() int32 { return s.pickWith(s.picker, s.rngPk) }

// pickWith returns the instance a picker chooses, or -1 when no instance is
// ready.
func (s *service) pickWith(p Picker, rng *sim.Stream) int32 {
	switch len(s.ready) {
	case 0:
		return -1
	case 1:
		return s.ready[0]
	}
	i := p.Pick(s, rng)
	if i < 0 || i >= len(s.ready) {
		i = 0
	}
	return s.ready[i]
}

// arrive admits, queues or rejects call ci at its instance.
func (s *service) arrive(sm *Sim, ci int32) {
	now := sm.eng.Now()
	c := &sm.calls[ci]
	c.arrived = now
	s.stats.arrive(now)
	if c.inst < 0 { // no instance ready: the balancer answers 503
		sm.finishCall(ci, outRejected)
		return
	}
	in := &s.insts[c.inst]
	in.load++
	if s.perInstance {
		in.metrics.arrive(now, 1)
	}
	if s.cfg.Concurrency == Unlimited || in.active < s.cfg.Concurrency {
		sm.admit(ci)
		return
	}
	if s.cfg.Queue == Unlimited || in.admitQ.len() < s.cfg.Queue {
		in.admitQ.push(ci)
		s.wait(in, now, 1)
		return
	}
	sm.finishCall(ci, outRejected)
}

// requestCore runs a cpu step of length d for call ci, now or when a core of
// its instance frees up.
func (s *service) requestCore(sm *Sim, ci int32, d sim.Time) {
	c := &sm.calls[ci]
	in := &s.insts[c.inst]
	now := sm.eng.Now()
	if s.cfg.Warmup > 0 && now < in.readyAt+s.cfg.Warmup {
		d = sim.Time(float64(d) / s.cfg.WarmupSpeed) // a cold instance is slower
	}
	if in.busy < s.cores {
		in.busy++
		s.busy.Add(now, 1)
		if s.perInstance {
			in.metrics.busy.Add(now, 1)
		}
		c.cpuFrom = now
		sm.eng.After(d, opCPUDone, ci, c.token)
		return
	}
	c.demand = d
	in.cpuQ.push(ci)
	s.wait(in, now, 1)
}

// wait changes the number of calls waiting at instance in.
func (s *service) wait(in *instance, now sim.Time, d int64) {
	s.stats.waiting.Add(now, d)
	if s.perInstance {
		in.metrics.waiting.Add(now, d)
	}
}

// releaseCore frees a core of instance i, handing it straight to the next
// waiting call if there is one.
func (s *service) releaseCore(sm *Sim, i int32) {
	in := &s.insts[i]
	now := sm.eng.Now()
	if in.cpuQ.len() > 0 {
		next := in.cpuQ.pop()
		s.wait(in, now, -1)
		c := &sm.calls[next]
		c.cpuFrom = now
		sm.eng.After(c.demand, opCPUDone, next, c.token)
		return
	}
	in.busy--
	s.busy.Add(now, -1)
	if s.perInstance {
		in.metrics.busy.Add(now, -1)
	}
}

// depart updates statistics and frees the concurrency slot of call ci.
func (s *service) depart(sm *Sim, ci int32, o outcome, now sim.Time) {
	c := &sm.calls[ci]
	measured := c.arrived >= s.stats.start
	s.stats.depart(o, c.arrived, now, measured)
	if c.inst < 0 {
		return
	}
	if s.db != nil && measured {
		s.db.depart(c.inst, o, now-c.arrived)
	}
	in := &s.insts[c.inst]
	in.load--
	if s.perInstance {
		in.metrics.arrive(now, -1)
	}
	if c.active {
		c.active = false
		in.active--
		if in.admitQ.len() > 0 {
			next := in.admitQ.pop()
			s.wait(in, now, -1)
			// Admit through an event at the same instant: a chain of calls
			// that fail at once would otherwise recurse once per queued call.
			sm.eng.At(now, opAdmit, next, 0)
		}
	}
	if in.state == instDraining && in.load == 0 {
		s.fleet.retire(sm, s, c.inst, now)
	}
}

func (s *service) resetStats(now sim.Time) {
	if s.cache != nil {
		s.cache.stats = cacheStats{}
	}
	if s.db != nil {
		s.db.resetStats()
	}
	if s.perInstance {
		for i := range s.insts {
			s.insts[i].metrics.busy.ResetRun(now)
			s.insts[i].metrics.waiting.ResetRun(now)
		}
	}
	s.busy.ResetRun(now)
	s.stats.reset(now)
	s.fleet.resetStats(now)
}

// balancer is the run-time state of a BalancerConfig.
type balancer struct {
	cfg     *BalancerConfig
	idx     int32
	svc     int32
	picker  Picker
	rngPick *sim.Stream
	rngLat  *sim.Stream
	stats   componentStats
}

func newBalancer(c *BalancerConfig, idx, svc int32, seed uint64) *balancer {
	return &balancer{
		cfg: c, idx: idx, svc: svc, picker: c.NewPicker(),
		rngPick: sim.NewStream(seed, c.Name, "balance"),
		rngLat:  sim.NewStream(seed, c.Name, "latency"),
		stats:   newComponentStats(),
	}
}

func (b *balancer) resetStats(now sim.Time) {
	b.stats.reset(now)
}
