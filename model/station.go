package model

import (
	"math"

	"github.com/capsim/capsim/model/dist"
	"github.com/capsim/capsim/sim"
)

// station is a fleet of identical instances that runs endpoints' steps:
// the working part of services, caches and databases, which embed it. All
// per-event work (cores, admission, queues) happens here, on concrete
// types; the kinds add what sets them apart through answerHook and by
// choosing instances (router).
type station struct {
	compBase
	cfg   *Fleet
	insts []instance
	eps   []endpoint
	cores int

	picker                             Picker
	rngCPU, rngSleep, rngBranch, rngPk *sim.Stream
	rngFault                           *sim.Stream // error faults
	rngRetry                           *sim.Stream // retry jitter

	ready []int32 // ready instances, oldest first: what balancers choose from
	fleet fleet   // instance counts, autoscaler and thrashing statistics
	// nodes, when the kind asks for them, are per-instance statistics of
	// the measured period (database nodes).
	nodes []nodeStats
	// perInstance keeps per-instance levels (for autoscaling metrics and
	// node statistics); other stations skip that cost.
	perInstance bool
	// metrics are those per-instance levels, by instance; kept apart so
	// that an instance stays small (a big fleet's instances are read on
	// every call, and most fleets keep no metrics).
	metrics []instanceMetrics
	// hook, if set, is told of every call the station answers ok, before
	// its statistics are updated (a cache's lookup, a database's write).
	hook answerHook

	busy sim.Level // cores in use over all instances
	// loads indexes the ready instances' loads once a picker asks for the
	// least loaded one (nil until then).
	loads *loadIndex
	// watchers are the balancers whose health checks watch the instances.
	watchers []*balancer
	// readyVersion changes whenever the ready list does (queues reassign
	// their partitions then).
	readyVersion uint64
	// queues are the queues whose consumer this station is.
	queues []*queue
	// departed, if set, is told when a call has left an instance (a
	// function's environment going idle).
	departed departHook
	// pool is the node pool the instances run on, if any.
	pool *nodePool
	// trackLatency keeps per-instance response-time averages (a
	// latency-aware picker chooses among the instances).
	trackLatency bool
	// With a network, the averages by caller zone too: zoneLat[id×nZones +
	// zone]; pickZone is the zone of the caller being routed (< 0: none).
	zoneLat  []latEWMA
	nZones   int
	pickZone int8
	// follows: the station serves each call in its caller's zone, or, when
	// the caller is in another region than home's (a zone; < 0: none), in
	// home (functions).
	follows bool
	home    int8
	// zones are the network zones of the instances, in turn (none: no
	// zone); zoneBusy and zoneCores are, by zone, the busy cores and the
	// cores of ready instances (for per-zone utilisation).
	zones               []int8
	zoneBusy, zoneCores []sim.Level
}

// zoneOf is instance inst's zone, or −1.
func (s *station) zoneOf(inst int32) int8 {
	if len(s.zones) == 0 || inst < 0 {
		return -1
	}
	return s.zones[int(inst)%len(s.zones)]
}

// answerHook is a kind's reaction to a call it answers ok.
type answerHook interface {
	answered(s *Sim, ci int32)
}

// router is a station-kind component as a balancer sees it: it chooses the
// instance for a call, with the balancer's picker or by its own rule.
type router interface {
	component
	work() *station
	route(s *Sim, ci int32, p Picker, rng *sim.Stream) int32
}

// instance is one member of a fleet.
type instance struct {
	fault  faultState // what a fault does to it now (read on every call: kept with the hot fields)
	active int        // admitted calls (holding a concurrency slot)
	load   int        // admitted + waiting for admission: what balancers see
	busy   int        // cores in use
	admitQ ring       // calls waiting for a concurrency slot
	cpuQ   ring       // admitted calls waiting for a core

	state   instState
	node    int32    // 1 + its node in the station's pool; 0: none (pending, or no pool)
	pos     int32    // position in the ready list, or −1
	created sim.Time // asked for (billed from here)
	readyAt sim.Time
	parked  ring     // calls held by a hang
	tokens  float64  // rate limit: tokens in the bucket
	filled  sim.Time // when they were last counted
	lat     latEWMA  // response time average for latency-aware pickers
}

// latEWMA is a peak EWMA of response times (ns).
type latEWMA struct {
	v  float64
	at sim.Time // when it was last updated
}

// ewmaDecay is the time constant of the response-time average (Finagle's
// PeakEwma decayTime, 10 s).
const ewmaDecay = 10 * sim.Second

// observe folds a response time into the instance's average: decayed by
// the time since the last one, and raised at once to a larger value (the
// "peak" of Finagle's and Linkerd's peak EWMA), so a slow instance is
// avoided quickly and trusted again slowly.
func (e *latEWMA) observe(lat, now sim.Time) {
	x := float64(lat)
	if x > e.v {
		e.v = x
	} else {
		w := math.Exp(-float64(now-e.at) / float64(ewmaDecay))
		e.v = e.v*w + x*(1-w)
	}
	e.at = now
}

// observeLatency folds call ci's response time lat, seen from zone
// callerZone (< 0: none), into instance id's averages: the one every
// caller shares, and with a network the one of the caller's zone — each
// zone's callers balance on what they see, as a client-side balancer in
// every zone would.
func (s *station) observeLatency(id int32, callerZone int8, lat, now sim.Time) {
	s.insts[id].lat.observe(lat, now)
	if s.zoneLat == nil || callerZone < 0 {
		return
	}
	k := int(id)*s.nZones + int(callerZone)
	if k >= len(s.zoneLat) {
		s.zoneLat = append(s.zoneLat, make([]latEWMA, (int(id)+1)*s.nZones-len(s.zoneLat))...)
	}
	s.zoneLat[k].observe(lat, now)
}

// ewmaOf is instance id's response-time average as the caller being
// routed (pickZone) sees it.
func (s *station) ewmaOf(id int32) float64 {
	if s.zoneLat == nil || s.pickZone < 0 {
		return s.insts[id].lat.v
	}
	if k := int(id)*s.nZones + int(s.pickZone); k < len(s.zoneLat) {
		return s.zoneLat[k].v
	}
	return 0 // never seen from this zone: tried at once
}

// takeToken takes a token from the instance's bucket, refilled at rl.Rate
// per second up to rl.Burst since the last call (a full bucket at first).
func (in *instance) takeToken(rl RateLimit, now sim.Time) bool {
	if in.filled == 0 && in.tokens == 0 {
		in.tokens = rl.Burst
	} else {
		in.tokens = math.Min(rl.Burst, in.tokens+rl.Rate*(now-in.filled).Seconds())
	}
	in.filled = now
	if in.tokens < 1 {
		return false
	}
	in.tokens--
	return true
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
	name                  string
	steps                 []step
	write                 bool
	requestKB, responseKB float64
}

type step struct {
	kind    StepKind
	d       dist.Dist
	p       float64
	cond    CacheCond
	write   bool
	timeout sim.Time
	tgt     int32 // call, async: target component
	ep      int32 // call, async: endpoint at the target's station
	// parallel
	branches []step
	wait     int32 // successes needed
	// call retries
	retries             int
	retryOn             uint8 // bit per outcome
	backoffBase, capped sim.Time
	jitter              Jitter
	breaker             *breaker      // shared by the instances
	breakers            []instBreaker // or, per instance, by instance id
	budget              *budget
	continueOnError     bool
}

// backoff is the wait before retry k (1-based): min(cap, base × 2^(k−1)),
// then jittered as the AWS Architecture Blog's "Exponential Backoff And
// Jitter" defines: full = uniform in [0, d]; equal = d/2 + uniform in
// [0, d/2]; none = d.
func (sp *step) backoff(k int, rng *sim.Stream) sim.Time {
	if sp.backoffBase <= 0 {
		return 0
	}
	d := float64(sp.backoffBase) * math.Pow(2, float64(k-1))
	if sp.capped > 0 && d > float64(sp.capped) {
		d = float64(sp.capped)
	}
	switch sp.jitter {
	case JitterFull:
		d = rng.Float64() * d
	case JitterEqual:
		d = d/2 + rng.Float64()*d/2
	}
	return sim.Time(d)
}

// nodeStats are one instance's statistics over the measured period.
type nodeStats struct {
	lat      *sim.Histogram
	requests int64
	rejected int64
}

func newStation(c ComponentConfig, b *builder) station {
	f := c.FleetConfig()
	name := c.ComponentName()
	s := station{
		compBase:  newBase(c, b.idx),
		cfg:       f,
		cores:     f.Cores,
		rngCPU:    sim.NewStream(b.seed, name, "cpu"),
		rngSleep:  sim.NewStream(b.seed, name, "sleep"),
		rngBranch: sim.NewStream(b.seed, name, "branch"),
		rngPk:     sim.NewStream(b.seed, name, "balance"),
		rngFault:  sim.NewStream(b.seed, name, "fault"),
		rngRetry:  sim.NewStream(b.seed, name, "retry"),
	}
	if f.NewPicker != nil {
		s.picker = f.NewPicker()
	}
	for e, ec := range c.EndpointConfigs() {
		ep := endpoint{name: ec.Name, write: ec.Write, requestKB: ec.RequestKB, responseKB: ec.ResponseKB}
		for k := range ec.Steps {
			ep.steps = append(ep.steps, b.graph.step(b.idx, e, k, &ec.Steps[k]))
		}
		s.eps = append(s.eps, ep)
	}
	if n := b.sim.cfg.Network; n != nil {
		for _, z := range f.Zones {
			for k, name := range n.Zones {
				if name == z {
					s.zones = append(s.zones, int8(k))
				}
			}
		}
		if len(s.zones) > 0 {
			s.zoneBusy, s.zoneCores = make([]sim.Level, len(n.Zones)), make([]sim.Level, len(n.Zones))
		}
	}
	s.fleet.init(&s)
	s.perInstance = s.fleet.scaler != nil
	return s
}

func (s *station) work() *station { return s }

// keepNodes turns on per-instance statistics.
func (s *station) keepNodes() {
	s.perInstance = true
	s.nodes = make([]nodeStats, len(s.insts))
	for i := range s.nodes {
		s.nodes[i].lat = sim.NewHistogram()
	}
}

// Backends view for pickers: the ready instances.
func (s *station) Len() int       { return len(s.ready) }
func (s *station) Load(i int) int { return s.insts[s.ready[i]].load }
func (s *station) Weight(i int) float64 {
	if id := int(s.ready[i]); id < len(s.cfg.Weights) {
		return s.cfg.Weights[id]
	}
	return 1
}

// LeastLoaded is the ready position with the fewest requests, the first at
// or after from (then from 0) among equals: O(log n) in the fleet size.
func (s *station) LeastLoaded(from int) int {
	if s.loads == nil {
		s.loads = &loadIndex{}
		s.loads.build(len(s.ready), s.Load)
	}
	return s.loads.leastFrom(from)
}

// loadChanged keeps the load index current.
func (s *station) loadChanged(in *instance) {
	if s.loads != nil && in.pos >= 0 {
		s.loads.set(int(in.pos), in.load)
	}
}

// pushReady appends instance id to the ready list.
func (s *station) pushReady(id int32) {
	in := &s.insts[id]
	in.pos = int32(len(s.ready))
	s.ready = append(s.ready, id)
	s.readyVersion++
	if s.loads != nil {
		if int(in.pos) >= s.loads.size {
			s.loads.build(len(s.ready), s.Load)
		} else {
			s.loads.set(int(in.pos), in.load)
		}
	}
}

// popReady removes the newest ready instance from the ready list.
func (s *station) popReady() int32 {
	id := s.ready[len(s.ready)-1]
	s.ready = s.ready[:len(s.ready)-1]
	s.readyVersion++
	in := &s.insts[id]
	if s.loads != nil {
		s.loads.set(int(in.pos), emptyLeaf)
	}
	in.pos = -1
	return id
}

// removeReady takes instance id out of the ready list wherever it is,
// keeping the others in order (an evicted pod; rare, so O(n)).
func (s *station) removeReady(id int32) {
	in := &s.insts[id]
	if in.pos < 0 {
		return
	}
	copy(s.ready[in.pos:], s.ready[in.pos+1:])
	s.ready = s.ready[:len(s.ready)-1]
	for p := int(in.pos); p < len(s.ready); p++ {
		s.insts[s.ready[p]].pos = int32(p)
	}
	in.pos = -1
	s.readyVersion++
	if s.loads != nil {
		s.loads.build(len(s.ready), s.Load)
	}
}

// route picks with p (the station's own picker when a call comes direct).
func (s *station) route(sm *Sim, ci int32, p Picker, rng *sim.Stream) int32 {
	return s.pickWith(p, rng, sm.reqs[sm.calls[ci].req].key)
}

func (s *station) receive(sm *Sim, ci int32) {
	if s.zoneLat != nil {
		s.pickZone = sm.callerZone(ci)
	}
	s.arrive(sm, ci, s.pickWith(s.picker, s.rngPk, sm.reqs[sm.calls[ci].req].key))
}

// ID, Index and Version let pickers follow instances by identity.
func (s *station) ID(i int) int32 { return s.ready[i] }
func (s *station) Index(id int32) int {
	if int(id) >= len(s.insts) {
		return -1
	}
	return int(s.insts[id].pos)
}
func (s *station) Version() uint64 { return s.readyVersion }

// EWMA is instance i's response-time average, for latency-aware pickers.
func (s *station) EWMA(i int) float64 { return s.ewmaOf(s.ready[i]) }

// pickWith returns the instance a picker chooses for a request with key
// (0: none), or -1 when no instance is ready.
func (s *station) pickWith(p Picker, rng *sim.Stream, key uint64) int32 {
	switch len(s.ready) {
	case 0:
		return -1
	case 1:
		return s.ready[0]
	}
	var i int
	if kp, ok := p.(KeyPicker); ok {
		i = kp.PickKey(s, key, rng)
	} else {
		i = p.Pick(s, rng)
	}
	if i < 0 || i >= len(s.ready) {
		i = 0
	}
	return s.ready[i]
}

// arrive admits, queues or rejects call ci at instance inst.
func (s *station) arrive(sm *Sim, ci, inst int32) {
	now := sm.eng.Now()
	c := &sm.calls[ci]
	c.inst = inst
	c.arrived = now
	s.stats.arrive(now)
	if c.inst < 0 { // no instance ready: the balancer answers 503
		sm.finishCall(ci, outRejected)
		return
	}
	in := &s.insts[c.inst]
	if in.fault.down { // crashed: the connection is refused
		if c.via > 0 && sm.balancers[c.via-1].refused(sm, ci, s) {
			return // the balancer retries
		}
		// Counted in, so that its departure leaves the load as it was (a
		// refused call used to drive the load negative, and least
		// connections then piled calls onto the restarted instance).
		in.load++
		if s.perInstance {
			s.metricsOf(c.inst).arrive(now, 1)
		}
		sm.finishCall(ci, outError)
		return
	}
	in.load++
	s.loadChanged(in)
	if s.perInstance {
		s.metricsOf(c.inst).arrive(now, 1)
	}
	if in.fault.hung { // accepted, never answered
		in.parked.push(ci)
		return
	}
	if rl := s.cfg.RateLimit; rl.Rate > 0 && !in.takeToken(rl, now) {
		sm.finishCall(ci, outRejected) // over the instance's rate limit
		return
	}
	if s.cfg.Concurrency == Unlimited || in.active < s.cfg.Concurrency {
		sm.admit(ci)
		return
	}
	if s.cfg.Queue == Unlimited || in.admitQ.len() < s.cfg.Queue {
		in.admitQ.push(ci)
		s.wait(c.inst, now, 1)
		return
	}
	sm.finishCall(ci, outRejected)
}

// requestCore runs a cpu step of length d for call ci, now or when a core of
// its instance frees up.
func (s *station) requestCore(sm *Sim, ci int32, d sim.Time) {
	c := &sm.calls[ci]
	in := &s.insts[c.inst]
	now := sm.eng.Now()
	if s.cfg.Warmup > 0 && now < in.readyAt+s.cfg.Warmup {
		d = sim.Time(float64(d) / s.cfg.WarmupSpeed) // a cold instance is slower
	}
	if in.fault.slow > 0 {
		d = sim.Time(float64(d) * in.fault.slow)
	}
	if in.busy < s.cores {
		in.busy++
		if s.cfg.USL.On() {
			d = sim.Time(float64(d) * s.cfg.USL.Factor(in.busy))
		}
		s.busy.Add(now, 1)
		if s.perInstance {
			s.metricsOf(c.inst).busy.Add(now, 1)
		}
		if s.zoneBusy != nil {
			s.zoneBusy[s.zoneOf(c.inst)].Add(now, 1)
		}
		c.cpuFrom = now
		sm.eng.After(d, opCPUDone, ci, c.token)
		return
	}
	c.demand = d
	c.cpuFrom = now // the wait for a core starts
	in.cpuQ.push(ci)
	s.wait(c.inst, now, 1)
}

// wait changes the number of calls waiting at instance id.
func (s *station) wait(id int32, now sim.Time, d int64) {
	s.stats.waiting.Add(now, d)
	if s.perInstance {
		s.metricsOf(id).waiting.Add(now, d)
	}
}

// metricsOf is instance id's metrics (when perInstance), made on first use.
func (s *station) metricsOf(id int32) *instanceMetrics {
	for int(id) >= len(s.metrics) {
		s.metrics = append(s.metrics, instanceMetrics{})
	}
	return &s.metrics[id]
}

// releaseCore frees a core of instance i, handing it straight to the next
// waiting call if there is one.
func (s *station) releaseCore(sm *Sim, i int32) {
	in := &s.insts[i]
	now := sm.eng.Now()
	if in.cpuQ.len() > 0 {
		next := in.cpuQ.pop()
		s.wait(i, now, -1)
		c := &sm.calls[next]
		c.coreWait += now - c.cpuFrom
		c.cpuFrom = now
		d := c.demand
		if s.cfg.USL.On() {
			d = sim.Time(float64(d) * s.cfg.USL.Factor(in.busy))
		}
		sm.eng.After(d, opCPUDone, next, c.token)
		return
	}
	in.busy--
	s.busy.Add(now, -1)
	if s.perInstance {
		s.metricsOf(i).busy.Add(now, -1)
	}
	if s.zoneBusy != nil {
		s.zoneBusy[s.zoneOf(i)].Add(now, -1)
	}
}

// readyCoresChange adds d instances' cores at instance id to the ready
// cores, over all and in id's zone.
func (s *station) readyCoresChange(id int32, now sim.Time, d int) {
	s.fleet.readyCores.Add(now, int64(d*s.cores))
	if s.zoneCores != nil {
		s.zoneCores[s.zoneOf(id)].Add(now, int64(d*s.cores))
	}
}

// depart updates statistics and frees the concurrency slot of call ci.
func (s *station) depart(sm *Sim, ci int32, o outcome, now sim.Time) {
	c := &sm.calls[ci]
	measured := c.arrived >= s.stats.start
	s.stats.depart(o, c.arrived, now, measured)
	if o == outOK && measured {
		s.stats.split.add(c, now)
	}
	if c.inst < 0 {
		return
	}
	if s.trackLatency && o == outOK && sm.net == nil { // with a network: when the answer is back (hopBack)
		s.observeLatency(c.inst, -1, now-c.arrived, now)
	}
	if s.nodes != nil && measured {
		n := &s.nodes[c.inst]
		n.requests++
		switch o {
		case outOK:
			n.lat.Record(now - c.arrived)
		case outRejected:
			n.rejected++
		}
	}
	in := &s.insts[c.inst]
	in.load--
	s.loadChanged(in)
	if s.perInstance {
		s.metricsOf(c.inst).arrive(now, -1)
	}
	if c.active {
		c.active = false
		in.active--
		if in.admitQ.len() > 0 {
			s.admitNext(sm, c.inst, now)
		}
	}
	if in.state == instDraining && in.load == 0 {
		s.fleet.retire(sm, s, c.inst, now)
	}
	if s.departed != nil {
		s.departed.departedFrom(sm, c.inst, now)
	}
}

// admitNext gives a free slot of instance id to the next waiting call.
func (s *station) admitNext(sm *Sim, id int32, now sim.Time) {
	if in := &s.insts[id]; in.admitQ.len() > 0 && (s.cfg.Concurrency == Unlimited || in.active < s.cfg.Concurrency) {
		next := in.admitQ.pop()
		s.wait(id, now, -1)
		// Admit through an event at the same instant: a chain of calls
		// that fail at once would otherwise recurse once per queued call.
		sm.eng.At(now, opAdmit, next, 0)
	}
}

func (s *station) start(sm *Sim) { s.fleet.start(sm, s) }

func (s *station) resetStats(now sim.Time) {
	for i := range s.nodes {
		s.nodes[i].lat.Reset()
		s.nodes[i].requests, s.nodes[i].rejected = 0, 0
	}
	if s.perInstance {
		for i := range s.insts {
			m := s.metricsOf(int32(i))
			m.busy.ResetRun(now)
			m.waiting.ResetRun(now)
		}
	}
	s.busy.ResetRun(now)
	for z := range s.zoneBusy {
		s.zoneBusy[z].ResetRun(now)
		s.zoneCores[z].ResetRun(now)
	}
	s.stats.reset(now)
	s.fleet.resetStats(now)
}

func (s *station) closeWindow(now sim.Time) ComponentWindow {
	busy, _ := s.busy.CloseWindow(now)
	cores, _ := s.fleet.readyCores.CloseWindow(now)
	cw := s.stats.closeWindow(now)
	cw.Instances, cw.Ready = s.fleet.replicas, len(s.ready)
	if cores > 0 {
		cw.Utilization = busy / cores
	}
	if s.nodes != nil {
		for i := range s.insts {
			b, _ := s.metricsOf(int32(i)).busy.CloseWindow(now)
			cw.Nodes = append(cw.Nodes, b/float64(s.cores))
		}
	}
	return cw
}

func (s *station) result(now, _ sim.Time) ComponentResult {
	c := s.compBase.result(now)
	f := &s.fleet
	c.Cores = s.cores
	if cores := f.readyCores.Mean(now); cores > 0 {
		c.Utilization = s.busy.Mean(now) / cores
	}
	c.BusyTime = sim.Time(s.busy.RunArea(now).Float64())
	c.Instances = Instances{Mean: f.replicaLvl.Mean(now), Min: f.minSeen, Max: f.maxSeen, End: f.replicas}
	if s.cfg.NodePool == "" { // else the pool's nodes are billed
		c.CostUSD = cost(s.cfg.InstancePrice(), f.billed.Area(now).Sub(f.billedAtStart))
	}
	c.ScaleEvents, c.Reversals, c.Variation, c.Churn = f.scaleEvents, f.reversals, f.variation, f.churn
	for z := range s.zoneBusy {
		zr := ZoneResult{Zone: z, Cores: s.zoneCores[z].Mean(now)}
		if zr.Cores > 0 {
			zr.Utilization = s.zoneBusy[z].Mean(now) / zr.Cores
		}
		c.Zones = append(c.Zones, zr)
	}
	return c
}

// nodeResults are the per-instance results, for kinds that keep nodes.
func (s *station) nodeResults(now sim.Time, role func(i int) (name, role string, shard int)) []NodeResult {
	var out []NodeResult
	for i := range s.insts {
		m := s.metricsOf(int32(i))
		name, r, shard := role(i)
		out = append(out, NodeResult{
			Name: name, Role: r, Shard: shard,
			Utilization: m.busy.Mean(now) / float64(s.cores),
			Requests:    s.nodes[i].requests, Rejected: s.nodes[i].rejected,
			Latency:   summarize(s.nodes[i].lat),
			QueueMean: m.waiting.Mean(now), QueueMax: m.waiting.Max(),
		})
	}
	return out
}

func (s *station) costSoFar(now sim.Time) float64 {
	if s.cfg.NodePool != "" {
		return 0 // the pool's nodes are billed
	}
	return cost(s.cfg.InstancePrice(), s.fleet.billed.Area(now))
}
