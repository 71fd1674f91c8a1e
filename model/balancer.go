package model

import (
	"github.com/capsim/capsim/model/dist"
	"github.com/capsim/capsim/sim"
)

// BalancerConfig is a load balancer in front of a service, cache or
// database.
type BalancerConfig struct {
	Name         string
	To           string // the component behind it
	Algorithm    string
	NewPicker    func() Picker // a fresh picker per run
	Latency      dist.Dist     // added on the way in; nil: none
	PricePerHour float64

	// Timeout is haproxy's server timeout: a call with no answer within it
	// (from its forwarding) gets a timeout from the balancer (a 504); the
	// instance's work goes on, wasted. 0: none.
	Timeout sim.Time
	// Retries re-sends a call whose connection was refused (a crashed
	// instance), up to this many times, as haproxy's retries: a retry to
	// the same instance waits haproxy's turn-around of one second; with
	// Redispatch the last retry goes at once to another instance (haproxy's
	// default "option redispatch").
	Retries    int
	Redispatch bool
	// RetryTimeout and RetryError also retry a call whose instance did not
	// answer within Timeout, or answered an error (haproxy's retry-on
	// response-timeout and 5xx): at once, to another instance with
	// Redispatch; the first attempt's work goes on, wasted.
	RetryTimeout, RetryError bool
	// HealthCheck takes failing instances out of the rotation; nil: none
	// (a crashed instance keeps its share).
	HealthCheck *HealthCheck
	// Outlier ejects instances whose calls fail in a row; nil: none.
	Outlier *Outlier
	// ZoneAware prefers instances in the caller's zone, as Envoy's
	// zone-aware routing (see zonePick); MinClusterSize turns it off for
	// smaller fleets (Envoy's min_cluster_size, 6).
	ZoneAware      bool
	MinClusterSize int
	// PreferRegion sends calls to the caller's region first, failing over
	// to the others as its instances leave the rotation, as Envoy's
	// priority levels (see regionPick).
	PreferRegion bool
}

// turnAround is haproxy's delay before retrying a refused connection to
// the same server: min(timeout connect, 1 s).
const turnAround = sim.Second

func (c *BalancerConfig) ComponentName() string             { return c.Name }
func (c *BalancerConfig) Kind() Kind                        { return KindBalancer }
func (c *BalancerConfig) EndpointConfigs() []EndpointConfig { return nil }
func (c *BalancerConfig) DefaultEndpoint(bool) string       { return "" }
func (c *BalancerConfig) Forward() string                   { return c.To }
func (c *BalancerConfig) FleetConfig() *Fleet               { return nil }

func (c *BalancerConfig) newComponent(b *builder) component {
	return &balancer{
		compBase: newBase(c, b.idx),
		cfg:      c,
		to:       b.graph.index[c.To],
		picker:   c.NewPicker(),
		rngPick:  sim.NewStream(b.seed, c.Name, "balance"),
		rngLat:   sim.NewStream(b.seed, c.Name, "latency"),
		rngCheck: sim.NewStream(b.seed, c.Name, "check"),
	}
}

// balancer passes calls to the instances of the component behind it. A call
// through a balancer is one call object, not two: the balancer's
// statistics see it arrive and leave when the instance answers.
type balancer struct {
	compBase
	cfg     *BalancerConfig
	to      int32
	backend router
	picker  Picker
	rngPick *sim.Stream
	rngLat  *sim.Stream

	// Health checks: each instance's state, how many are out of the
	// rotation, and the view pickers see while some are.
	rngCheck   *sim.Stream
	checks     []checkState
	nOut       int
	rotVersion uint64 // counts changes of the rotation
	view       rotation

	// Zone-aware routing: the backend's ready instances by zone (for its
	// ready-list version), and callers' instances by zone per station.
	zoneIDs     [][]int32
	zoneVersion uint64
	zoneBuilt   bool
	callers     []*zoneCount // by the calling station's index
	zview       rotation
	residual    []float64
	// Region preference: per caller region, its priority levels.
	levels []*priorityLevels
}

type zoneCount struct {
	version uint64
	n       []int
	total   int
}

func (b *balancer) receive(s *Sim, ci int32) {
	c := &s.calls[ci]
	c.at = b.to
	c.via = b.idx + 1
	c.viaArrived = s.eng.Now()
	b.stats.arrive(c.viaArrived)
	if b.cfg.Latency != nil {
		if d := b.cfg.Latency.Sample(b.rngLat); d > 0 {
			s.eng.After(d, opForward, ci, c.token)
			return
		}
	}
	b.forward(s, ci)
}

// forward passes a call on to the instance the backend's rule picks, in the
// balancer's rotation.
func (b *balancer) forward(s *Sim, ci int32) {
	b.armTimeout(s, ci)
	b.backend.work().arrive(s, ci, b.pick(s, ci, -1))
}

// armTimeout starts the server timeout of call ci's attempt: an earlier
// attempt's timeout event finds its deadline moved and does nothing.
func (b *balancer) armTimeout(s *Sim, ci int32) {
	if b.cfg.Timeout > 0 {
		c := &s.calls[ci]
		c.lbDeadline = s.eng.Now() + b.cfg.Timeout
		s.eng.At(c.lbDeadline, opLBTimeout, ci, c.serial)
	}
}

// refused handles a call whose connection instance inst refused: it
// retries if it may (and reports true), as haproxy does.
func (b *balancer) refused(s *Sim, ci int32, st *station) bool {
	c := &s.calls[ci]
	if int(c.lbTries) >= b.cfg.Retries {
		return false
	}
	now := s.eng.Now()
	st.stats.depart(outError, c.arrived, now, c.arrived >= st.stats.start) // this attempt ends here
	c.resetAttempt()
	c.lbTries++
	if b.cfg.Redispatch && int(c.lbTries) == b.cfg.Retries {
		b.armTimeout(s, ci)
		st.arrive(s, ci, b.pick(s, ci, c.inst)) // the last retry: another instance, at once
		return true
	}
	c.lbDeadline = sim.Never // no server timeout while waiting to reconnect
	s.eng.After(turnAround, opLBRetry, ci, c.serial)
	return true
}

// retryAnswer re-sends call ci, whose instance answered it with an error,
// if the balancer retries errors and has tries left (and reports true).
func (b *balancer) retryAnswer(s *Sim, ci int32) bool {
	c := &s.calls[ci]
	if !b.cfg.RetryError || int(c.lbTries) >= b.cfg.Retries {
		return false
	}
	s.waste(s.reqs[c.req].measured, c.cpu) // the failed attempt's work
	prev := c.inst
	b.observe(s, prev, outError)
	c.resetAttempt()
	c.lbTries++
	inst := prev
	if b.cfg.Redispatch {
		inst = b.pick(s, ci, prev)
	}
	b.armTimeout(s, ci)
	b.backend.work().arrive(s, ci, inst)
	return true
}

// retryTimeout re-sends a call its instance did not answer in time as a
// new call through the balancer, to another instance with Redispatch; the
// first one goes on at the instance, answering nobody.
func (b *balancer) retryTimeout(s *Sim, ci int32) bool {
	c := &s.calls[ci]
	if !b.cfg.RetryTimeout || int(c.lbTries) >= b.cfg.Retries {
		return false
	}
	parent, ptoken, req, ep, write, tries, prev := c.parent, c.ptoken, c.req, c.ep, c.write, c.lbTries, c.inst
	b.left(c, outTimeout, s.eng.Now())
	b.observe(s, prev, outTimeout)
	c.via, c.parent = 0, orphan
	n := s.newCall(req, parent, ptoken, b.to, ep)
	nc := &s.calls[n]
	nc.write, nc.lbTries, nc.via, nc.viaArrived = write, tries+1, b.idx+1, s.eng.Now()
	b.stats.arrive(nc.viaArrived)
	skip := int32(-1)
	if b.cfg.Redispatch {
		skip = prev
	}
	b.armTimeout(s, n)
	b.backend.work().arrive(s, n, b.pick(s, n, skip))
	return true
}

// retry re-sends call ci to the instance that refused it, after the
// turn-around.
func (b *balancer) retry(s *Sim, ci int32) {
	b.armTimeout(s, ci)
	b.backend.work().arrive(s, ci, s.calls[ci].inst)
}

// left records that a call that came through the balancer has its answer.
func (b *balancer) left(c *call, o outcome, now sim.Time) {
	b.stats.depart(o, c.viaArrived, now, c.viaArrived >= b.stats.start)
}

func (b *balancer) start(s *Sim)            { b.startChecks(s) }
func (b *balancer) resetStats(now sim.Time) { b.stats.reset(now) }

func (b *balancer) closeWindow(now sim.Time) ComponentWindow {
	return b.stats.closeWindow(now)
}

func (b *balancer) result(now, measuredFrom sim.Time) ComponentResult {
	c := b.compBase.result(now)
	c.CostUSD = b.cfg.PricePerHour * (now - measuredFrom).Seconds() / 3600
	return c
}

func (b *balancer) costSoFar(now sim.Time) float64 {
	return b.cfg.PricePerHour * now.Seconds() / 3600
}
