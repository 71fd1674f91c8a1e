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
// zones) takes a request and a response hop to its first component too,
// and so does an async step's detached request from a zoned caller;
// traffic from no zone, and a queue's deliveries to its consumers, take
// none (a queue has no zone: its ack latency stands for the broker's
// hops).
//
// Regions group the zones. A hop between zones of different regions takes
// the two regions' latency instead of CrossZone, and its bytes are billed
// at the price of the region they leave (the request's at the caller's
// region, the answer's at the callee's), as cloud providers bill
// inter-region transfer.
type NetworkConfig struct {
	Latency     dist.Dist // one way, per hop; nil: none
	Zones       []string
	CrossZone   sim.Time // one way, added to a hop between zones
	EgressPerGB float64  // US dollars per GB (10⁹ bytes) crossing zones
	Regions     []RegionConfig
}

// RegionConfig is one region: its zones (names in NetworkConfig.Zones),
// the price of the bytes leaving it for another region, and the one-way
// latency to each region (by index into NetworkConfig.Regions; nil for
// itself), added to every hop between them.
type RegionConfig struct {
	Name        string
	Zones       []string
	EgressPerGB float64
	Latency     []dist.Dist
}

// RegionOf returns the index of zone z's region, or −1 when there are no
// regions.
func (n *NetworkConfig) RegionOf(z string) int {
	for i, r := range n.Regions {
		for _, rz := range r.Zones {
			if rz == z {
				return i
			}
		}
	}
	return -1
}

// zonesOf splits share z over the zones of the region it names, or
// returns it as it is (a zone).
func (n *NetworkConfig) zonesOf(z ZoneShare) []ZoneShare {
	for _, r := range n.Regions {
		if r.Name == z.Zone && !(len(r.Zones) == 1 && r.Zones[0] == r.Name) {
			out := make([]ZoneShare, len(r.Zones))
			for i, rz := range r.Zones {
				out[i] = ZoneShare{Zone: rz, Share: z.Share / float64(len(r.Zones))}
			}
			return out
		}
	}
	return []ZoneShare{z}
}

// network is the run-time state of a NetworkConfig.
type network struct {
	cfg    *NetworkConfig
	rng    *sim.Stream
	region []int8 // by zone index; nil without regions
	// Measured calls: hops sent, hops that crossed zones within a region
	// and the KB they carried, hops between regions, their KB and what the
	// KB cost.
	hops, crossHops int64
	crossKB         float64
	regionHops      int64
	regionKB        float64
	regionUSD       float64
	allUSD          float64 // since the start of the run, for the cost over time
}

func newNetwork(cfg *NetworkConfig, seed uint64) *network {
	if cfg == nil {
		return nil
	}
	n := &network{cfg: cfg, rng: sim.NewStream(seed, "network", "latency")}
	if len(cfg.Regions) > 0 {
		n.region = make([]int8, len(cfg.Zones))
		for z, name := range cfg.Zones {
			n.region[z] = int8(cfg.RegionOf(name))
		}
	}
	return n
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
	if s.net == nil {
		return false
	}
	callerZone := s.callerZone(ci)
	if callerZone == noCaller {
		return false
	}
	c := &s.calls[ci]
	d := s.net.latency()
	st := s.stations[c.at]
	measured := s.reqs[c.req].measured
	if measured {
		s.net.hops += 2
	}
	a := st.zoneOf(c.inst)
	if st.follows {
		a = s.net.servedIn(st.home, callerZone)
	}
	if a >= 0 && callerZone >= 0 && a != callerZone {
		d += s.net.cross(&st.eps[c.ep], callerZone, a, measured)
	}
	if o == outOK {
		if c.arrived >= st.stats.start {
			st.stats.split.network(c.hopOut + d)
		}
		if st.trackLatency && c.inst >= 0 { // the round trip, as the caller sees it
			st.observeLatency(c.inst, callerZone, c.hopOut+s.eng.Now()-c.arrived+d, s.eng.Now())
		}
	}
	c.pathNet += c.hopOut + d
	c.answer, c.inst = o, -1 // in flight back: no longer at an instance (faults pass it by)
	s.eng.After(d, opHopBack, ci, c.serial)
	return true
}

// servedIn is the zone a call from zone from is served in by a station
// that follows its callers, with home zone home (< 0: none): the caller's
// zone, unless that is in another region than home's.
func (n *network) servedIn(home, from int8) int8 {
	switch {
	case home < 0 || from < 0:
		return from
	case n.region == nil || n.region[home] == n.region[from]:
		return from
	}
	return home
}

// cross accounts for a call from zone from to zone to (different zones)
// with endpoint ep: it returns the time the crossing adds to the round
// trip, and bills the bytes.
func (n *network) cross(ep *endpoint, from, to int8, measured bool) sim.Time {
	kb := ep.requestKB + ep.responseKB
	if n.region == nil || n.region[from] == n.region[to] {
		usd := kb / 1e6 * n.cfg.EgressPerGB
		n.allUSD += usd
		if measured {
			n.crossHops += 2
			n.crossKB += kb
		}
		return 2 * n.cfg.CrossZone
	}
	rf, rt := n.region[from], n.region[to]
	l := n.cfg.Regions[rf].Latency[rt]
	usd := (ep.requestKB*n.cfg.Regions[rf].EgressPerGB + ep.responseKB*n.cfg.Regions[rt].EgressPerGB) / 1e6
	n.allUSD += usd
	if measured {
		n.regionHops += 2
		n.regionKB += kb
		n.regionUSD += usd
	}
	if l == nil {
		return 0
	}
	return l.Sample(n.rng) + l.Sample(n.rng)
}

// noCaller is callerZone's answer when nobody waits for the call's answer
// over the network.
const noCaller int8 = -2

// callerZone is the zone call ci comes from: its caller's instance's, or
// its client's (−1: the caller has no zone; noCaller: no caller waits, or
// the client is outside every zone).
func (s *Sim) callerZone(ci int32) int8 {
	c := &s.calls[ci]
	switch r := &s.reqs[c.req]; {
	case c.parent >= 0 && s.calls[c.parent].token == c.ptoken:
		return s.servedZone(c.parent)
	case c.parent == noParent && r.zone >= 0 && !r.done:
		return r.zone
	}
	return noCaller
}

// servedZone is the zone call ci is served in (−1: none): its instance's,
// or for a station that follows its callers (a function), the zone it
// serves its caller's zone in.
func (s *Sim) servedZone(ci int32) int8 {
	c := &s.calls[ci]
	st := s.stations[c.at]
	if !st.follows {
		return st.zoneOf(c.inst)
	}
	return max(s.net.servedIn(st.home, s.callerZone(ci)), -1)
}

// NetworkResult is the network's share of a run (measured period).
// CrossZone counts hops between zones of one region, CrossRegion hops
// between regions; EgressUSD is what the bytes of both cost.
type NetworkResult struct {
	Hops, CrossZoneHops, CrossRegionHops int64
	CrossZoneGB, CrossRegionGB           float64
	EgressUSD                            float64
}

func (n *network) result() *NetworkResult {
	if n == nil {
		return nil
	}
	gb := n.crossKB / 1e6
	return &NetworkResult{Hops: n.hops, CrossZoneHops: n.crossHops, CrossRegionHops: n.regionHops,
		CrossZoneGB: gb, CrossRegionGB: n.regionKB / 1e6, EgressUSD: gb*n.cfg.EgressPerGB + n.regionUSD}
}

func (n *network) costSoFar() float64 {
	if n == nil {
		return 0
	}
	return n.allUSD
}
