package model

import (
	"github.com/capsim/capsim/model/dist"
	"github.com/capsim/capsim/sim"
)

// FunctionConfig is a serverless function (AWS Lambda; Cloud Run with
// Concurrency > 1). Its instances are execution environments, created on
// demand: an invocation that finds no warm environment with a free slot
// starts a new one, which runs ColdStart (the INIT phase) first, unless
// MaxInstances environments exist — then a synchronous invocation is
// throttled (outcome rejected) and an asynchronous one waits for a free
// slot, as Lambda's internal event queue retries it. An environment idle
// for KeepAlive is reclaimed (scale to zero); Provisioned environments are
// warm from the start and never reclaimed. Warm environments are reused
// most recently used first, provisioned ones before on-demand ones.
//
// Billing follows Lambda: per request, and per GB-second of billed
// duration — each busy period of an environment rounded up to 1 ms, the
// INIT phase included (AWS bills INIT for every configuration since
// 1 August 2025) — plus provisioned GB-seconds for the whole run. With
// Concurrency 1 a busy period is exactly one invocation (the first one
// with its INIT); with more, concurrent invocations share a busy period,
// as Cloud Run's request-based billing of instance time does.
type FunctionConfig struct {
	Name string
	Fleet
	Endpoints       []EndpointConfig
	MemoryMB        int
	ColdStart       dist.Dist // nil: none
	KeepAlive       sim.Time
	MaxInstances    int // Unlimited: none
	Provisioned     int
	PricePerRequest float64
	PricePerGBs     float64
	// PricePerProvisionedGBs is charged for each provisioned environment's
	// memory for the whole run, used or not.
	PricePerProvisionedGBs float64
	// Region is where the function runs, with a [network]: calls from the
	// region's zones are served in the caller's zone (no zone crossing: the
	// platform runs environments in every zone of the region), calls from
	// another region cross to it. "" without regions: every call is served
	// in its caller's zone.
	Region string
}

func (c *FunctionConfig) ComponentName() string             { return c.Name }
func (c *FunctionConfig) Kind() Kind                        { return KindFunction }
func (c *FunctionConfig) EndpointConfigs() []EndpointConfig { return c.Endpoints }
func (c *FunctionConfig) DefaultEndpoint(bool) string       { return "" }
func (c *FunctionConfig) Forward() string                   { return "" }
func (c *FunctionConfig) FleetConfig() *Fleet               { return &c.Fleet }

// GB is the function's memory in GB, as AWS bills it (MB / 1024).
func (c *FunctionConfig) GB() float64 { return float64(c.MemoryMB) / 1024 }

func (c *FunctionConfig) newComponent(b *builder) component {
	c.Instances = c.Provisioned // the station starts with the warm ones (the decoder sets it too)
	f := &function{station: newStation(c, b), cfg: c, rngInit: sim.NewStream(b.seed, c.Name, "init"),
		init: sim.NewHistogram(), winInit: sim.NewHistogram(), invoke: sim.NewHistogram(), winInvoke: sim.NewHistogram()}
	f.hook = f
	f.follows, f.home = true, -1
	if n := b.sim.cfg.Network; n != nil && c.Region != "" {
		for _, z := range n.zonesOf(ZoneShare{Zone: c.Region}) {
			for k, name := range n.Zones {
				if name == z.Zone && f.home < 0 {
					f.home = int8(k)
				}
			}
		}
	}
	f.departed = f
	f.avail.f = f
	for i := range f.insts {
		f.env = append(f.env, envState{provisioned: true, live: true})
		f.provIdle = append(f.provIdle, int32(i))
		f.refresh(int32(i))
	}
	return f
}

// function is the run-time state of a FunctionConfig.
type function struct {
	station
	cfg     *FunctionConfig
	rngInit *sim.Stream
	env     []envState // per instance slot
	free    []int32    // instance slots of reclaimed environments
	// Idle warm environments (concurrency 1): provisioned ones (a stack)
	// and on-demand ones (most recently used at the back; the front is the
	// longest idle, reclaimed first).
	provIdle []int32
	idle     ring
	// avail are the environments with a free slot (concurrency > 1).
	avail warmEnvs
	// waiting are asynchronous invocations waiting for a free slot.
	waiting ring

	invocations, coldStarts, throttled, queued int64
	billedMS                                   int64 // on-demand and provisioned busy time, rounded up per busy period
	costBilledMS, costInvocations              int64 // since the start of the run, for the cost over time
	starting                                   int   // environments in their INIT phase
	winCold                                    int64
	init, winInit, invoke, winInvoke           *sim.Histogram
}

type envState struct {
	provisioned bool
	live        bool
	idleSince   sim.Time
	busyFrom    sim.Time // start of the current busy period (INIT included)
	lastUsed    sim.Time
}

// departHook is told when a call leaves an instance of the station.
type departHook interface {
	departedFrom(s *Sim, inst int32, now sim.Time)
}

func (f *function) receive(s *Sim, ci int32) {
	now := s.eng.Now()
	if e := f.warm(); e >= 0 {
		f.assign(s, ci, e, now)
		return
	}
	if f.cfg.MaxInstances == Unlimited || f.fleet.replicas < f.cfg.MaxInstances {
		f.assign(s, ci, f.newEnv(s, now), now)
		return
	}
	if s.reqs[s.calls[ci].req].detached { // an asynchronous invocation waits
		f.queued++
		f.waiting.push(ci)
		return
	}
	f.throttled++
	c := &s.calls[ci]
	c.inst, c.arrived = -1, now
	f.stats.arrive(now)
	s.finishCall(ci, outRejected)
}

// assign starts invocation ci at environment e, or makes it wait for the
// end of e's INIT phase.
func (f *function) assign(s *Sim, ci, e int32, now sim.Time) {
	f.invocations++
	f.costInvocations++
	f.use(e, now)
	f.refresh(e) // its rank changed; its load changes below
	in := &f.insts[e]
	if in.state == instReady {
		f.arrive(s, ci, e)
		f.refresh(e)
		return
	}
	c := &s.calls[ci]
	c.inst, c.arrived = e, now
	f.stats.arrive(now)
	in.load++
	in.admitQ.push(ci)
	f.wait(e, now, 1)
	f.refresh(e)
}

// warm returns a ready environment with a free slot, most recently used
// first and provisioned first, or −1.
func (f *function) warm() int32 {
	if f.cfg.Concurrency == 1 {
		if n := len(f.provIdle); n > 0 {
			e := f.provIdle[n-1]
			f.provIdle = f.provIdle[:n-1]
			return e
		}
		if f.idle.len() > 0 {
			return f.idle.popBack()
		}
		return -1
	}
	return f.avail.best()
}

// refresh puts environment e in avail or takes it out, after anything
// that decides whether it has a free slot, or its rank, changed (its
// load, state or last use).
func (f *function) refresh(e int32) {
	if f.cfg.Concurrency == 1 {
		return
	}
	in, st := &f.insts[e], &f.env[e]
	free := (st.live || st.provisioned) && (in.state == instReady || in.state == instStarting) &&
		(f.cfg.Concurrency == Unlimited || in.load < f.cfg.Concurrency)
	f.avail.set(e, free)
}

// warmEnvs holds environments best first — provisioned before on-demand,
// then the most recently used, then the lowest slot — in a binary heap
// indexed by slot: a pick is O(1) and a change O(log n), where scanning
// every environment made a call cost grow with the fleet. Entries carry
// their rank, so that sifting reads only the heap.
type warmEnvs struct {
	f    *function
	heap []warmEntry
	pos  []int32 // per slot: its index in heap, or −1
}

type warmEntry struct {
	lastUsed    sim.Time
	e           int32
	provisioned bool
}

// before reports whether a ranks before b.
func (a *warmEntry) before(b *warmEntry) bool {
	if a.provisioned != b.provisioned {
		return a.provisioned
	}
	if a.lastUsed != b.lastUsed {
		return a.lastUsed > b.lastUsed
	}
	return a.e < b.e
}

func (w *warmEnvs) best() int32 {
	if len(w.heap) == 0 {
		return -1
	}
	return w.heap[0].e
}

// set makes e a member (at its current rank) or not.
func (w *warmEnvs) set(e int32, member bool) {
	for int(e) >= len(w.pos) {
		w.pos = append(w.pos, -1)
	}
	i := w.pos[e]
	switch {
	case member:
		st := &w.f.env[e]
		entry := warmEntry{lastUsed: st.lastUsed, e: e, provisioned: st.provisioned}
		if i < 0 {
			w.heap = append(w.heap, entry)
			w.place(len(w.heap)-1, entry)
			return
		}
		w.place(int(i), entry)
	case i >= 0:
		w.pos[e] = -1
		last := len(w.heap) - 1
		moved := w.heap[last]
		w.heap = w.heap[:last]
		if int(i) < last {
			w.place(int(i), moved)
		}
	}
}

// place puts entry at index i of the heap, then moves it up or down to
// where it belongs.
func (w *warmEnvs) place(i int, entry warmEntry) {
	h := w.heap
	for i > 0 {
		p := (i - 1) / 2
		if !entry.before(&h[p]) {
			break
		}
		h[i] = h[p]
		w.pos[h[i].e] = int32(i)
		i = p
	}
	for {
		c := 2*i + 1
		if c >= len(h) {
			break
		}
		if c+1 < len(h) && h[c+1].before(&h[c]) {
			c++
		}
		if !h[c].before(&entry) {
			break
		}
		h[i] = h[c]
		w.pos[h[i].e] = int32(i)
		i = c
	}
	h[i] = entry
	w.pos[entry.e] = int32(i)
}

// use marks environment e busy from now (a new busy period if it was idle).
func (f *function) use(e int32, now sim.Time) {
	st := &f.env[e]
	if f.insts[e].load == 0 && f.insts[e].state == instReady {
		st.busyFrom = now
	}
	st.lastUsed = now
}

// newEnv starts a new environment (a cold start) and returns its slot.
func (f *function) newEnv(s *Sim, now sim.Time) int32 {
	var e int32
	if n := len(f.free); n > 0 {
		e = f.free[n-1]
		f.free = f.free[:n-1]
		f.insts[e] = instance{}
	} else {
		f.insts = append(f.insts, instance{})
		f.env = append(f.env, envState{})
		e = int32(len(f.insts) - 1)
	}
	f.insts[e].state, f.insts[e].created, f.insts[e].pos = instStarting, now, -1
	f.env[e] = envState{live: true, busyFrom: now, lastUsed: now}
	f.refresh(e)
	f.coldStarts++
	f.winCold++
	f.starting++
	fl := &f.fleet
	fl.replicas++
	fl.replicaLvl.Add(now, 1)
	fl.maxSeen = max(fl.maxSeen, fl.replicas)
	var d sim.Time
	if f.cfg.ColdStart != nil {
		d = f.cfg.ColdStart.Sample(f.rngInit)
	}
	if now >= s.cfg.Warmup {
		f.winInit.Record(d)
	}
	s.eng.At(now+d, opInitDone, e, uint32(f.idx))
	return e
}

// initDone ends environment e's INIT phase: it takes the invocations
// waiting for it.
func (f *function) initDone(s *Sim, e int32) {
	now := s.eng.Now()
	in := &f.insts[e]
	in.state, in.readyAt = instReady, now
	f.starting--
	f.fleet.readyCores.Add(now, int64(f.cores))
	for in.admitQ.len() > 0 && (f.cfg.Concurrency == Unlimited || in.active < f.cfg.Concurrency) {
		f.wait(e, now, -1)
		s.admit(in.admitQ.pop())
		in = &f.insts[e]
	}
}

// answered records the invocation's own duration (after any INIT).
func (f *function) answered(s *Sim, ci int32) {
	c := &s.calls[ci]
	if c.arrived < f.stats.start {
		return
	}
	from := max(c.arrived, f.insts[c.inst].readyAt)
	f.winInvoke.Record(s.eng.Now() - from)
}

// departedFrom ends a busy period when environment e has nothing left,
// hands its slot to a waiting asynchronous invocation, or lets it idle.
func (f *function) departedFrom(s *Sim, e int32, now sim.Time) {
	f.refresh(e)
	in, st := &f.insts[e], &f.env[e]
	if in.load > 0 || in.state != instReady {
		return
	}
	ms := int64((now - st.busyFrom + sim.Millisecond - 1) / sim.Millisecond)
	f.costBilledMS += ms
	if now >= s.cfg.Warmup { // busy periods that end in the measured period
		f.billedMS += ms
	}
	if f.waiting.len() > 0 {
		f.assign(s, f.waiting.pop(), e, now)
		return
	}
	st.idleSince = now
	if st.provisioned {
		f.provIdle = append(f.provIdle, e)
		return
	}
	if f.cfg.Concurrency == 1 {
		f.idle.push(e)
	}
	s.eng.At(now+f.cfg.KeepAlive, opReclaim, e, uint32(f.idx))
}

// reclaim shuts environment e down if it has idled for the keep-alive.
func (f *function) reclaim(s *Sim, e int32) {
	now := s.eng.Now()
	in, st := &f.insts[e], &f.env[e]
	if !st.live || st.provisioned || in.state != instReady || in.load > 0 || now < st.idleSince+f.cfg.KeepAlive {
		return
	}
	if f.cfg.Concurrency == 1 {
		f.idle.remove(e)
	}
	st.live = false
	in.state = instGone
	f.refresh(e)
	f.free = append(f.free, e)
	fl := &f.fleet
	fl.replicas--
	fl.replicaLvl.Add(now, -1)
	fl.readyCores.Add(now, -int64(f.cores))
	fl.minSeen = min(fl.minSeen, fl.replicas)
}

func (f *function) resetStats(now sim.Time) {
	f.station.resetStats(now)
	f.invocations, f.coldStarts, f.throttled, f.queued = 0, 0, 0, 0
	f.billedMS = 0
	f.init.Reset()
	f.winInit.Reset()
	f.invoke.Reset()
	f.winInvoke.Reset()
	f.fleet.minSeen, f.fleet.maxSeen = f.fleet.replicas, f.fleet.replicas
}

func (f *function) closeWindow(now sim.Time) ComponentWindow {
	cw := f.station.closeWindow(now)
	cw.Ready = f.fleet.replicas - f.starting
	cw.ColdStarts = f.winCold
	f.winCold = 0
	f.init.Merge(f.winInit)
	f.winInit.Reset()
	f.invoke.Merge(f.winInvoke)
	f.winInvoke.Reset()
	return cw
}

// costs splits what the function cost over a period of length span with
// billedMS of busy time and invocations requests.
func (f *function) costs(billedMS, invocations int64, span sim.Time) (requests, compute, provisioned float64) {
	gb := f.cfg.GB()
	requests = float64(invocations) * f.cfg.PricePerRequest
	compute = float64(billedMS) / 1000 * gb * f.cfg.PricePerGBs
	provisioned = float64(f.cfg.Provisioned) * gb * span.Seconds() * f.cfg.PricePerProvisionedGBs
	return
}

func (f *function) result(now, measuredFrom sim.Time) ComponentResult {
	f.init.Merge(f.winInit)
	f.winInit.Reset()
	f.invoke.Merge(f.winInvoke)
	f.winInvoke.Reset()
	c := f.station.result(now, measuredFrom)
	fr := &FunctionResult{Invocations: f.invocations, ColdStarts: f.coldStarts, Throttled: f.throttled, Queued: f.queued,
		BilledMS: f.billedMS, MemoryMB: f.cfg.MemoryMB, Init: summarize(f.init), Invocation: summarize(f.invoke)}
	fr.RequestsUSD, fr.ComputeUSD, fr.ProvisionedUSD = f.costs(f.billedMS, f.invocations, now-measuredFrom)
	c.Function = fr
	c.CostUSD = fr.RequestsUSD + fr.ComputeUSD + fr.ProvisionedUSD
	return c
}

func (f *function) costSoFar(now sim.Time) float64 {
	r, c, p := f.costs(f.costBilledMS, f.costInvocations, now)
	return r + c + p
}

// FunctionResult is a function's outcome over the measured period.
type FunctionResult struct {
	Invocations                             int64 // started (warm or cold), not throttled
	ColdStarts                              int64 // environments started on demand (each an INIT)
	Throttled                               int64 // synchronous invocations rejected at max_instances
	Queued                                  int64 // asynchronous invocations that waited for a slot
	BilledMS                                int64
	MemoryMB                                int
	Init                                    Latency // INIT durations
	Invocation                              Latency // invocations' own duration, INIT excluded
	RequestsUSD, ComputeUSD, ProvisionedUSD float64
}
