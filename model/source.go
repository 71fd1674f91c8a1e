package model

import (
	"errors"

	"github.com/capsim/capsim/model/dist"
	"github.com/capsim/capsim/sim"
)

// source is the run-time state of a TrafficConfig.
type source struct {
	cfg *TrafficConfig
	idx int32
	to  int32   // the component it sends to
	eps []int32 // resolved endpoint per mix entry, session step, or the single endpoint
	// Traces: endpoint name → index into eps (rows naming no known endpoint
	// use eps[0], the source's endpoint).
	traceEPs map[string]int32
	mix      []float64 // cumulative mix weights, normalised
	keys     dist.Keys
	stop     sim.Time   // 0: none
	timer    int        // engine timer slot for arrivals, or -1: use the queue
	closed   bool       // virtual users loop (closed model)
	vu       *VUProcess // the closed model, if closed
	// corrected is, for closed models with a pacing, the latency a user
	// arriving on schedule would have seen (see recordCorrected).
	corrected *sim.Histogram
	pacing    sim.Time
	running   int64 // closed model: VUs running
	arr       arrivals
	stats     trafficStats

	rngArr, rngMix, rngKeys, rngThink *sim.Stream
	// Client zones: cumulative shares and their network zone indices, and
	// the shares by zone index (for zone-aware routing).
	zoneCum []float64
	zoneIdx []int8
	zoneShr []float64
	rngZone *sim.Stream
}

// zone draws a request's client zone, or −1.
func (src *source) zone() int8 {
	if len(src.zoneCum) == 0 {
		return -1
	}
	u := src.rngZone.Float64()
	for k, c := range src.zoneCum {
		if u < c {
			return src.zoneIdx[k]
		}
	}
	return src.zoneIdx[len(src.zoneIdx)-1]
}

func newSource(s *Sim, c *TrafficConfig, idx, to int32, eps []int32, seed uint64) (*source, error) {
	src := &source{
		cfg: c, idx: idx, to: to, keys: c.Keys, stop: c.Stop, timer: s.eng.NewTimer(),

		rngArr:   sim.NewStream(seed, c.Name, "arrivals"),
		rngMix:   sim.NewStream(seed, c.Name, "mix"),
		rngKeys:  sim.NewStream(seed, c.Name, "keys"),
		rngThink: sim.NewStream(seed, c.Name, "think"),
		stats:    newTrafficStats(),
	}
	src.eps = append(src.eps, eps...)
	if n := s.cfg.Network; n != nil && len(c.Zones) > 0 {
		src.rngZone = sim.NewStream(seed, c.Name, "zone")
		src.zoneShr = make([]float64, maxZones)
		var total, cum float64
		var zones []ZoneShare
		for _, z := range c.Zones {
			total += z.Share
			zones = append(zones, n.zonesOf(z)...)
		}
		for _, z := range zones {
			for k, name := range n.Zones {
				if name == z.Zone {
					cum += z.Share / total
					src.zoneCum = append(src.zoneCum, cum)
					src.zoneIdx = append(src.zoneIdx, int8(k))
					src.zoneShr[k] += z.Share / total
				}
			}
		}
		if len(src.zoneCum) > 0 {
			src.zoneCum[len(src.zoneCum)-1] = 1
		}
	}
	if len(c.Mix) > 0 && len(c.Session) == 0 {
		var total float64
		for _, m := range c.Mix {
			total += m.Weight
		}
		var cum float64
		for _, m := range c.Mix {
			cum += m.Weight / total
			src.mix = append(src.mix, cum)
		}
		src.mix[len(src.mix)-1] = 1
	}
	if vu, ok := c.Arrivals.(*VUProcess); ok {
		src.vu, src.closed = vu, true
		src.pacing = vu.Pacing
		if src.pacing == 0 && vu.Think != nil {
			src.pacing = sim.Time(vu.Think.Mean())
		}
		if src.pacing > 0 {
			src.corrected = sim.NewHistogram()
		}
	}
	if c.Arrivals == nil {
		return nil, errors.New("no arrivals: set rate, stages or users")
	}
	end := s.cfg.Duration
	if c.Stop > 0 && c.Stop < end {
		end = c.Stop
	}
	var err error
	src.arr, err = c.Arrivals.arrivals(c.Start, end)
	return src, err
}

// scheduleNext schedules the source's next arrival, if any.
func (src *source) scheduleNext(s *Sim) {
	t, ok := src.arr.next(src.rngArr)
	if !ok || t >= s.cfg.Duration || (src.stop > 0 && t >= src.stop) {
		return
	}
	if now := s.eng.Now(); t < now {
		t = now
	}
	if src.timer >= 0 {
		s.eng.SetTimer(src.timer, t, opArrive, src.idx, 0)
		return
	}
	s.eng.At(t, opArrive, src.idx, 0)
}

// pickEndpoint draws the endpoint of a request from the mix (index 0
// without one).
func (src *source) pickEndpoint() int32 {
	var ep int32
	if len(src.mix) > 0 {
		u := src.rngMix.Float64()
		for int(ep) < len(src.mix)-1 && u >= src.mix[ep] {
			ep++
		}
	}
	return ep
}

// arrive starts the request of one arrival (for a closed model, a virtual
// user's first iteration) and schedules the next.
func (src *source) arrive(s *Sim) {
	if src.closed {
		src.running++
		src.stats.vus.Add(s.eng.Now(), 1)
	}
	ep := src.pickEndpoint()
	tr, isTrace := src.arr.(*traceArrivals)
	if isTrace {
		ep = src.traceEndpoint(s, tr.endpoint)
	}
	ri := s.newRequest(src, ep, 0, s.eng.Now())
	if isTrace && tr.key != 0 {
		s.reqs[ri].key = tr.key
	}
	s.startRequest(ri)
	src.scheduleNext(s)
}

// traceEndpoint maps a trace row's endpoint (through EndpointMap, if it
// names it) to an index into eps, resolving each distinct name once. Rows
// whose endpoint the target does not have use the source's endpoint.
func (src *source) traceEndpoint(s *Sim, name string) int32 {
	if name == "" {
		return 0
	}
	if i, ok := src.traceEPs[name]; ok {
		return i
	}
	if src.traceEPs == nil {
		src.traceEPs = map[string]int32{}
	}
	target := name
	if m, ok := src.arr.(*traceArrivals).cfg.EndpointMap[name]; ok {
		target = m
	}
	i := int32(0)
	if idx, err := s.graph.Endpoint(int(src.to), target, "", false); err == nil && s.graph.eps[s.graph.Station(int(src.to))][idx].Name == target {
		src.eps = append(src.eps, int32(idx))
		i = int32(len(src.eps) - 1)
	}
	src.traceEPs[name] = i
	return i
}

// traceError is the error a trace reader met, if any.
func (src *source) traceError() error {
	switch a := src.arr.(type) {
	case *traceArrivals:
		return a.err
	case *countArrivals:
		return a.err
	}
	return nil
}

// closeTrace releases the source's trace reader, if it has one.
func (src *source) closeTrace() {
	switch a := src.arr.(type) {
	case *traceArrivals:
		a.r.Close()
	case *countArrivals:
		a.r.Close()
	}
}

// iterationDone moves a virtual user on after its iteration ended: it
// retires when the ramp wants fewer VUs (or the source has stopped), else
// it thinks and starts its next iteration.
func (s *Sim) iterationDone(src *source, now sim.Time) {
	if src.running > src.vu.target(src.cfg.Start, now) || (src.stop > 0 && now >= src.stop) {
		src.retire(now)
		return
	}
	at := now
	if src.vu.Think != nil {
		think := src.vu.Think.Sample(src.rngThink)
		at += think
		if now >= s.cfg.Warmup {
			src.stats.thinks++
			src.stats.thinkSum.Add(int64(think))
		}
	}
	if src.stop > 0 && at >= src.stop {
		src.retire(now)
		return
	}
	ep := src.pickEndpoint()
	nr := s.newRequest(src, ep, 0, at)
	s.eng.At(at, opStart, nr, 0)
}

// retire ends a virtual user.
func (src *source) retire(now sim.Time) {
	src.running--
	src.stats.vus.Add(now, -1)
}

// maxCorrections bounds the synthetic samples one request adds.
const maxCorrections = 10_000

// recordCorrected records a closed-loop latency corrected for coordinated
// omission, as HdrHistogram's recordValueWithExpectedInterval does: a
// virtual user stuck for R on one request did not send the requests it
// would have sent every pacing interval E meanwhile, and users arriving then
// would have waited R − E, R − 2E, …; those samples are added.
func (src *source) recordCorrected(r sim.Time) {
	src.corrected.Record(r)
	e := src.pacing
	for v, n := r-e, 0; v >= e && n < maxCorrections; v, n = v-e, n+1 {
		src.corrected.Record(v)
	}
}
