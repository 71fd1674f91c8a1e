package model

import (
	"fmt"

	"github.com/capsim/capsim/sim"
)

// FaultKind is what a fault does to its target's instances.
type FaultKind int

const (
	// FaultCrash: the instances' in-flight calls fail at once (outcome
	// error) and new calls are refused (error, at once) until they have
	// restarted: Duration, then the target's StartDelay.
	FaultCrash FaultKind = iota
	// FaultHang: the instances accept calls and never answer (callers
	// time out); when the hang ends the process is restarted and the calls
	// it held fail.
	FaultHang
	// FaultSlow: cpu work takes Factor times longer.
	FaultSlow
	// FaultError: a Fraction of the calls the instances answer become
	// errors, after the work is done (a gray failure).
	FaultError
	// FaultOutage: a crash of every instance of the target, or of one
	// database shard's nodes.
	FaultOutage
)

var faultKinds = [...]string{"crash", "hang", "slow", "error", "outage"}

func (k FaultKind) String() string { return faultKinds[k] }

// FaultKindNames lists the fault kinds, as scenarios name them.
func FaultKindNames() []string { return faultKinds[:] }

// FaultConfig is one fault: at At, for Duration, on Target (a service,
// cache or database).
type FaultConfig struct {
	Target    string
	Kind      FaultKind
	At        sim.Time
	Duration  sim.Time
	Instances int     // how many of the target's instances (the first ones); 0: all
	Factor    float64 // FaultSlow
	Fraction  float64 // FaultError
	Shard     int     // FaultOutage on a database: the shard (−1: the whole database)
	Zone      string  // FaultOutage: only the target's instances in this network zone (or in this region's zones)
	// Chaos instead of At/Duration: from At on, each instance fails after
	// an exponential time of mean MTBF and is repaired after one of mean
	// MTTR, again and again (Chaos Monkey), from the fault's own stream.
	MTBF, MTTR sim.Time
}

// FaultResult is a fault as it happened: which instances it hit and for
// how long.
type FaultResult struct {
	Target    string
	Kind      FaultKind
	At, End   sim.Time // End includes a crashed instance's restart (start_delay)
	Instances []int    // instance indexes hit
}

// faultState is what a fault does to one instance while it lasts.
type faultState struct {
	down    bool    // crashed: refuses calls
	hung    bool    // accepts, never answers
	slow    float64 // > 0: cpu × slow
	errFrac float64 // > 0: that share of answers become errors
}

// fault is the run-time state of a FaultConfig.
type fault struct {
	cfg   *FaultConfig
	st    *station
	zones []bool // a zone or region outage: the zones down, by index; nil: none
	insts []int32
	end   sim.Time
	rng   *sim.Stream   // chaos: failure and repair times
	open  []FaultResult // chaos: failures not repaired yet
}

// Fault events: Ref = fault index, Gen = 0 to begin, 1 to end.
const (
	faultBegin = 0
	faultEnd   = 1
)

// startFaults schedules every fault's beginning.
func (s *Sim) startFaults() {
	for i := range s.faults {
		s.eng.At(s.faults[i].cfg.At, opFault, int32(i), faultBegin)
	}
}

// newFaults resolves each fault's target.
func (s *Sim) newFaults(g *Graph) error {
	for i := range s.cfg.Faults {
		fc := &s.cfg.Faults[i]
		j, ok := g.index[fc.Target]
		if !ok || s.stations[j] == nil {
			return fmt.Errorf("fault %d: target %q is not a service, cache or database", i, fc.Target)
		}
		var zones []bool
		if n := s.cfg.Network; n != nil && fc.Zone != "" {
			zones = make([]bool, len(n.Zones))
			for _, z := range n.zonesOf(ZoneShare{Zone: fc.Zone}) {
				for k, name := range n.Zones {
					zones[k] = zones[k] || name == z.Zone
				}
			}
		}
		s.faults = append(s.faults, fault{cfg: fc, st: s.stations[j], zones: zones, rng: sim.NewStream(s.seed, fmt.Sprintf("fault.%d", i), "chaos")})
	}
	return nil
}

// faultEvent begins or ends fault i.
func (s *Sim) faultEvent(i int32, what uint32) {
	f := &s.faults[i]
	now := s.eng.Now()
	if what == faultBegin {
		f.insts = f.instances()
		if f.cfg.MTBF > 0 { // chaos: each instance fails on its own
			for _, id := range f.insts {
				s.eng.At(now+f.draw(f.cfg.MTBF), opChaos, i, uint32(id)<<1)
			}
			return
		}
		f.end = now + f.cfg.Duration + f.restart()
		for _, id := range f.insts {
			s.faultOn(f, id)
		}
		s.eng.At(f.end, opFault, i, faultEnd)
		return
	}
	for _, id := range f.insts {
		s.faultOff(f, id)
	}
	s.faultLog = append(s.faultLog, FaultResult{Target: f.cfg.Target, Kind: f.cfg.Kind, At: f.cfg.At, End: f.end, Instances: ints(f.insts)})
}

// chaosEvent fails instance id of chaos fault i (gen = id<<1) for an
// exponential repair time, or repairs it (gen = id<<1 | 1) and draws its
// next failure.
func (s *Sim) chaosEvent(i int32, gen uint32) {
	f := &s.faults[i]
	id, now := int32(gen>>1), s.eng.Now()
	if gen&1 == 0 {
		if f.st.insts[id].state == instGone {
			return
		}
		end := now + f.draw(f.cfg.MTTR) + f.restart()
		s.faultOn(f, id)
		f.open = append(f.open, FaultResult{Target: f.cfg.Target, Kind: f.cfg.Kind, At: now, End: end, Instances: []int{int(id)}})
		s.eng.At(end, opChaos, i, gen|1)
		return
	}
	s.faultOff(f, id)
	for k, r := range f.open {
		if r.Instances[0] == int(id) {
			s.faultLog = append(s.faultLog, r)
			f.open = append(f.open[:k], f.open[k+1:]...)
			break
		}
	}
	s.eng.At(now+f.draw(f.cfg.MTBF), opChaos, i, gen&^1)
}

// draw is an exponential time of mean m from the fault's stream.
func (f *fault) draw(m sim.Time) sim.Time {
	return sim.Time(f.rng.ExpFloat64() * float64(m))
}

// restart is the extra time a crashed instance takes to come back.
func (f *fault) restart() sim.Time {
	if f.cfg.Kind == FaultCrash || f.cfg.Kind == FaultOutage {
		return f.st.cfg.StartDelay
	}
	return 0
}

// faultOn applies fault f to instance id.
func (s *Sim) faultOn(f *fault, id int32) {
	in := &f.st.insts[id]
	switch f.cfg.Kind {
	case FaultCrash, FaultOutage:
		in.fault.down = true
		s.failCallsAt(f.st, id)
	case FaultHang:
		in.fault.hung = true
		s.parkCallsAt(f.st, id)
	case FaultSlow:
		in.fault.slow = f.cfg.Factor
	case FaultError:
		in.fault.errFrac = f.cfg.Fraction
	}
}

// faultOff ends fault f on instance id.
func (s *Sim) faultOff(f *fault, id int32) {
	in := &f.st.insts[id]
	now := s.eng.Now()
	switch f.cfg.Kind {
	case FaultCrash, FaultOutage:
		in.fault.down = false
		in.readyAt = now // restarted: cold again (warmup)
	case FaultHang:
		in.fault.hung = false
		// The stuck process is restarted: the calls it held fail.
		for in.parked.len() > 0 {
			ci := in.parked.pop()
			s.calls[ci].token++
			s.finishCall(ci, outError)
		}
		in.readyAt = now
	case FaultSlow:
		in.fault.slow = 0
	case FaultError:
		in.fault.errFrac = 0
	}
}

// instances are the fault's instances: the first Instances ready ones (all
// for an outage, or a database shard's nodes).
func (f *fault) instances() []int32 {
	st := f.st
	if f.cfg.Kind == FaultOutage && f.cfg.Shard >= 0 {
		if d, ok := st.hook.(*database); ok {
			var out []int32
			for k := 0; k < d.perShard; k++ {
				out = append(out, int32(f.cfg.Shard*d.perShard+k))
			}
			return out
		}
	}
	if f.zones != nil { // a zone outage: the instances in the zone
		var out []int32
		for _, id := range st.ready {
			if z := st.zoneOf(id); z >= 0 && f.zones[z] {
				out = append(out, id)
			}
		}
		return out
	}
	n := f.cfg.Instances
	if n <= 0 || f.cfg.Kind == FaultOutage || n > len(st.ready) {
		n = len(st.ready)
	}
	out := append([]int32(nil), st.ready[:n]...)
	return out
}

func ints(xs []int32) []int {
	out := make([]int, len(xs))
	for i, x := range xs {
		out[i] = int(x)
	}
	return out
}

// callsAt lists the live calls at instance id of st: admitted, queued, in
// cpu, sleeping or waiting for their own calls. Faults are rare, so a scan
// of the call slab is fine.
func (s *Sim) callsAt(st *station, id int32) []int32 {
	var out []int32
	for ci := range s.calls {
		c := &s.calls[ci]
		if c.serial != 0 && c.at == st.idx && c.inst == id {
			out = append(out, int32(ci))
		}
	}
	return out
}

// releaseInstance takes every call at instance id off its queues and cores,
// so that they can be failed or parked: waiting counts and busy cores are
// given back.
func (s *Sim) releaseInstance(st *station, id int32) []int32 {
	now := s.eng.Now()
	in := &st.insts[id]
	for in.admitQ.len() > 0 {
		in.admitQ.pop()
		st.wait(id, now, -1)
	}
	for in.cpuQ.len() > 0 {
		in.cpuQ.pop()
		st.wait(id, now, -1)
	}
	if in.busy > 0 {
		st.busy.Add(now, -int64(in.busy))
		if st.perInstance {
			st.metricsOf(id).busy.Add(now, -int64(in.busy))
		}
		if st.zoneBusy != nil {
			st.zoneBusy[st.zoneOf(id)].Add(now, -int64(in.busy))
		}
		in.busy = 0
	}
	calls := s.callsAt(st, id)
	for _, ci := range calls {
		s.calls[ci].token++ // its pending events (cpu, sleep, timeouts) go stale
	}
	return calls
}

// failCallsAt fails every call at a crashed instance.
func (s *Sim) failCallsAt(st *station, id int32) {
	calls := s.releaseInstance(st, id)
	serials := make([]uint32, len(calls))
	for k, ci := range calls {
		serials[k] = s.calls[ci].serial
	}
	for k, ci := range calls {
		if s.calls[ci].serial == serials[k] { // still the same call: not freed by an earlier failure's cascade
			s.finishCall(ci, outError)
		}
	}
}

// parkCallsAt holds every call at a hung instance until the hang ends.
func (s *Sim) parkCallsAt(st *station, id int32) {
	in := &st.insts[id]
	for _, ci := range s.releaseInstance(st, id) {
		in.parked.push(ci)
	}
}
