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
}

func (c *BalancerConfig) ComponentName() string             { return c.Name }
func (c *BalancerConfig) Kind() string                      { return "balancer" }
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

// forward passes a call on to the instance the backend's rule picks.
func (b *balancer) forward(s *Sim, ci int32) {
	b.backend.work().arrive(s, ci, b.backend.route(s, ci, b.picker, b.rngPick))
}

// left records that a call that came through the balancer has its answer.
func (b *balancer) left(c *call, o outcome, now sim.Time) {
	b.stats.depart(o, c.viaArrived, now, c.viaArrived >= b.stats.start)
}

func (b *balancer) start(*Sim)              {}
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
