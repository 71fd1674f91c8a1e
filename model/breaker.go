package model

import "github.com/capsim/capsim/sim"

// BreakerConfig is a circuit breaker on a call step, with resilience4j's
// semantics: over a sliding window of the last Window calls (or the calls
// of the last WindowTime), once at least MinCalls are recorded, a failure
// rate (or a rate of calls slower than SlowCall) at or above its threshold
// opens the breaker; an open breaker rejects calls at once (outcome
// rejected) for Open, then lets HalfOpenCalls trial calls through, and
// closes if their failure and slow rates stay below the thresholds, else
// opens again. The window starts afresh at every transition.
type BreakerConfig struct {
	Window        int      // calls, for a count-based window
	WindowTime    sim.Time // > 0: a time-based window of one-second buckets
	FailureRate   float64  // 0 < rate ≤ 1
	MinCalls      int
	Open          sim.Time
	HalfOpenCalls int
	SlowCall      sim.Time // 0: no slow-call rule
	SlowRate      float64
	// PerInstance gives each instance of the calling component a breaker
	// of its own, as resilience4j in each process (or an Envoy sidecar in
	// each pod) has: each sees only its instance's calls, so with n
	// instances each needs its own failures to open. Otherwise the step
	// has one breaker, shared by the instances.
	PerInstance bool
}

type breakerState uint8

const (
	breakerClosed breakerState = iota
	breakerOpen
	breakerHalfOpen
)

// breaker is a call step's breaker: the step's, shared by the calling
// component's instances, or one instance's (BreakerConfig.PerInstance).
type breaker struct {
	cfg       *BreakerConfig
	state     breakerState
	openUntil sim.Time
	permits   int // half-open trial calls still to let through
	// A count-based window is a ring of the last outcomes; a time-based one
	// a ring of one-second buckets.
	ring             []uint8 // bit 0 failed, bit 1 slow
	head, n          int
	buckets          []bucket
	calls, fails, sl int // totals over the window
	opened           int64
}

type bucket struct {
	second              int64
	calls, fails, slows int
}

func newBreaker(c *BreakerConfig) *breaker {
	b := &breaker{cfg: c}
	if c.WindowTime > 0 {
		b.buckets = make([]bucket, max(1, int(c.WindowTime/sim.Second)))
		for i := range b.buckets {
			b.buckets[i].second = -1
		}
	} else {
		b.ring = make([]uint8, c.Window)
	}
	return b
}

// permit says whether a call may go through now, moving an open breaker to
// half-open once its open time is over.
func (b *breaker) permit(now sim.Time) (ok, trial bool) {
	switch b.state {
	case breakerOpen:
		if now < b.openUntil {
			return false, false
		}
		b.state, b.permits = breakerHalfOpen, b.cfg.HalfOpenCalls
		b.reset()
		fallthrough
	case breakerHalfOpen:
		if b.permits == 0 {
			return false, false
		}
		b.permits--
		return true, true
	}
	return true, false
}

// record counts the outcome of a call that went through (trial: let
// through while half-open).
func (b *breaker) record(now sim.Time, failed bool, took sim.Time, trial bool) {
	if b.state == breakerOpen || (b.state == breakerHalfOpen && !trial) {
		return // an answer from before the last transition
	}
	slow := b.cfg.SlowCall > 0 && took > b.cfg.SlowCall
	b.add(now, failed, slow)
	switch b.state {
	case breakerClosed:
		if b.calls >= b.cfg.MinCalls && b.tripped() {
			b.trip(now)
		}
	case breakerHalfOpen:
		if b.calls >= b.cfg.HalfOpenCalls {
			if b.tripped() {
				b.trip(now)
			} else {
				b.state = breakerClosed
				b.reset()
			}
		}
	}
}

func (b *breaker) tripped() bool {
	if b.calls == 0 {
		return false
	}
	fr := float64(b.fails) / float64(b.calls)
	sr := float64(b.sl) / float64(b.calls)
	return fr >= b.cfg.FailureRate || (b.cfg.SlowCall > 0 && sr >= b.cfg.SlowRate)
}

func (b *breaker) trip(now sim.Time) {
	b.state, b.openUntil = breakerOpen, now+b.cfg.Open
	b.opened++
	b.reset()
}

func (b *breaker) reset() {
	b.calls, b.fails, b.sl, b.head, b.n = 0, 0, 0, 0, 0
	for i := range b.buckets {
		b.buckets[i] = bucket{second: -1}
	}
}

func (b *breaker) add(now sim.Time, failed, slow bool) {
	f, s := btoi(failed), btoi(slow)
	if b.buckets != nil {
		sec := int64(now / sim.Second)
		// Buckets older than the window no longer count.
		for i := range b.buckets {
			if bk := &b.buckets[i]; bk.second >= 0 && bk.second <= sec-int64(len(b.buckets)) {
				b.calls, b.fails, b.sl = b.calls-bk.calls, b.fails-bk.fails, b.sl-bk.slows
				*bk = bucket{second: -1}
			}
		}
		bk := &b.buckets[sec%int64(len(b.buckets))]
		if bk.second != sec {
			*bk = bucket{second: sec}
		}
		bk.calls, bk.fails, bk.slows = bk.calls+1, bk.fails+f, bk.slows+s
		b.calls, b.fails, b.sl = b.calls+1, b.fails+f, b.sl+s
		return
	}
	if b.n == len(b.ring) { // the oldest leaves the window
		old := b.ring[b.head]
		b.calls, b.fails, b.sl = b.calls-1, b.fails-int(old&1), b.sl-int(old>>1)
		b.n--
		b.head = (b.head + 1) % len(b.ring)
	}
	b.ring[(b.head+b.n)%len(b.ring)] = uint8(f | s<<1)
	b.n++
	b.calls, b.fails, b.sl = b.calls+1, b.fails+f, b.sl+s
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// RetryBudget is Finagle's retry budget (also gRPC's retry throttling in
// spirit): retries may add at most Percent of the calls a step made in the
// last TTL, plus MinPerSec × TTL (com.twitter.finagle.service.RetryBudget:
// ttl 10 s, minRetriesPerSec 10, percentCanRetry 0.2 by default).
type RetryBudget struct {
	Percent   float64
	MinPerSec float64
	TTL       sim.Time
}

// budget tracks a step's first attempts and retries over the budget's TTL,
// in one-second buckets.
type budget struct {
	cfg     *RetryBudget
	buckets []bucket // calls: first attempts; fails: retries
	reqs    int
	retries int
}

func newBudget(c *RetryBudget) *budget {
	b := &budget{cfg: c, buckets: make([]bucket, max(1, int(c.TTL/sim.Second)))}
	for i := range b.buckets {
		b.buckets[i].second = -1
	}
	return b
}

// roll drops the buckets older than the TTL and returns now's.
func (b *budget) roll(now sim.Time) *bucket {
	sec := int64(now / sim.Second)
	for i := range b.buckets {
		if bk := &b.buckets[i]; bk.second >= 0 && bk.second <= sec-int64(len(b.buckets)) {
			b.reqs, b.retries = b.reqs-bk.calls, b.retries-bk.fails
			*bk = bucket{second: -1}
		}
	}
	bk := &b.buckets[sec%int64(len(b.buckets))]
	if bk.second != sec {
		*bk = bucket{second: sec}
	}
	return bk
}

// request counts a first attempt.
func (b *budget) request(now sim.Time) {
	bk := b.roll(now)
	bk.calls++
	b.reqs++
}

// withdraw takes one retry from the budget, if it has one.
func (b *budget) withdraw(now sim.Time) bool {
	bk := b.roll(now)
	allowed := b.cfg.Percent*float64(b.reqs) + b.cfg.MinPerSec*b.cfg.TTL.Seconds()
	if float64(b.retries)+1 > allowed {
		return false
	}
	bk.fails++
	b.retries++
	return true
}

// instBreaker is an instance's breaker, with the instance's creation
// time: a function's environment slot can be reused by a new environment,
// which starts with a breaker of its own.
type instBreaker struct {
	created sim.Time
	b       *breaker
}

// breakerFor is the breaker call ci's call step sp goes through: the
// step's, or that of ci's instance; nil without one.
func (s *Sim) breakerFor(ci int32, sp *step) *breaker {
	if sp.breaker == nil || !sp.breaker.cfg.PerInstance {
		return sp.breaker
	}
	c := &s.calls[ci]
	if c.inst < 0 {
		return sp.breaker
	}
	for int(c.inst) >= len(sp.breakers) {
		sp.breakers = append(sp.breakers, instBreaker{})
	}
	created := s.stations[c.at].insts[c.inst].created
	if ib := &sp.breakers[c.inst]; ib.b == nil || ib.created != created {
		*ib = instBreaker{created: created, b: newBreaker(sp.breaker.cfg)}
	}
	return sp.breakers[c.inst].b
}
