package model

import (
	"fmt"
	"strings"

	"github.com/capsim/capsim/sim"
)

// Event operations handled by Sim.Handle.
const (
	opArrive        int32 = iota // a traffic source's next arrival; Ref = source
	opStart                      // a request starts; Ref = request
	opClientTimeout              // Ref = request, Gen = request token
	opCPUDone                    // Ref = call, Gen = call token
	opSleepDone                  // Ref = call, Gen = call token
	opCallTimeout                // Ref = call, Gen = call token
	opAdmit                      // a queued call is admitted; Ref = call
	opForward                    // a balancer forwards after its latency; Ref = call
	opWindow                     // close a time-series window
	opWarmup                     // the warm-up period ends
	opScrape                     // collect autoscaling metrics; Ref = service
	opSync                       // an autoscaler decides; Ref = service
	opReady                      // a started instance is ready; Ref = instance, Gen = service
	opSchedule                   // a scheduled scaling action; Ref = service, Gen = action
)

// outcome is how a request or call ended.
type outcome uint8

const (
	outOK outcome = iota
	outRejected
	outTimeout
	outError
)

// target is a resolved component: a service or a balancer.
type target struct {
	lb  bool
	idx int32
}

// call is one visit of a request to a component (a service endpoint or a
// balancer). Calls live in a slab and are referred to by index; token
// changes whenever the call stops waiting, which makes events scheduled for
// an earlier wait stale.
type call struct {
	req        int32
	parent     int32  // calling call, or -1 when the client is the caller
	ptoken     uint32 // parent's token when it made this call
	token      uint32
	tgt        target // a service once delivered
	via        int32  // 1 + index of the balancer it came through, or 0
	inst       int32
	ep         int32
	step       int32
	arrived    sim.Time // at the service
	viaArrived sim.Time // at the balancer
	demand     sim.Time // cpu time of the step waiting for a core
	lookupAt   sim.Time // when the endpoint's last cache lookup answered
	lookupFrom int32    // the cache of that lookup
	lookup     int8     // lookupNone, lookupHit or lookupMiss
	cpuFrom    sim.Time // when the current cpu step got its core
	active     bool     // holds a concurrency slot
}

// request is one client request, from its intended start to its outcome.
type request struct {
	src      int32
	ep       int32 // index into the source's endpoint list
	session  int32 // position in the source's session
	key      uint64
	intended sim.Time
	token    uint32
	calls    int32    // calls of this request still in the system
	cpu      sim.Time // cpu time spent on its behalf
	done     bool     // the client has its outcome
	measured bool     // counted in the statistics (started after warm-up)
	out      outcome
}

// Sim is one run of a Config. Build it with New, run it with Run.
type Sim struct {
	cfg *Config
	eng sim.Engine

	services  []*service
	balancers []*balancer
	sources   []*source

	calls     []call
	freeCalls []int32
	reqs      []request
	freeReqs  []int32

	global   trafficStats
	inFlight sim.Level
	wasted   struct {
		requests int64
		cpu      sim.Time
	}
	win       windowCounts
	windows   []Window
	decisions []Decision
	lastWrite map[uint64]sim.Time // per key, when there is a key-level cache
	winNext   sim.Time
}

// windowCounts are the counters of the current time-series window.
type windowCounts struct{ arrivals, ok, errors int64 }

// New builds a run of cfg with the given seed. cfg must be valid (see
// package experiments/scenario); New reports what it cannot wire.
func New(cfg *Config, seed uint64) (*Sim, error) {
	s := &Sim{cfg: cfg, global: newTrafficStats()}
	s.eng.SetHandler(s)
	for i := range cfg.Services {
		sc := &cfg.Services[i]
		if c := sc.Cache; (c != nil && c.HitRatio < 0) || (sc.Database != nil && sc.Database.Replicas > 0) {
			s.lastWrite = map[uint64]sim.Time{}
		}
	}
	names := map[string]target{}
	for i := range cfg.Services {
		sc := &cfg.Services[i]
		svc := newService(sc, int32(i), seed)
		s.services = append(s.services, svc)
		names[sc.Name] = target{idx: int32(i)}
	}
	for i := range cfg.Balancers {
		bc := &cfg.Balancers[i]
		if _, dup := names[bc.Name]; dup {
			return nil, fmt.Errorf("component name %q is used twice", bc.Name)
		}
		names[bc.Name] = target{lb: true, idx: int32(i)}
	}
	for i := range cfg.Balancers {
		bc := &cfg.Balancers[i]
		t, ok := names[bc.To]
		if !ok || t.lb {
			return nil, fmt.Errorf("balancer %s: to = %q is not a service", bc.Name, bc.To)
		}
		s.balancers = append(s.balancers, newBalancer(bc, int32(i), t.idx, seed))
	}
	// Resolve call steps now that every component exists.
	for _, svc := range s.services {
		for e := range svc.eps {
			ep := &svc.eps[e]
			for k := range ep.steps {
				st := &ep.steps[k]
				if st.kind != StepCall {
					continue
				}
				t, ok := names[st.target]
				if !ok {
					return nil, fmt.Errorf("service %s endpoint %s: call to unknown component %q", svc.cfg.Name, ep.name, st.target)
				}
				idx, err := s.resolveEndpoint(t, st.endpoint, ep.name)
				if err != nil {
					return nil, fmt.Errorf("service %s endpoint %s: call %s: %v", svc.cfg.Name, ep.name, st.target, err)
				}
				st.tgt, st.ep = t, idx
			}
		}
	}
	for i := range cfg.Traffic {
		tc := &cfg.Traffic[i]
		t, ok := names[tc.To]
		if !ok {
			return nil, fmt.Errorf("traffic %s: to = %q is not a component", tc.Name, tc.To)
		}
		src, err := newSource(s, tc, int32(i), t, seed)
		if err != nil {
			return nil, fmt.Errorf("traffic %s: %v", tc.Name, err)
		}
		s.sources = append(s.sources, src)
	}
	return s, nil
}

func (s *Sim) resolveEndpoint(t target, name, callerEP string) (int32, error) {
	i, err := ResolveEndpoint(s.services[s.backendOf(t)].cfg, name, callerEP)
	return int32(i), err
}

// ResolveEndpoint finds which endpoint of svc a request for name reaches:
// the named one; with no name, the one named like the caller's endpoint
// (callerEP), else the service's only endpoint.
func ResolveEndpoint(svc *ServiceConfig, name, callerEP string) (int, error) {
	find := func(n string) int {
		for i := range svc.Endpoints {
			if svc.Endpoints[i].Name == n {
				return i
			}
		}
		return -1
	}
	var names []string
	for _, e := range svc.Endpoints {
		names = append(names, e.Name)
	}
	if name == "" && svc.Cache != nil {
		name = CacheGet
	}
	if name == "" && svc.Database != nil {
		name = DBRead
	}
	if name != "" {
		if i := find(name); i >= 0 {
			return i, nil
		}
		if len(svc.Endpoints) == 1 && svc.Endpoints[0].Name == "default" {
			return 0, fmt.Errorf("%s has no endpoint %q (it has one unnamed endpoint: drop endpoint = … or declare [service.%s.endpoint.%s])", svc.Name, name, svc.Name, name)
		}
		return 0, fmt.Errorf("%s has no endpoint %q (it has %s)", svc.Name, name, strings.Join(names, ", "))
	}
	if i := find(callerEP); i >= 0 {
		return i, nil
	}
	if len(svc.Endpoints) == 1 {
		return 0, nil
	}
	return 0, fmt.Errorf("%s has several endpoints (%s): name one with endpoint = …", svc.Name, strings.Join(names, ", "))
}

// backendOf is the service index a target leads to.
func (s *Sim) backendOf(t target) int32 {
	if t.lb {
		return s.balancers[t.idx].svc
	}
	return t.idx
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
	for _, svc := range s.services {
		svc.fleet.start(s, svc)
	}
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
			c.token++
			s.finishCall(ev.Ref, outTimeout)
		}
	case opAdmit:
		s.admit(ev.Ref)
	case opForward:
		s.forward(ev.Ref)
	case opWindow:
		s.closeWindow()
		s.winNext += s.cfg.Window
		if s.winNext < s.cfg.Duration {
			s.eng.AtFirst(s.winNext, opWindow, 0, 0)
		}
	case opScrape:
		svc := s.services[ev.Ref]
		svc.fleet.scrape(s, svc)
	case opSync:
		svc := s.services[ev.Ref]
		svc.fleet.sync(s, svc)
	case opReady:
		svc := s.services[ev.Gen]
		svc.fleet.makeReady(svc, ev.Ref, s.eng.Now())
	case opSchedule:
		svc := s.services[ev.Ref]
		svc.fleet.scheduled(s, svc, int(ev.Gen))
	case opWarmup:
		// End a time-series row here, so that no row mixes warm-up and
		// measured traffic, then start the run statistics afresh.
		if s.cfg.Window > 0 {
			s.closeWindow()
		}
		s.resetStats()
	}
}

// newCall takes a call slot for request req.
func (s *Sim) newCall(req, parent int32, ptoken uint32, t target, ep int32) int32 {
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
	*c = call{req: req, parent: parent, ptoken: ptoken, token: tok, tgt: t, ep: ep, step: -1, arrived: s.eng.Now()}
	s.reqs[req].calls++
	return ci
}

func (s *Sim) freeCall(ci int32) {
	c := &s.calls[ci]
	c.token++
	req := c.req
	s.freeCalls = append(s.freeCalls, ci)
	r := &s.reqs[req]
	r.calls--
	if r.calls == 0 && r.done {
		s.freeRequest(req)
	}
}

// deliver sends call ci to its target component. A call to a balancer
// becomes a call to the service behind it that passes through the balancer
// (one call object per hop, not two): the balancer's statistics see it
// arrive now and leave when the service answers.
func (s *Sim) deliver(ci int32) {
	c := &s.calls[ci]
	if c.tgt.lb {
		lb := s.balancers[c.tgt.idx]
		c.tgt = target{idx: lb.svc}
		c.via = lb.idx + 1
		c.viaArrived = s.eng.Now()
		lb.stats.arrive(c.viaArrived)
		if lb.cfg.Latency != nil {
			if d := lb.cfg.Latency.Sample(lb.rngLat); d > 0 {
				s.eng.After(d, opForward, ci, c.token)
				return
			}
		}
		s.forward(ci)
		return
	}
	svc := s.services[c.tgt.idx]
	if svc.db != nil {
		c.inst = svc.db.pick(s.reqs[c.req].key, c.ep == svc.db.readEP)
	} else {
		c.inst = svc.pick()
	}
	svc.arrive(s, ci)
}

// forward passes a call through its balancer to the instance it picks.
func (s *Sim) forward(ci int32) {
	c := &s.calls[ci]
	lb := s.balancers[c.via-1]
	svc := s.services[c.tgt.idx]
	if svc.db != nil {
		c.inst = svc.db.pick(s.reqs[c.req].key, c.ep == svc.db.readEP)
	} else {
		c.inst = svc.pickWith(lb.picker, lb.rngPick)
	}
	svc.arrive(s, ci)
}

// admit gives call ci a concurrency slot at its instance and starts its
// steps.
func (s *Sim) admit(ci int32) {
	c := &s.calls[ci]
	svc := s.services[c.tgt.idx]
	svc.insts[c.inst].active++
	c.active = true
	s.advance(ci)
}

// advance runs call ci's next step, or finishes it after the last one.
func (s *Sim) advance(ci int32) {
	for {
		c := &s.calls[ci]
		svc := s.services[c.tgt.idx]
		steps := svc.eps[c.ep].steps
		c.step++
		if int(c.step) >= len(steps) {
			s.finishCall(ci, outOK)
			return
		}
		st := &steps[c.step]
		if st.cond != Always && int8(st.cond) != c.lookup {
			continue
		}
		if st.p < 1 && svc.rngBranch.Float64() >= st.p {
			continue
		}
		switch st.kind {
		case StepCPU:
			svc.requestCore(s, ci, st.d.Sample(svc.rngCPU))
			return
		case StepSleep:
			s.eng.After(st.d.Sample(svc.rngSleep), opSleepDone, ci, c.token)
			return
		case StepCall:
			if st.timeout > 0 {
				s.eng.After(st.timeout, opCallTimeout, ci, c.token)
			}
			child := s.newCall(c.req, ci, c.token, st.tgt, st.ep)
			s.deliver(child)
			return
		}
	}
}

// cpuDone ends the cpu step of call ci and hands the core on.
func (s *Sim) cpuDone(ci int32) {
	c := &s.calls[ci]
	c.token++
	s.reqs[c.req].cpu += s.eng.Now() - c.cpuFrom
	s.services[c.tgt.idx].releaseCore(s, c.inst)
	s.advance(ci)
}

// finishCall ends call ci with outcome o: it updates the component's
// statistics, frees the concurrency slot, and answers the caller.
func (s *Sim) finishCall(ci int32, o outcome) {
	c := &s.calls[ci]
	now := s.eng.Now()
	svc := s.services[c.tgt.idx]
	if o == outOK {
		if svc.cache != nil {
			s.cacheOp(ci, svc)
		}
		if svc.db != nil {
			if c.ep == svc.db.readEP {
				s.dbRead(svc, c)
			} else {
				s.recordWrite(c.req)
			}
		}
		if c.lookup == lookupMiss {
			s.fill(c)
		}
		if svc.eps[c.ep].write {
			s.recordWrite(c.req)
		}
	}
	svc.depart(s, ci, o, now)
	if c.via > 0 {
		lb := s.balancers[c.via-1]
		lb.stats.depart(o, c.viaArrived, now, c.viaArrived >= lb.stats.start)
	}
	parent, ptoken, req := c.parent, c.ptoken, c.req
	rtoken := s.reqs[req].token
	s.freeCall(ci) // may free the request, if its client had given up
	if parent < 0 {
		if s.reqs[req].token == rtoken {
			s.requestAnswered(req, o)
		}
		return
	}
	p := &s.calls[parent]
	if p.token != ptoken {
		return // the caller gave up (timeout) or is gone
	}
	p.token++
	if o != outOK {
		s.finishCall(parent, o)
		return
	}
	if steps := s.services[p.tgt.idx].eps[p.ep].steps; steps[p.step].write {
		s.recordWrite(p.req)
	}
	s.advance(parent)
}

// newRequest takes a request slot.
func (s *Sim) newRequest(src *source, ep, session int32, intended sim.Time) int32 {
	var ri int32
	if n := len(s.freeReqs); n > 0 {
		ri = s.freeReqs[n-1]
		s.freeReqs = s.freeReqs[:n-1]
	} else {
		s.reqs = append(s.reqs, request{})
		ri = int32(len(s.reqs) - 1)
	}
	r := &s.reqs[ri]
	tok := r.token + 1
	*r = request{src: src.idx, ep: ep, session: session, intended: intended, token: tok}
	if src.keys != nil {
		r.key = src.keys.Key(src.rngKeys)
	}
	return ri
}

func (s *Sim) freeRequest(ri int32) {
	r := &s.reqs[ri]
	r.token++
	if r.measured && r.out != outOK {
		s.wasted.requests++
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
	ci := s.newCall(ri, -1, 0, src.to, src.eps[r.ep])
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
	if !r.done {
		s.conclude(ri, o)
		r = &s.reqs[ri]
	}
	if r.calls == 0 && r.done {
		s.freeRequest(ri)
	}
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
	for _, svc := range s.services {
		svc.resetStats(now)
	}
	for _, lb := range s.balancers {
		lb.resetStats(now)
	}
}

// Events is the number of events delivered so far.
func (s *Sim) Events() uint64 { return s.eng.Events() }

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
