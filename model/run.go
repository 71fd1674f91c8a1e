package model

import (
	"errors"
	"fmt"

	"github.com/capsim/capsim/sim"
)

// Event operations handled by Sim.Handle.
const (
	opArrive        int32 = iota // a traffic source's next arrival; Ref = source
	opStart                      // a request starts; Ref = request
	opClientTimeout              // Ref = request, Gen = request token
	opCPUDone                    // Ref = call, Gen = call token
	opSleepDone                  // Ref = call, Gen = call token
	opCallTimeout                // Ref = calling call, Gen = its token
	opAdmit                      // a queued call is admitted; Ref = call
	opForward                    // a balancer forwards after its latency; Ref = call
	opWindow                     // close a time-series window
	opWarmup                     // the warm-up period ends
	opScrape                     // collect autoscaling metrics; Ref = component
	opSync                       // an autoscaler decides; Ref = component
	opReady                      // a started instance is ready; Ref = instance, Gen = component
	opSchedule                   // a scheduled scaling action; Ref = component, Gen = action
	opBranchTimeout              // a parallel branch gives up; Ref = branch call, Gen = its serial
	opFault                      // a fault begins or ends; Ref = fault, Gen = faultBegin or faultEnd
	opRetry                      // a call step's backoff is over; Ref = calling call, Gen = its token
	opCheck                      // a health check; Ref = balancer, Gen = instance<<1 | timed out
	opLBRetry                    // a balancer retries a refused call; Ref = call, Gen = its serial
	opLBTimeout                  // a balancer's server timeout; Ref = call, Gen = its serial
	opChaos                      // a chaos fault fails or repairs an instance; Ref = fault, Gen = instance<<1 | repair
	opUneject                    // an ejected outlier returns; Ref = balancer, Gen = instance
	opRedeliver                  // a failed message is visible again; Ref = queue, Gen = message
	opRebalanced                 // a consumer group's rebalance pause may be over; Ref = queue
	opInitDone                   // a function environment's INIT phase ends; Ref = instance, Gen = component
	opReclaim                    // a function environment may have idled for its keep-alive; Ref = instance, Gen = component
	opScan                       // a node pool's Cluster Autoscaler scans; Ref = component
	opNodeReady                  // a new node joins its pool; Ref = node, Gen = component
	opHopOut                     // a call's request hop ends; Ref = call, Gen = its serial
	opHopBack                    // a call's answer reaches its caller; Ref = call, Gen = its serial
)

// outcome is how a request or call ended.
type outcome uint8

const (
	outOK outcome = iota
	outRejected
	outTimeout
	outError
)

// Callers of a call that has no calling call.
const (
	noParent = -1 // the request's client (or, for detached work, nobody) gets the answer
	orphan   = -2 // a parallel branch that timed out: nobody waits for its answer
)

// call is one visit of a request to a component (a station's endpoint,
// perhaps through a balancer). Calls live in a slab and are referred to by
// index; token changes whenever the call stops waiting, which makes events
// scheduled for an earlier wait stale.
type call struct {
	// Hot fields first: every call reads them.
	req     int32
	parent  int32  // calling call, noParent or orphan
	ptoken  uint32 // parent's token when it made this call
	token   uint32
	serial  uint32 // fixed while the call lives (0 once freed): names it to its branch timeout
	at      int32  // the component whose station runs the call
	via     int32  // 1 + index of the balancer it came through, or 0
	inst    int32
	ep      int32
	step    int32
	arrived sim.Time // at the station
	cpuFrom sim.Time // when the current cpu step got its core
	demand  sim.Time // cpu time of the step waiting for a core
	// cpu is the cpu time spent on the call and on the calls it made that
	// answered it: the work its answer stands for.
	cpu        sim.Time
	lookupFrom int32    // the cache of the endpoint's last lookup
	need, room int32    // a parallel step: successes still needed, failures still allowed
	lookup     int8     // lookupNone, lookupHit or lookupMiss
	write      bool     // a successful answer writes the request's key
	active     bool     // holds a concurrency slot
	trial      bool     // the attempt is a half-open breaker's trial call
	notSent    bool     // the attempt was rejected by an open breaker
	lastFailed bool     // the endpoint's last call failed and it went on (on_error = "continue")
	hopping    bool     // on its request hop (network)
	answer     outcome  // on its response hop: the outcome it carries
	attempt    int16    // a call step: retries made so far
	lbTries    int16    // connection retries by the balancer it came through
	lookupAt   sim.Time // when the endpoint's last cache lookup answered
	viaArrived sim.Time // at the balancer
	attemptAt  sim.Time // when the current attempt began (for a breaker's slow calls)
	lbDeadline sim.Time // the balancer's server timeout of the current attempt
	// Where the call's time at its station went, for the breakdown: waiting
	// for a concurrency slot (or a function's INIT), waiting for a core,
	// and on a core; and its request hop.
	slotWait, coreWait, ownCPU, hopOut sim.Time
	// The path the answer took beyond the call's own waits and cpu: its
	// network hops, and the waits, cpu and hops of the calls it made that
	// answered it (of a parallel step, the branch that decided it), for
	// the request's end-to-end split.
	pathWait, pathCPU, pathNet sim.Time
}

// request is one client request, from its intended start to its outcome,
// or one detached request started by an async step.
type request struct {
	src      int32
	ep       int32 // index into the source's endpoint list
	session  int32 // position in the source's session
	key      uint64
	intended sim.Time
	token    uint32
	calls    int32    // calls of this request still in the system
	cpu      sim.Time // cpu time its answer stands for
	done     bool     // the client has its outcome
	measured bool     // counted in the statistics (started after warm-up)
	detached bool     // started by an async step (or a queue): no client waits for it
	queue    int32    // 1 + the queue whose message it processes, or 0
	msg      int32    // that message
	inst     int32    // the consumer instance it went to
	out      outcome
	zone     int8 // the client's network zone, or −1
	// Along the path its answer took: waiting (for slots, cores, INIT),
	// on cores, and on the network.
	pathWait, pathCPU, pathNet sim.Time
}

// Sim is one run of a Config. Build it with New, run it with Run.
type Sim struct {
	seed  uint64
	cfg   *Config
	eng   sim.Engine
	graph *Graph

	comps     []component // Config.Components order
	stations  []*station  // by component index; nil where the component is not a station
	balancers []*balancer // by component index; nil where the component is not a balancer
	caches    []*cache    // key-level caches react to writes
	queues    []*queue
	pools     []*nodePool
	net       *network // nil: calls take no time on the wire
	sources   []*source
	faults    []fault
	faultLog  []FaultResult

	calls     []call
	freeCalls []int32
	reqs      []request
	freeReqs  []int32

	global   trafficStats
	split    pathSplit // measured requests answered ok, end to end
	inFlight sim.Level
	wasted   struct {
		requests int64
		cpu      sim.Time
	}
	async           asyncStats
	retries         int64 // retry attempts of call steps (measured requests)
	breakerRejected int64 // attempts an open breaker rejected (measured requests)
	budgetDenied    int64 // retries a spent retry budget refused (measured requests)
	win             windowCounts
	windows         []Window
	decisions       []Decision
	live            int                 // requests in the system (client and detached)
	maxLive         int                 // the limit on live (0: none)
	err             error               // why the run stopped early, if it did
	keyed           bool                // some component keeps keys: record writes
	lastWrite       map[uint64]sim.Time // per key, when keyed
	winNext         sim.Time
}

// windowCounts are the counters of the current time-series window.
type windowCounts struct{ arrivals, ok, errors, retries int64 }

// asyncStats count the detached requests started by async steps.
type asyncStats struct {
	started, ok, rejected, timedOut, failed int64
	live                                    int64 // measured detached requests not answered yet
	lat                                     *sim.Histogram
}

// New builds a run of cfg with the given seed. cfg must be valid (see
// package experiments/scenario, and Graph.Problems); New reports what it
// cannot wire.
func New(cfg *Config, seed uint64) (*Sim, error) {
	g := NewGraph(cfg)
	if len(g.Problems) > 0 {
		p := g.Problems[0]
		where := p.Component
		if p.Traffic != "" {
			where = "traffic." + p.Traffic
		}
		return nil, fmt.Errorf("%s: %s", where, p.Msg)
	}
	s := &Sim{cfg: cfg, graph: g, global: newTrafficStats(), seed: seed, net: newNetwork(cfg.Network, seed)}
	switch s.maxLive = cfg.MaxInFlight; s.maxLive {
	case 0:
		s.maxLive = DefaultMaxInFlight
	case Unlimited:
		s.maxLive = 0
	}
	s.async.lat = sim.NewHistogram()
	s.eng.SetHandler(s)
	n := len(cfg.Components)
	s.stations = make([]*station, n)
	s.balancers = make([]*balancer, n)
	for i, c := range cfg.Components {
		k := c.newComponent(&builder{seed: seed, idx: int32(i), graph: g, sim: s})
		s.comps = append(s.comps, k)
		switch k := k.(type) {
		case router:
			s.stations[i] = k.work()
		case *balancer:
			s.balancers[i] = k
		}
	}
	for _, b := range s.balancers {
		if b != nil {
			b.backend = s.comps[b.to].(router)
		}
	}
	for _, st := range s.stations { // latency-aware pickers need the instances' averages
		if st == nil {
			continue
		}
		if _, ok := st.picker.(LatencyPicker); ok {
			st.trackLatency = true
		}
	}
	for _, b := range s.balancers {
		if b == nil {
			continue
		}
		if _, ok := b.picker.(LatencyPicker); ok {
			b.backend.work().trackLatency = true
		}
	}
	for _, st := range s.stations { // and with zones, by the callers' zone
		if st != nil && st.trackLatency && s.net != nil && len(s.net.cfg.Zones) > 0 {
			st.nZones, st.pickZone = len(s.net.cfg.Zones), -1
			st.zoneLat = make([]latEWMA, 0, len(st.insts)*st.nZones)
		}
	}
	for _, p := range s.pools {
		for _, st := range s.stations {
			if st != nil && st.cfg.NodePool == p.cfg.Name {
				st.pool = p
				p.stations = append(p.stations, st)
			}
		}
	}
	if s.keyed {
		s.lastWrite = map[uint64]sim.Time{}
	}
	if err := s.newFaults(g); err != nil {
		return nil, err
	}
	for i := range cfg.Traffic {
		tc := &cfg.Traffic[i]
		src, err := newSource(s, tc, int32(i), g.index[tc.To], g.entries[i], seed)
		if err != nil {
			return nil, fmt.Errorf("traffic %s: %v", tc.Name, err)
		}
		s.sources = append(s.sources, src)
	}
	return s, nil
}

// Run simulates the whole duration and returns the results.
func (s *Sim) Run() *Result {
	s.Start()
	s.eng.RunUntil(s.cfg.Duration)
	return s.Finish()
}

// Start schedules the first events; with RunUntil and Finish it lets a
// caller run in slices (for progress reporting).
func (s *Sim) Start() {
	for _, src := range s.sources {
		src.scheduleNext(s)
	}
	if s.cfg.Warmup > 0 && s.cfg.Warmup < s.cfg.Duration {
		s.eng.AtFirst(s.cfg.Warmup, opWarmup, 0, 0)
	}
	for _, c := range s.comps {
		c.start(s)
	}
	s.startFaults()
	s.winNext = s.cfg.Window
	if s.winNext > 0 && s.winNext < s.cfg.Duration {
		s.eng.AtFirst(s.winNext, opWindow, 0, 0)
	}
}

// RunUntil advances the run to t (at most the configured duration).
func (s *Sim) RunUntil(t sim.Time) {
	if t > s.cfg.Duration {
		t = s.cfg.Duration
	}
	s.eng.RunUntil(t)
}

// RunFor runs at most n more events up to t (the run's end at most) and
// reports whether it reached t; see sim.Engine.RunFor.
func (s *Sim) RunFor(t sim.Time, n int) bool {
	if t > s.cfg.Duration {
		t = s.cfg.Duration
	}
	return s.eng.RunFor(t, n)
}

// Now is the simulated time reached.
func (s *Sim) Now() sim.Time { return s.eng.Now() }

// Handle dispatches every event of the run.
func (s *Sim) Handle(ev *sim.Event) {
	switch ev.Op() {
	case opArrive:
		s.sources[ev.Ref].arrive(s)
	case opStart:
		s.startRequest(ev.Ref)
	case opClientTimeout:
		s.clientTimeout(ev.Ref, ev.Gen)
	case opCPUDone:
		if s.calls[ev.Ref].token == ev.Gen {
			s.cpuDone(ev.Ref)
		}
	case opSleepDone:
		if s.calls[ev.Ref].token == ev.Gen {
			s.calls[ev.Ref].token++
			s.advance(ev.Ref)
		}
	case opCallTimeout:
		if c := &s.calls[ev.Ref]; c.token == ev.Gen {
			s.attemptFailed(ev.Ref, outTimeout) // the attempt is abandoned; its work goes on, wasted
		}
	case opRetry:
		if c := &s.calls[ev.Ref]; c.token == ev.Gen {
			s.callAttempt(ev.Ref, s.callStep(ev.Ref))
		}
	case opBranchTimeout:
		s.branchTimeout(ev.Ref, ev.Gen)
	case opAdmit:
		s.admit(ev.Ref)
	case opFault:
		s.faultEvent(ev.Ref, ev.Gen)
	case opChaos:
		s.chaosEvent(ev.Ref, ev.Gen)
	case opRedeliver:
		s.comps[ev.Ref].(*queue).redeliver(s, int32(ev.Gen))
	case opRebalanced:
		s.comps[ev.Ref].(*queue).rebalanced(s)
	case opInitDone:
		s.comps[ev.Gen].(*function).initDone(s, ev.Ref)
	case opReclaim:
		s.comps[ev.Gen].(*function).reclaim(s, ev.Ref)
	case opHopOut:
		s.hopIn(ev.Ref, ev.Gen)
	case opHopBack:
		if c := &s.calls[ev.Ref]; c.serial == ev.Gen {
			s.answer(ev.Ref, c.answer)
		}
	case opScan:
		s.comps[ev.Ref].(*nodePool).scan(s)
	case opNodeReady:
		s.comps[ev.Gen].(*nodePool).nodeReady(s, ev.Ref)
	case opUneject:
		s.balancers[ev.Ref].uneject(int32(ev.Gen))
	case opCheck:
		s.balancers[ev.Ref].check(s, ev.Gen)
	case opLBRetry:
		if c := &s.calls[ev.Ref]; c.serial == ev.Gen {
			if c.via > 0 {
				s.balancers[c.via-1].retry(s, ev.Ref)
			} else {
				s.freeCall(ev.Ref) // timed out while waiting to retry: it is nowhere now
			}
		}
	case opLBTimeout:
		if c := &s.calls[ev.Ref]; c.serial == ev.Gen && c.via > 0 && s.eng.Now() >= c.lbDeadline {
			s.serverTimeout(ev.Ref)
		}
	case opForward:
		c := &s.calls[ev.Ref]
		s.balancers[c.via-1].forward(s, ev.Ref)
	case opWindow:
		s.closeWindow()
		s.winNext += s.cfg.Window
		if s.winNext < s.cfg.Duration {
			s.eng.AtFirst(s.winNext, opWindow, 0, 0)
		}
	case opScrape:
		st := s.stations[ev.Ref]
		st.fleet.scrape(s, st)
	case opSync:
		st := s.stations[ev.Ref]
		st.fleet.sync(s, st)
	case opReady:
		st := s.stations[ev.Gen]
		st.fleet.makeReady(s, st, ev.Ref, s.eng.Now())
	case opSchedule:
		st := s.stations[ev.Ref]
		st.fleet.scheduled(s, st, int(ev.Gen))
	case opWarmup:
		// End a time-series row here, so that no row mixes warm-up and
		// measured traffic, then start the run statistics afresh.
		if s.cfg.Window > 0 {
			s.closeWindow()
		}
		s.resetStats()
	}
}

// newCall takes a call slot for request req, to endpoint ep of the station
// behind component at.
func (s *Sim) newCall(req, parent int32, ptoken uint32, at, ep int32) int32 {
	var ci int32
	if n := len(s.freeCalls); n > 0 {
		ci = s.freeCalls[n-1]
		s.freeCalls = s.freeCalls[:n-1]
	} else {
		s.calls = append(s.calls, call{})
		ci = int32(len(s.calls) - 1)
	}
	c := &s.calls[ci]
	tok := c.token + 1 // keep counting across reuse, so old events stay stale
	// Cleared, then set field by field: a composite literal of this size
	// is built on the stack and copied (a third of newCall's time).
	*c = call{}
	c.req, c.parent, c.ptoken, c.token, c.serial = req, parent, ptoken, tok, tok
	c.at, c.ep, c.inst, c.step, c.arrived = at, ep, -1, -1, s.eng.Now()
	s.reqs[req].calls++
	return ci
}

// resetAttempt re-arms call c for a new attempt at its component (a
// balancer's retry of an error answer or of a refused connection): every
// field an attempt sets is cleared, as newCall clears them, and the old
// attempt's events go stale. What the call keeps across attempts is its
// identity (request, caller, component, endpoint, serial), what came
// through the balancer (its arrival there, its tries, its write), its
// request hop, and the instance it was at, which a retry may go back to.
// The failed attempt's time then counts in the request's latency but in
// none of its path's parts: it lands in latency_split_ms.other, as
// docs/results.md says.
func (c *call) resetAttempt() {
	*c = call{
		req: c.req, parent: c.parent, ptoken: c.ptoken, token: c.token + 1, serial: c.serial,
		at: c.at, via: c.via, inst: c.inst, ep: c.ep, step: -1, arrived: c.arrived,
		write: c.write, lbTries: c.lbTries, viaArrived: c.viaArrived, lbDeadline: c.lbDeadline,
		hopOut: c.hopOut,
	}
}

func (s *Sim) freeCall(ci int32) {
	c := &s.calls[ci]
	c.token++
	c.serial = 0
	req := c.req
	s.freeCalls = append(s.freeCalls, ci)
	r := &s.reqs[req]
	r.calls--
	if r.calls == 0 && r.done {
		s.freeRequest(req)
	}
}

// deliver sends call ci to its component.
func (s *Sim) deliver(ci int32) {
	s.comps[s.calls[ci].at].receive(s, ci)
}

// admit gives call ci a concurrency slot at its instance and starts its
// steps.
func (s *Sim) admit(ci int32) {
	c := &s.calls[ci]
	st := s.stations[c.at]
	if mw := st.cfg.MaxWait; mw > 0 && s.eng.Now()-c.arrived > mw {
		// Load shedding: it waited too long for a slot; dropped at the head
		// of the queue, and the slot goes to the next.
		in := c.inst
		s.finishCall(ci, outRejected)
		st.admitNext(s, in, s.eng.Now())
		return
	}
	st.insts[c.inst].active++
	c.active = true
	c.slotWait = s.eng.Now() - c.arrived
	s.advance(ci)
}

// advance runs call ci's next step, or finishes it after the last one.
func (s *Sim) advance(ci int32) {
	for {
		c := &s.calls[ci]
		st := s.stations[c.at]
		steps := st.eps[c.ep].steps
		c.step++
		if int(c.step) >= len(steps) {
			s.finishCall(ci, outOK)
			return
		}
		sp := &steps[c.step]
		switch sp.cond {
		case Always:
		case IfError:
			if !c.lastFailed {
				continue
			}
		default:
			if int8(sp.cond) != c.lookup {
				continue
			}
		}
		if sp.p < 1 && st.rngBranch.Float64() >= sp.p {
			continue
		}
		switch sp.kind {
		case StepCPU:
			st.requestCore(s, ci, sp.d.Sample(st.rngCPU))
			return
		case StepSleep:
			s.eng.After(sp.d.Sample(st.rngSleep), opSleepDone, ci, c.token)
			return
		case StepCall:
			c.attempt = 0
			s.callAttempt(ci, sp)
			return
		case StepAsync:
			zone := int8(-1)
			if s.net != nil {
				zone = s.servedZone(ci)
			}
			s.startDetached(c.req, sp.tgt, sp.ep, zone)
		case StepPublish:
			q := s.comps[sp.tgt].(*queue)
			if !q.publish(s, c.req) {
				s.finishCall(ci, outRejected) // the partition is full
				return
			}
			if d := q.ackLatency(); d > 0 {
				s.eng.After(d, opSleepDone, ci, c.token) // waits for the broker's ack
				return
			}
		case StepParallel:
			s.fanOut(ci, sp)
			return
		}
	}
}

// fanOut starts every branch of parallel step sp of call ci at this
// instant. The call goes on when sp.wait branches have succeeded, and fails
// (with the outcome of the branch that decided it) as soon as that can no
// longer happen. Branches still running then are abandoned: their work goes
// on, and counts as wasted.
func (s *Sim) fanOut(ci int32, sp *step) {
	c := &s.calls[ci]
	c.need, c.room = sp.wait, int32(len(sp.branches))-sp.wait
	req, tok := c.req, c.token
	for b := range sp.branches {
		br := &sp.branches[b]
		child := s.newCall(req, ci, tok, br.tgt, br.ep)
		ch := &s.calls[child]
		ch.write = br.write
		if br.timeout > 0 {
			s.eng.After(br.timeout, opBranchTimeout, child, ch.serial)
		}
		// A branch answered at once (rejected) may decide the step before
		// the others start; they start all the same, as a client that
		// sends every request before reading an answer would.
		s.send(child)
	}
}

// branchTimeout gives up on a parallel branch: nobody waits for its answer
// any more, and its caller counts it as timed out.
func (s *Sim) branchTimeout(ci int32, serial uint32) {
	c := &s.calls[ci]
	if c.serial != serial || c.parent < 0 {
		return // answered already, or gone
	}
	parent, ptoken := c.parent, c.ptoken
	c.parent = orphan
	if p := &s.calls[parent]; p.token == ptoken {
		s.branchAnswered(parent, outTimeout)
	}
}

// branchAnswered counts one answer of a parallel step of call ci.
func (s *Sim) branchAnswered(ci int32, o outcome) {
	c := &s.calls[ci]
	switch {
	case o == outOK:
		if c.need--; c.need == 0 {
			c.token++
			s.advance(ci)
		}
	case c.room == 0:
		c.token++
		s.finishCall(ci, o)
	default:
		c.room--
	}
}

// cpuDone ends the cpu step of call ci and hands the core on.
func (s *Sim) cpuDone(ci int32) {
	c := &s.calls[ci]
	c.token++
	d := s.eng.Now() - c.cpuFrom
	c.cpu += d
	c.ownCPU += d
	s.stations[c.at].releaseCore(s, c.inst)
	s.advance(ci)
}

// finishCall ends call ci with outcome o: it updates the component's
// statistics, frees the concurrency slot, and answers the caller.
func (s *Sim) finishCall(ci int32, o outcome) {
	c := &s.calls[ci]
	now := s.eng.Now()
	st := s.stations[c.at]
	if o == outOK && c.inst >= 0 {
		if f := st.insts[c.inst].fault.errFrac; f > 0 && st.rngFault.Float64() < f {
			o = outError // an error fault: the work was done, the answer is an error
		}
	}
	if o == outOK {
		if st.hook != nil {
			st.hook.answered(s, ci)
		}
		if c.lookup == lookupMiss {
			s.fill(c)
		}
		if st.eps[c.ep].write {
			s.recordWrite(c.req)
		}
	}
	st.depart(s, ci, o, now)
	if c.via > 0 {
		b := s.balancers[c.via-1]
		if o == outError && b.retryAnswer(s, ci) {
			return // sent again; the caller waits on
		}
		b.left(c, o, now)
		b.observe(s, c.inst, o)
	}
	if s.hopBack(ci, o) {
		return // the answer travels back
	}
	s.answer(ci, o)
}

// answer gives call ci's outcome o to whoever waits for it: its caller, or
// the request's client.
func (s *Sim) answer(ci int32, o outcome) {
	c := &s.calls[ci]
	parent, ptoken, req, work, write := c.parent, c.ptoken, c.req, c.cpu, c.write
	wait, cpu, net := c.slotWait+c.coreWait+c.pathWait, c.ownCPU+c.pathCPU, c.pathNet
	r := &s.reqs[req]
	rtoken, measured := r.token, r.measured
	if parent == noParent {
		r.cpu += work // before the request may be freed with the call
		r.pathWait, r.pathCPU, r.pathNet = wait, cpu, net
	}
	s.freeCall(ci) // may free the request, if its client had given up
	if parent == noParent {
		if s.reqs[req].token == rtoken {
			s.requestAnswered(req, o)
		}
		return
	}
	if parent == orphan || s.calls[parent].token != ptoken {
		s.waste(measured, work) // the caller gave up (timeout) or is gone
		return
	}
	p := &s.calls[parent]
	if p.need > 0 { // a branch of a parallel step
		if o == outOK && p.need == 1 { // the branch the step waited for last
			p.pathWait, p.pathCPU, p.pathNet = p.pathWait+wait, p.pathCPU+cpu, p.pathNet+net
		}
		if o == outOK || p.room == 0 {
			p.cpu += work
		} else {
			s.waste(measured, work) // a failed branch the step can do without
		}
		if o == outOK && write {
			s.recordWrite(req)
		}
		s.branchAnswered(parent, o)
		return
	}
	if o != outOK {
		if s.willRetry(parent, o) {
			s.waste(measured, work) // a failed attempt: its work serves nothing
		} else {
			p.cpu += work
		}
		s.attemptFailed(parent, o)
		return
	}
	p.cpu += work
	p.pathWait, p.pathCPU, p.pathNet = p.pathWait+wait, p.pathCPU+cpu, p.pathNet+net
	p.token++
	p.lastFailed = false
	if b := s.breakerFor(parent, s.callStep(parent)); b != nil {
		now := s.eng.Now()
		b.record(now, false, now-p.attemptAt, p.trial)
	}
	if write {
		s.recordWrite(p.req)
	}
	s.advance(parent)
}

// callStep is the call step call ci is at.
func (s *Sim) callStep(ci int32) *step {
	c := &s.calls[ci]
	return &s.stations[c.at].eps[c.ep].steps[c.step]
}

// callAttempt makes one attempt of call step sp for call ci: a child call,
// with the step's timeout.
func (s *Sim) callAttempt(ci int32, sp *step) {
	c := &s.calls[ci]
	if c.attempt > 0 {
		s.win.retries++ // the time series shows the warm-up too
		if s.reqs[c.req].measured {
			s.retries++ // counted when made, so that attempts = first attempts + retries
		}
	}
	c.attemptAt, c.notSent, c.trial = s.eng.Now(), false, false
	if sp.budget != nil && c.attempt == 0 {
		sp.budget.request(c.attemptAt)
	}
	if b := s.breakerFor(ci, sp); b != nil {
		ok, trial := b.permit(c.attemptAt)
		if !ok { // the breaker is open: rejected at once, not sent
			if s.reqs[c.req].measured {
				s.breakerRejected++
			}
			c.notSent = true
			s.attemptFailed(ci, outRejected)
			return
		}
		c.trial = trial
	}
	if sp.timeout > 0 {
		s.eng.After(sp.timeout, opCallTimeout, ci, c.token)
	}
	child := s.newCall(c.req, ci, c.token, sp.tgt, sp.ep)
	s.calls[child].write = sp.write
	s.send(child)
}

// willRetry says whether call ci's current call step retries an attempt
// that ended with o.
func (s *Sim) willRetry(ci int32, o outcome) bool {
	sp := s.callStep(ci)
	return int(s.calls[ci].attempt) < sp.retries && sp.retryOn&(1<<o) != 0
}

// attemptFailed handles an attempt of call ci's call step that ended with
// o (an error answer, a rejection, or its timeout): the step retries after
// its backoff if it may, else the call fails with o.
func (s *Sim) attemptFailed(ci int32, o outcome) {
	c := &s.calls[ci]
	c.token++ // the attempt's answer and timeout go stale
	if b := s.breakerFor(ci, s.callStep(ci)); b != nil && !c.notSent {
		now := s.eng.Now()
		b.record(now, true, now-c.attemptAt, c.trial)
	}
	retry := s.willRetry(ci, o)
	if bg := s.callStep(ci).budget; retry && bg != nil && !bg.withdraw(s.eng.Now()) {
		retry = false // the retry budget is spent
		if s.reqs[c.req].measured {
			s.budgetDenied++
		}
	}
	if !retry {
		if s.callStep(ci).continueOnError && c.need == 0 {
			c.lastFailed = true // the endpoint goes on: its fallback steps run
			s.advance(ci)
			return
		}
		s.finishCall(ci, o)
		return
	}
	sp := s.callStep(ci)
	c.attempt++
	d := sp.backoff(int(c.attempt), s.stations[c.at].rngRetry)
	if d <= 0 {
		s.callAttempt(ci, sp)
		return
	}
	s.eng.After(d, opRetry, ci, c.token)
}

// serverTimeout is a balancer's answer to a call its instance has not
// answered within the server timeout: a timeout (haproxy's 504). The call
// goes on at the instance, answering nobody.
func (s *Sim) serverTimeout(ci int32) {
	c := &s.calls[ci]
	now := s.eng.Now()
	if s.balancers[c.via-1].retryTimeout(s, ci) {
		return
	}
	b := s.balancers[c.via-1]
	b.left(c, outTimeout, now)
	b.observe(s, c.inst, outTimeout)
	c.via = 0
	parent, ptoken, req := c.parent, c.ptoken, c.req
	c.parent = orphan
	switch {
	case parent == noParent:
		s.requestAnswered(req, outTimeout)
	case parent >= 0 && s.calls[parent].token == ptoken:
		if s.calls[parent].need > 0 {
			s.branchAnswered(parent, outTimeout)
		} else {
			s.attemptFailed(parent, outTimeout)
		}
	}
}

// waste counts cpu time whose result nobody used, if its request is
// measured.
func (s *Sim) waste(measured bool, work sim.Time) {
	if measured {
		s.wasted.cpu += work
	}
}

// fill is cache-aside: after an endpoint that missed in a key-level cache
// completes, the key goes into that cache.
func (s *Sim) fill(c *call) {
	if k, ok := s.comps[c.lookupFrom].(*cache); ok {
		k.fill(s.reqs[c.req].key, c.lookupAt, s.eng.Now())
	}
}

// recordWrite notes that the request's key was written now, for stale-read
// accounting, and lets key-level caches react.
func (s *Sim) recordWrite(req int32) {
	if s.lastWrite == nil {
		return
	}
	key, now := s.reqs[req].key, s.eng.Now()
	s.lastWrite[key] = now
	for _, k := range s.caches {
		k.written(key, now)
	}
}

// newRequest takes a request slot.
func (s *Sim) newRequest(src *source, ep, session int32, intended sim.Time) int32 {
	ri := s.requestSlot()
	r := &s.reqs[ri]
	tok := r.token + 1
	*r = request{} // then field by field, as in newCall
	r.src, r.ep, r.session, r.intended, r.token, r.zone = src.idx, ep, session, intended, tok, src.zone()
	if src.keys != nil {
		r.key = src.keys.Key(src.rngKeys)
	}
	return ri
}

// enter counts one more request (or queued message) in the system and
// stops the run when there are more than run.max_in_flight.
func (s *Sim) enter() {
	if s.live++; s.maxLive > 0 && s.live > s.maxLive && s.err == nil {
		s.overflow()
	}
}

func (s *Sim) requestSlot() int32 {
	s.enter()
	if n := len(s.freeReqs); n > 0 {
		ri := s.freeReqs[n-1]
		s.freeReqs = s.freeReqs[:n-1]
		return ri
	}
	s.reqs = append(s.reqs, request{})
	return int32(len(s.reqs) - 1)
}

func (s *Sim) freeRequest(ri int32) {
	s.live--
	r := &s.reqs[ri]
	r.token++
	if r.measured && r.out != outOK {
		if !r.detached {
			s.wasted.requests++
		}
		s.wasted.cpu += r.cpu
	}
	s.freeReqs = append(s.freeReqs, ri)
}

// startRequest sends request ri to its source's entry component.
func (s *Sim) startRequest(ri int32) {
	r := &s.reqs[ri]
	src := s.sources[r.src]
	now := s.eng.Now()
	r.measured = r.intended >= s.cfg.Warmup
	s.win.arrivals++ // the time series shows the warm-up too
	if r.measured {
		src.stats.arrived++
		s.global.arrived++
	}
	s.inFlight.Add(now, 1)
	if src.cfg.Timeout > 0 {
		s.eng.At(r.intended+src.cfg.Timeout, opClientTimeout, ri, r.token)
	}
	ci := s.newCall(ri, noParent, 0, src.to, src.eps[r.ep])
	if r.zone >= 0 {
		s.send(ci) // from the client's zone: a request hop
		return
	}
	s.deliver(ci)
}

// startDetached starts the detached request of an async step of request
// parent: same source and key, started now, measured if its parent is; no
// client waits for it. Sent from zone (≥ 0, with a network), it takes its
// hops as a call would: its latency ends when the answer is back.
func (s *Sim) startDetached(parent, at, ep int32, zone int8) {
	ri := s.requestSlot()
	p := &s.reqs[parent]
	r := &s.reqs[ri]
	src, key, measured, tok := p.src, p.key, p.measured, r.token+1
	*r = request{} // then field by field, as in newCall
	r.src, r.key, r.intended, r.token, r.measured, r.detached, r.zone = src, key, s.eng.Now(), tok, measured, true, zone
	if r.measured {
		s.async.started++
		s.async.live++
	}
	ci := s.newCall(ri, noParent, 0, at, ep)
	if zone >= 0 && s.net != nil {
		s.send(ci)
		return
	}
	s.deliver(ci)
}

func (s *Sim) clientTimeout(ri int32, token uint32) {
	r := &s.reqs[ri]
	if r.token != token || r.done {
		return
	}
	s.conclude(ri, outTimeout)
}

// requestAnswered handles the entry component's answer to request ri.
func (s *Sim) requestAnswered(ri int32, o outcome) {
	r := &s.reqs[ri]
	switch {
	case r.queue > 0:
		r.done, r.out = true, o
		s.comps[r.queue-1].(*queue).processed(s, r.msg, o, r.inst)
		r = &s.reqs[ri]
	case r.detached:
		r.done, r.out = true, o
		if r.measured {
			s.async.count(o, s.eng.Now()-r.intended)
		}
	case !r.done:
		s.conclude(ri, o)
		r = &s.reqs[ri]
	}
	if r.calls == 0 && r.done {
		s.freeRequest(ri)
	}
}

func (a *asyncStats) count(o outcome, lat sim.Time) {
	a.live--
	switch o {
	case outOK:
		a.ok++
		a.lat.Record(lat)
	case outRejected:
		a.rejected++
	case outTimeout:
		a.timedOut++
	default:
		a.failed++
	}
}

func (a *asyncStats) reset() {
	a.started, a.ok, a.rejected, a.timedOut, a.failed, a.live = 0, 0, 0, 0, 0, 0
	a.lat.Reset()
}

// conclude records request ri's outcome (as the client sees it) and moves
// its user on to the next request of the session.
func (s *Sim) conclude(ri int32, o outcome) {
	r := &s.reqs[ri]
	now := s.eng.Now()
	r.done, r.out = true, o
	s.inFlight.Add(now, -1)
	src := s.sources[r.src]
	if o == outOK {
		s.win.ok++
	} else {
		s.win.errors++
	}
	switch {
	case r.measured:
		src.stats.record(o, now-r.intended) // latency merged up when the window closes
		s.global.count(o)
		if o == outOK {
			s.split.add(r, now-r.intended)
		}
		if src.corrected != nil && o == outOK {
			src.recordCorrected(now - r.intended)
		}
	case now < s.cfg.Warmup && o == outOK:
		// Warm-up rows of the time series show latency too; the run
		// statistics are reset when the warm-up ends.
		src.stats.winLat.Record(now - r.intended)
	}
	if next := r.session + 1; int(next) < len(src.cfg.Session) {
		at := now
		if th := src.cfg.Session[next].Think; th != nil {
			at += th.Sample(src.rngThink)
		}
		if src.stop == 0 || at < src.stop {
			nr := s.newRequest(src, next, next, at)
			s.eng.At(at, opStart, nr, 0)
		} else if src.closed {
			src.retire(now)
		}
		return
	}
	if src.closed {
		s.iterationDone(src, now)
	}
}

// trafficStats counts outcomes and ok latencies of a set of requests.
// Latencies are recorded in the window histogram only; closing a window
// merges it into lat (one histogram update per request instead of several).
type trafficStats struct {
	arrived, ok, rejected, timedOut, failed int64
	lat, winLat                             *sim.Histogram
	thinks                                  int64 // closed model: think times drawn
	thinkSum                                sim.Int128
	vus                                     sim.Level // closed model: VUs running
}

func newTrafficStats() trafficStats {
	return trafficStats{lat: sim.NewHistogram(), winLat: sim.NewHistogram()}
}

func (t *trafficStats) record(o outcome, lat sim.Time) {
	t.count(o)
	if o == outOK {
		t.winLat.Record(lat)
	}
}

func (t *trafficStats) count(o outcome) {
	switch o {
	case outOK:
		t.ok++
	case outRejected:
		t.rejected++
	case outTimeout:
		t.timedOut++
	default:
		t.failed++
	}
}

func (t *trafficStats) reset() {
	t.arrived, t.ok, t.rejected, t.timedOut, t.failed = 0, 0, 0, 0, 0
	t.lat.Reset()
	t.winLat.Reset()
	t.thinks, t.thinkSum = 0, sim.Int128{}
}

// resetStats starts the statistics afresh at the end of the warm-up period.
// Requests already in flight were intended before the warm-up ended and are
// not counted.
func (s *Sim) resetStats() {
	now := s.eng.Now()
	s.global.reset()
	s.split = pathSplit{}
	for _, src := range s.sources {
		src.stats.reset()
	}
	s.inFlight.ResetRun(now)
	for _, src := range s.sources {
		src.stats.vus.ResetRun(now)
		if src.corrected != nil {
			src.corrected.Reset()
		}
	}
	s.wasted.requests, s.wasted.cpu = 0, 0
	s.retries, s.breakerRejected, s.budgetDenied = 0, 0, 0
	s.async.reset()
	for _, c := range s.comps {
		c.resetStats(now)
	}
}

// Events is the number of events delivered so far.
func (s *Sim) Events() uint64 { return s.eng.Events() }

// overflow stops the run: too many requests are in the system. The error
// names the component whose queue holds the most.
func (s *Sim) overflow() {
	var worst *station
	for _, st := range s.stations {
		if st != nil && (worst == nil || st.stats.waiting.Value() > worst.stats.waiting.Value()) {
			worst = st
		}
	}
	var worstQ *queue
	for _, c := range s.comps {
		if q, ok := c.(*queue); ok && (worstQ == nil || q.lag.Value() > worstQ.lag.Value()) {
			worstQ = q
		}
	}
	msg := fmt.Sprintf("run stopped at %v: %d requests in the system, more than the limit of %d (run.max_in_flight)", s.eng.Now(), s.live, s.maxLive)
	if worstQ != nil && (worst == nil || worstQ.lag.Value() > worst.stats.waiting.Value()) {
		msg += fmt.Sprintf("; queue.%s has %d messages waiting: give its consumer more instances, or bound it (capacity = N) to reject the excess, or raise run.max_in_flight", worstQ.cfg.Name, worstQ.lag.Value())
	} else if worst != nil && worst.stats.waiting.Value() > 0 {
		label := string(worst.kind) + "." + worst.name
		msg += fmt.Sprintf("; %s has %d waiting", label, worst.stats.waiting.Value())
		if worst.cfg.Queue == Unlimited || worst.cfg.Concurrency == Unlimited {
			msg += " in an unbounded queue"
		}
		if secs := s.eng.Now().Seconds(); secs > 0 {
			msg += fmt.Sprintf(" (growing by about %.0f a second)", float64(worst.stats.waiting.Value())/secs)
		}
		msg += fmt.Sprintf(": give %s more capacity, or bound its queue (concurrency = N with queue = M) to reject the excess, or raise run.max_in_flight", label)
	}
	s.err = errors.New(msg)
	s.eng.Stop()
}

// Err is why the run stopped early (too many requests in the system, or a
// trace that could not be read), or nil.
func (s *Sim) Err() error {
	if s.err != nil {
		return s.err
	}
	return s.TraceError()
}

// TraceError returns the first error a traffic source's trace reader met
// (a bad row, an unreadable file), or nil. A source stops at its error.
func (s *Sim) TraceError() error {
	for _, src := range s.sources {
		if err := src.traceError(); err != nil {
			return fmt.Errorf("traffic %s: %w", src.cfg.Name, err)
		}
	}
	return nil
}
