package model

import (
	"github.com/capsim/capsim/model/dist"
	"github.com/capsim/capsim/sim"
)

// NetworkConfig is the network between components: each call a component
// makes to another is a request hop and a response hop, each taking
// Latency, plus CrossZone when the caller's instance and the callee's are
// in different zones; the bytes of crossing hops (the callee endpoint's
// RequestKB and ResponseKB) are billed at EgressPerGB.
//
// The callee's instance is chosen when the request arrives, so a crossing
// request hop's CrossZone is charged with the answer: the round trip is
// exact (2 × Latency + 2 × CrossZone for a crossing call), the callee just
// sees the request CrossZone early. Traffic from client zones (a source's
// zones) takes a request and a response hop to its first component too;
// traffic from no zone, and async steps, take none.
type NetworkConfig struct {
	Latency     dist.Dist // one way, per hop; nil: none
	Zones       []string
	CrossZone   sim.Time // one way, added to a hop between zones
	EgressPerGB float64  // US dollars per GB (10⁹ bytes) crossing zones
}

// network is the run-time state of a NetworkConfig.
type network struct {
	cfg *NetworkConfig
	rng *sim.Stream
	// Measured calls: hops sent, hops that crossed zones, and the KB that
	// crossed.
	hops, crossHops int64
	crossKB         float64
	allCrossKB      float64 // since the start of the run, for the cost over time
}

func newNetwork(cfg *NetworkConfig, seed uint64) *network {
	if cfg == nil {
		return nil
	}
	return &network{cfg: cfg, rng: sim.NewStream(seed, "network", "latency")}
}

func (n *network) latency() sim.Time {
	if n.cfg.Latency == nil {
		return 0
	}
	return n.cfg.Latency.Sample(n.rng)
}

// send delivers call child after its request hop (a call step's, or a
// parallel branch's).
func (s *Sim) send(child int32) {
	if s.net == nil {
		s.deliver(child)
		return
	}
	c := &s.calls[child]
	c.hopping = true
	c.hopOut = s.net.latency()
	s.eng.After(c.hopOut, opHopOut, child, c.serial)
}

// hopIn is the end of call ci's request hop.
func (s *Sim) hopIn(ci int32, serial uint32) {
	if c := &s.calls[ci]; c.serial == serial && c.hopping {
		c.hopping = false
		s.deliver(ci)
	}
}

// hopBack sends the answer o of call ci, which has left its station, back
// to its caller: the response hop, plus the request hop's zone crossing.
// It reports false when there is no hop to make (no network, or no caller
// waiting).
func (s *Sim) hopBack(ci int32, o outcome) bool {
	c := &s.calls[ci]
	if s.net == nil {
		return false
	}
	r := &s.reqs[c.req]
	var callerZone int8
	switch {
	case c.parent >= 0 && s.calls[c.parent].token == c.ptoken:
		p := &s.calls[c.parent]
		callerZone = s.stations[p.at].zoneOf(p.inst)
	case c.parent == noParent && r.zone >= 0 && !r.done: // back to the client's zone
		callerZone = r.zone
	default:
		return false
	}
	d := s.net.latency()
	st := s.stations[c.at]
	measured := r.measured
	if measured {
		s.net.hops += 2
	}
	if a := st.zoneOf(c.inst); a >= 0 && callerZone >= 0 && a != callerZone {
		d += 2 * s.net.cfg.CrossZone
		ep := &st.eps[c.ep]
		kb := ep.requestKB + ep.responseKB
		s.net.allCrossKB += kb
		if measured {
			s.net.crossHops += 2
			s.net.crossKB += kb
		}
	}
	if o == outOK && c.arrived >= st.stats.start {
		st.stats.split.network(c.hopOut + d)
	}
	c.answer, c.inst = o, -1 // in flight back: no longer at an instance (faults pass it by)
	s.eng.After(d, opHopBack, ci, c.serial)
	return true
}

// NetworkResult is the network's share of a run (measured period).
type NetworkResult struct {
	Hops, CrossZoneHops int64
	CrossZoneGB         float64
	EgressUSD           float64
}

func (n *network) result() *NetworkResult {
	if n == nil {
		return nil
	}
	gb := n.crossKB / 1e6
	return &NetworkResult{Hops: n.hops, CrossZoneHops: n.crossHops, CrossZoneGB: gb, EgressUSD: gb * n.cfg.EgressPerGB}
}

func (n *network) costSoFar() float64 {
	if n == nil {
		return 0
	}
	return n.allCrossKB / 1e6 * n.cfg.EgressPerGB
}
