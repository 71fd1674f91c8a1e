package model

import (
	"errors"
	"math"
	"slices"

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
	stop     sim.Time // 0: none
	timer    int      // engine timer slot for arrivals, or -1: use the queue
	closed   bool     // virtual users loop (closed model)
	// corrected is, for closed models with a pacing, the latency a user
	// arriving on schedule would have seen (see recordCorrected).
	corrected *sim.Histogram
	pacing    sim.Time
	running   int64 // closed model: VUs running
	arr       arrivals
	stats     trafficStats

	rngArr, rngMix, rngKeys, rngThink *sim.Stream
}

// arrivals generates a source's arrival times in order.
type arrivals interface {
	// next returns the next arrival time, or false when there are no more.
	next(rng *sim.Stream) (sim.Time, bool)
}

func newSource(s *Sim, c *TrafficConfig, idx, to int32, eps []int32, seed uint64) (*source, error) {
	src := &source{
		cfg: c, idx: idx, to: to, keys: c.Keys, stop: c.Stop, timer: s.eng.NewTimer(),
		closed:   c.VUs > 0 || len(c.VUStages) > 0,
		rngArr:   sim.NewStream(seed, c.Name, "arrivals"),
		rngMix:   sim.NewStream(seed, c.Name, "mix"),
		rngKeys:  sim.NewStream(seed, c.Name, "keys"),
		rngThink: sim.NewStream(seed, c.Name, "think"),
		stats:    newTrafficStats(),
	}
	src.eps = append(src.eps, eps...)
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
	if src.closed {
		src.pacing = c.Pacing
		if src.pacing == 0 && c.Think != nil {
			src.pacing = sim.Time(c.Think.Mean())
		}
		if src.pacing > 0 {
			src.corrected = sim.NewHistogram()
		}
	}
	var err error
	src.arr, err = newArrivals(c, s.cfg.Duration)
	return src, err
}

func newArrivals(c *TrafficConfig, runEnd sim.Time) (arrivals, error) {
	end := runEnd
	if c.Stop > 0 && c.Stop < end {
		end = c.Stop
	}
	switch {
	case len(c.Inject) > 0:
		return &chainArrivals{c: c, t: c.Start}, nil
	case c.VUs > 0 || len(c.VUStages) > 0:
		return newVUStarts(c), nil
	case c.Trace != nil && c.TraceCounts:
		return newCountArrivals(c)
	case c.Trace != nil:
		return newTraceArrivals(c)
	case c.Users > 0:
		return newUserArrivals(c), nil
	case c.Diurnal != nil || c.Flash != nil:
		return newRateArrivals(profileSegments(c, end), c.Uniform), nil
	case len(c.Stages) > 0:
		segs := make([]segment, 0, len(c.Stages))
		t, r := c.Start, c.StartRate
		for _, st := range c.Stages {
			segs = append(segs, segment{start: t, length: st.Duration, r0: r, r1: st.Target})
			t += st.Duration
			r = st.Target
		}
		return newRateArrivals(segs, c.Uniform), nil
	case c.Rate > 0:
		return newRateArrivals([]segment{{start: c.Start, length: end - c.Start, r0: c.Rate, r1: c.Rate}}, c.Uniform), nil
	}
	return nil, errors.New("no arrivals: set rate, stages or users")
}

// segment is a period over which the arrival rate ramps linearly from r0 to
// r1 (per second).
type segment struct {
	start, length sim.Time
	r0, r1        float64
	cum0          float64 // expected arrivals before the segment
}

// expected is the expected number of arrivals in the whole segment.
func (g *segment) expected() float64 {
	return g.length.Seconds() * (g.r0 + g.r1) / 2
}

// rateArrivals inverts the cumulative rate Λ(t): the i-th arrival is at
// Λ⁻¹(cᵢ), with cᵢ = i for evenly spaced arrivals (k6's arrival-rate
// executors: iteration i starts when the integral of the rate reaches i) or
// cᵢ a sum of unit exponentials for a (non-homogeneous) Poisson process —
// exact, with no thinning.
type rateArrivals struct {
	segs    []segment
	seg     int
	c       float64
	uniform bool
	started bool
}

func newRateArrivals(segs []segment, uniform bool) *rateArrivals {
	var cum float64
	for i := range segs {
		segs[i].cum0 = cum
		cum += segs[i].expected()
	}
	return &rateArrivals{segs: segs, uniform: uniform}
}

func (a *rateArrivals) next(rng *sim.Stream) (sim.Time, bool) {
	if a.uniform {
		if a.started {
			a.c++
		}
		a.started = true
	} else {
		a.c += rng.ExpFloat64()
	}
	for a.seg < len(a.segs) {
		g := &a.segs[a.seg]
		x := a.c - g.cum0
		if x <= g.expected() && g.length > 0 && (g.r0 > 0 || g.r1 > 0) {
			T := g.length.Seconds()
			var t float64
			if g.r0 == g.r1 {
				t = x / g.r0 // a constant rate: the quadratic below with slope 0, without its square root
			} else {
				slope := (g.r1 - g.r0) / T
				// Solve r0·t + slope·t²/2 = x in the stable form.
				disc := float64(g.r0*g.r0) + float64(2*slope*x) // float64(): no fused multiply-add (see docs/results.md)
				if disc < 0 {
					disc = 0
				}
				t = 2 * x / (g.r0 + math.Sqrt(disc))
			}
			if t > T {
				t = T
			}
			at := g.start + sim.FromSeconds(t)
			if at >= g.start+g.length {
				a.seg++ // rounding put it at the segment's end: next segment
				continue
			}
			return at, true
		}
		a.seg++
	}
	return 0, false
}

// userArrivals are the arrival times of a fixed number of users.
type userArrivals struct {
	n, i   int64
	start  sim.Time
	over   sim.Time
	shape  Shape
	u      float64 // last order statistic (ShapePoisson)
	t0, hk float64 // heaviside constants
}

func newUserArrivals(c *TrafficConfig) *userArrivals {
	a := &userArrivals{n: c.Users, start: c.Start, over: c.Over, shape: c.Shape}
	if a.over <= 0 {
		a.shape = ShapeAtOnce
	}
	if a.shape == ShapeHeaviside {
		// Gatling's HeavisideOpenInjection: user i (1-based) arrives at
		// k·(erfinv(2i/(n+2) − 1) + t0), t0 = |erfinv(2/(n+2) − 1)|,
		// k = over/(2·t0).
		a.t0 = math.Abs(math.Erfinv(2/float64(a.n+2) - 1))
		a.hk = float64(a.over) / (2 * a.t0)
	}
	return a
}

func (a *userArrivals) next(rng *sim.Stream) (sim.Time, bool) {
	if a.i >= a.n {
		return 0, false
	}
	i := a.i
	a.i++
	switch a.shape {
	case ShapeLinear:
		// Gatling's rampUsers: evenly spaced, the first at the start.
		return a.start + sim.Time(float64(a.over)*float64(i)/float64(a.n)), true
	case ShapeHeaviside:
		x := float64(i+1) / float64(a.n+2)
		t := a.hk * (math.Erfinv(float64(2*x)-1) + a.t0)
		return a.start + sim.Time(t), true
	case ShapePoisson:
		// Sequential uniform order statistics: U(i) = 1 − (1 − U(i−1))·V^(1/(n−i)).
		a.u = 1 - float64((1-a.u)*math.Pow(rng.Float64(), 1/float64(a.n-i)))
		return a.start + sim.Time(a.u*float64(a.over)), true
	}
	return a.start, true // at once
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
	if m, ok := src.cfg.EndpointMap[name]; ok {
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
	if src.running > src.vuTarget(now) || (src.stop > 0 && now >= src.stop) {
		src.retire(now)
		return
	}
	at := now
	if src.cfg.Think != nil {
		think := src.cfg.Think.Sample(src.rngThink)
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

// vuTarget is how many VUs the source wants at t.
func (src *source) vuTarget(t sim.Time) int64 {
	c := src.cfg
	if len(c.VUStages) == 0 {
		return c.VUs
	}
	v, t0 := float64(c.VUs), c.Start
	for _, st := range c.VUStages {
		if t < t0+st.Duration {
			f := float64(t-t0) / float64(st.Duration)
			return int64(math.Floor(v + f*(st.Target-v)))
		}
		v, t0 = st.Target, t0+st.Duration
	}
	return int64(v)
}

// vuStarts are the times virtual users start: VUs at the source's start,
// then, during ramps up, the k-th more when the linear ramp reaches k (as
// k6's ramping-vus executor does).
type vuStarts struct {
	c     *TrafficConfig
	n     int64 // VUs started
	stage int
	t0    sim.Time
	v0    float64
}

func newVUStarts(c *TrafficConfig) *vuStarts {
	return &vuStarts{c: c, t0: c.Start, v0: float64(c.VUs)}
}

func (a *vuStarts) next(*sim.Stream) (sim.Time, bool) {
	if a.n < a.c.VUs {
		a.n++
		return a.c.Start, true
	}
	for a.stage < len(a.c.VUStages) {
		st := a.c.VUStages[a.stage]
		k := float64(a.n + 1)
		if st.Target > a.v0 && k <= st.Target {
			a.n++
			return a.t0 + sim.Time(float64(st.Duration)*(k-a.v0)/(st.Target-a.v0)), true
		}
		a.t0 += st.Duration
		a.v0 = st.Target
		a.n = min(a.n, int64(st.Target)) // after a ramp down, later ramps start new VUs again
		a.stage++
	}
	return 0, false
}

// retire ends a virtual user.
func (src *source) retire(now sim.Time) {
	src.running--
	src.stats.vus.Add(now, -1)
}

// profileSegments turns a rate profile with a daily cycle or a flash crowd
// into linear segments from the source's start to end: exact at the
// profile's corners (stage ends, the flash crowd's phases), and every
// minute (or 1/1440 of the period, if shorter) along a daily cycle, where
// the chord's rate is within 10⁻⁶ of the sinusoid's.
func profileSegments(c *TrafficConfig, end sim.Time) []segment {
	rate := func(t sim.Time) float64 {
		var r float64
		switch {
		case c.Diurnal != nil:
			d := c.Diurnal
			mid, amp := (d.Peak+d.Trough)/2, (d.Peak-d.Trough)/2
			r = mid + amp*math.Cos(2*math.Pi*float64(t-d.PeakAt)/float64(d.Period))
		case len(c.Stages) > 0:
			v, t0 := c.StartRate, c.Start
			r = v
			for _, st := range c.Stages {
				if t < t0+st.Duration {
					r = v + float64(t-t0)/float64(st.Duration)*(st.Target-v)
					break
				}
				v, t0, r = st.Target, t0+st.Duration, 0 // after the last stage: none
			}
		default:
			r = c.Rate
		}
		if f := c.Flash; f != nil {
			switch dt := t - f.At; {
			case dt < 0:
			case dt < f.Rise:
				r += f.Peak * float64(dt) / float64(max(f.Rise, 1))
			case dt < f.Rise+f.Hold:
				r += f.Peak
			case dt < f.Rise+f.Hold+f.Decay:
				r += f.Peak * (1 - float64(dt-f.Rise-f.Hold)/float64(max(f.Decay, 1)))
			}
		}
		return math.Max(r, 0)
	}
	points := []sim.Time{c.Start, end}
	if f := c.Flash; f != nil {
		points = append(points, f.At, f.At+f.Rise, f.At+f.Rise+f.Hold, f.At+f.Rise+f.Hold+f.Decay)
	}
	t := c.Start
	for _, st := range c.Stages {
		t += st.Duration
		points = append(points, t)
	}
	if d := c.Diurnal; d != nil {
		step := min(sim.Minute, max(d.Period/1440, sim.Second))
		for t := c.Start + step; t < end; t += step {
			points = append(points, t)
		}
	}
	slices.Sort(points)
	var segs []segment
	for i := 0; i+1 < len(points); i++ {
		a, b := points[i], points[i+1]
		if a < c.Start || b > end || b <= a {
			continue
		}
		// The value just inside each end, so that jumps at corners (a
		// stage's end) belong to the right segment.
		segs = append(segs, segment{start: a, length: b - a, r0: rate(a), r1: rate(b - 1)})
	}
	return segs
}

// chainArrivals runs Gatling injection steps one after the other, each
// starting where the previous one's duration ends.
type chainArrivals struct {
	c    *TrafficConfig
	i    int      // next step
	t    sim.Time // start of the next step
	step arrivals
}

func (a *chainArrivals) next(rng *sim.Stream) (sim.Time, bool) {
	for {
		if a.step != nil {
			if at, ok := a.step.next(rng); ok {
				return at, true
			}
			a.step = nil
		}
		if a.i >= len(a.c.Inject) {
			return 0, false
		}
		st := a.c.Inject[a.i]
		a.i++
		start := a.t
		a.t += st.Over
		switch st.Kind {
		case "at_once":
			a.step = newUserArrivals(&TrafficConfig{Users: st.Users, Start: start, Shape: ShapeAtOnce})
		case "ramp":
			a.step = newUserArrivals(&TrafficConfig{Users: st.Users, Start: start, Over: st.Over, Shape: ShapeLinear})
		case "heaviside":
			a.step = newUserArrivals(&TrafficConfig{Users: st.Users, Start: start, Over: st.Over, Shape: ShapeHeaviside})
		case "constant":
			a.step = newRateArrivals([]segment{{start: start, length: st.Over, r0: st.Rate, r1: st.Rate}}, !st.Random)
		case "ramp_rate":
			a.step = newRateArrivals([]segment{{start: start, length: st.Over, r0: st.Rate, r1: st.To}}, !st.Random)
		}
	}
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
