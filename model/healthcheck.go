package model

import "github.com/capsim/capsim/sim"

// HealthCheck is a balancer's active check of each instance behind it, as
// haproxy runs them: every Interval, a check that must answer within
// Timeout; after Fall failed checks in a row an instance leaves the
// rotation, after Rise good ones it returns. A TCP check only sees crashed
// instances (a refused connection); an HTTP check also sees hung ones (no
// answer within Timeout) and erroring ones (the check itself gets an error
// with the instance's error-fault fraction).
//
// Scheduling follows haproxy's src/check.c: the first checks of the
// instances are spread over one interval (instance i of n at
// i·Interval/n), and the next check starts Interval after the previous one
// completed, so a check that waits its full timeout delays the next.
type HealthCheck struct {
	HTTP     bool
	Interval sim.Time
	Timeout  sim.Time
	Fall     int
	Rise     int
}

// checkState is a balancer's view of one instance.
type checkState struct {
	down       bool // failed its health checks
	ejected    bool // ejected as an outlier
	fails, oks int  // consecutive check results
	errors     int  // consecutive failed calls (outlier detection)
	ejections  int  // times ejected
	started    bool
}

// out says whether the instance is out of the rotation.
func (c *checkState) out() bool { return c.down || c.ejected }

// state returns instance id's state, growing the table as needed.
func (b *balancer) state(id int32) *checkState {
	for int(id) >= len(b.checks) {
		b.checks = append(b.checks, checkState{})
	}
	return &b.checks[id]
}

// setOut changes why instance id is out of the rotation, keeping nOut.
func (b *balancer) setOut(id int32, change func(c *checkState)) {
	c := b.state(id)
	was := c.out()
	change(c)
	switch now := c.out(); {
	case now && !was:
		b.nOut++
		b.rotVersion++
	case !now && was:
		b.nOut--
		b.rotVersion++
	}
}

// startChecks schedules the first check of every instance behind b.
func (b *balancer) startChecks(s *Sim) {
	hc := b.cfg.HealthCheck
	if hc == nil {
		return
	}
	st := b.backend.work()
	n := len(st.insts)
	for id := range st.insts {
		b.watch(s, int32(id), s.eng.Now()+hc.Interval*sim.Time(id)/sim.Time(max(n, 1)))
	}
	st.watchers = append(st.watchers, b)
}

// watch starts checking instance id at time at.
func (b *balancer) watch(s *Sim, id int32, at sim.Time) {
	if b.state(id).started {
		return
	}
	b.checks[id].started = true
	s.eng.At(at, opCheck, b.idx, uint32(id)<<1)
}

// check runs one health check of instance id (ev.Gen = id<<1), or takes
// the result of one that waited for its timeout (ev.Gen = id<<1 | 1).
func (b *balancer) check(s *Sim, gen uint32) {
	hc := b.cfg.HealthCheck
	id := int32(gen >> 1)
	st := b.backend.work()
	in := &st.insts[id]
	now := s.eng.Now()
	if gen&1 == 1 { // a check that timed out
		b.checked(s, id, false, now)
		return
	}
	if in.state == instGone {
		b.setOut(id, func(c *checkState) { *c = checkState{} })
		return
	}
	ok := true
	switch {
	case in.fault.down || in.state == instStarting:
		ok = false // connection refused
	case hc.HTTP && in.fault.hung:
		s.eng.At(now+hc.Timeout, opCheck, b.idx, uint32(id)<<1|1) // no answer: fails at its timeout
		return
	case hc.HTTP && in.fault.errFrac > 0:
		ok = b.rngCheck.Float64() >= in.fault.errFrac
	}
	b.checked(s, id, ok, now)
}

// checked counts a check's result and schedules the next check.
func (b *balancer) checked(s *Sim, id int32, ok bool, done sim.Time) {
	hc := b.cfg.HealthCheck
	b.setOut(id, func(c *checkState) {
		if ok {
			c.fails, c.oks = 0, c.oks+1
			if c.down && c.oks >= hc.Rise {
				c.down = false
			}
		} else {
			c.oks, c.fails = 0, c.fails+1
			if !c.down && c.fails >= hc.Fall {
				c.down = true
			}
		}
	})
	s.eng.At(done+hc.Interval, opCheck, b.idx, uint32(id)<<1)
}

// rotation is the view of a station's ready instances that a balancer
// with instances out of its rotation picks from.
type rotation struct {
	st  *station
	ids []int32
}

func (r *rotation) Len() int       { return len(r.ids) }
func (r *rotation) Load(i int) int { return r.st.insts[r.ids[i]].load }
func (r *rotation) Weight(i int) float64 {
	if id := int(r.ids[i]); id < len(r.st.cfg.Weights) {
		return r.st.cfg.Weights[id]
	}
	return 1
}

func (r *rotation) ID(i int) int32     { return r.ids[i] }
func (r *rotation) EWMA(i int) float64 { return r.st.ewmaOf(r.ids[i]) }
func (r *rotation) Index(id int32) int {
	for i, x := range r.ids {
		if x == id {
			return i
		}
	}
	return -1
}

// Version identifies the set of instances in rotation (the view is
// rebuilt for every pick while instances are out: rare, so O(n)).
func (r *rotation) Version() uint64 {
	h := uint64(len(r.ids))
	for _, id := range r.ids {
		h = sim.Mix64(h ^ uint64(id) + 0x9e3779b97f4a7c15)
	}
	return h
}

// LeastLoaded scans: the view exists only while instances are out.
func (r *rotation) LeastLoaded(from int) int {
	best := -1
	for k := range r.ids {
		i := (from + k) % len(r.ids)
		if best < 0 || r.Load(i) < r.Load(best) {
			best = i
		}
	}
	return best
}

// pick chooses an instance in b's rotation (excluding skip, ≥ 0 for a
// redispatch), or −1 when there is none.
func (b *balancer) pick(s *Sim, ci int32, skip int32) int32 {
	st := b.backend.work()
	if st.zoneLat != nil {
		st.pickZone = s.callerZone(ci)
	}
	if b.cfg.PreferRegion {
		if id, ok := b.regionPick(s, ci, st, skip); ok {
			return id
		}
	}
	if b.cfg.ZoneAware && b.nOut == 0 && skip < 0 {
		if id, ok := b.zonePick(s, ci, st); ok {
			return id
		}
	}
	if b.nOut == 0 && skip < 0 {
		return b.backend.route(s, ci, b.picker, b.rngPick)
	}
	if _, byKey := b.backend.(*database); byKey {
		return b.backend.route(s, ci, b.picker, b.rngPick) // nodes are chosen by key, in rotation or not
	}
	b.view.st, b.view.ids = st, b.view.ids[:0]
	for _, id := range st.ready {
		if (int(id) >= len(b.checks) || !b.checks[id].out()) && id != skip {
			b.view.ids = append(b.view.ids, id)
		}
	}
	switch len(b.view.ids) {
	case 0:
		return -1
	case 1:
		return b.view.ids[0]
	}
	var i int
	if kp, ok := b.picker.(KeyPicker); ok {
		i = kp.PickKey(&b.view, s.reqs[s.calls[ci].req].key, b.rngPick)
	} else {
		i = b.picker.Pick(&b.view, b.rngPick)
	}
	if i < 0 || i >= len(b.view.ids) {
		i = 0
	}
	return b.view.ids[i]
}

// Outlier is Envoy's passive outlier detection on a balancer: after
// ConsecutiveErrors failed calls in a row (errors and timeouts) an instance
// is ejected from the rotation for Ejection × the number of times it has
// been ejected (at most MaxEjectionTime), with at most MaxEjected of the
// instances out at once (at least one).
type Outlier struct {
	ConsecutiveErrors int
	Ejection          sim.Time
	MaxEjectionTime   sim.Time
	MaxEjected        float64
}

// observe counts a call's outcome for outlier detection.
func (b *balancer) observe(s *Sim, id int32, o outcome) {
	od := b.cfg.Outlier
	if od == nil || id < 0 {
		return
	}
	c := b.state(id)
	if o == outOK || o == outRejected {
		c.errors = 0
		return
	}
	c.errors++
	if c.errors < od.ConsecutiveErrors || c.ejected {
		return
	}
	n := len(b.backend.work().ready)
	limit := max(1, int(od.MaxEjected*float64(n)))
	ejected := 0
	for i := range b.checks {
		if b.checks[i].ejected {
			ejected++
		}
	}
	if ejected >= limit {
		return
	}
	c.ejections++
	d := od.Ejection * sim.Time(c.ejections)
	if od.MaxEjectionTime > 0 {
		d = min(d, od.MaxEjectionTime)
	}
	b.setOut(id, func(c *checkState) { c.ejected, c.errors = true, 0 })
	s.eng.After(d, opUneject, b.idx, uint32(id))
}

// uneject returns an ejected instance to the rotation.
func (b *balancer) uneject(id int32) {
	b.setOut(id, func(c *checkState) { c.ejected = false })
}
