package model

import "github.com/capsim/capsim/sim"

// churnWindow is how young a removed instance must be for its cost to count
// as churn: capacity paid for and removed again within 10 minutes.
const churnWindow = 10 * sim.Minute

// instanceMetrics is what a metrics pipeline can observe of one instance.
type instanceMetrics struct {
	busy     sim.Level // cores in use
	load     sim.Level // requests at the instance
	waiting  sim.Level // requests waiting for admission or a core
	arrivals int64

	// At the last scrape.
	lastAt       sim.Time
	lastBusy     sim.Int128
	lastLoad     sim.Int128
	lastArrivals int64

	samples   [MetricCount]float64 // the latest sample of each metric
	sampledAt sim.Time
	hasSample bool
}

func (m *instanceMetrics) arrive(now sim.Time, d int64) {
	m.load.Add(now, d)
	if d > 0 {
		m.arrivals++
	}
}

// Decision is one autoscaler decision, with the reason string the real
// controller would give.
type Decision struct {
	At        sim.Time
	Component string
	Policy    string
	From, To  int
	Reason    string
}

// fleet is a service's instance bookkeeping: how many are asked for, ready
// and billed, its autoscaler, and the thrashing statistics.
type fleet struct {
	replicas int // instances asked for: starting + ready
	scaler   Scaler
	as       *AutoscaleConfig
	min, max int // current bounds (scheduled actions change them)

	replicaLvl sim.Level // replicas over time
	readyCores sim.Level // cores of ready instances (the utilisation denominator)
	billed     sim.Level // instances billed: starting, ready or draining
	// billedAtStart is the billed area when the measured period began.
	billedAtStart sim.Int128

	minSeen, maxSeen int
	scaleEvents      int
	reversals        int
	variation        int
	lastDir          int
	lastChange       sim.Time
	churn            sim.Time // instance-time of instances removed within churnWindow
}

func (f *fleet) init(s *station) {
	n := s.cfg.Instances
	if a := s.cfg.Autoscale; a != nil {
		f.as, f.scaler = a, a.New()
		f.min, f.max = a.Min, a.Max
		n = min(max(n, a.Min), a.Max)
	}
	pooled := s.cfg.NodePool != ""
	for i := 0; i < n; i++ {
		if pooled { // Pending until the pool binds it at the start
			s.insts = append(s.insts, instance{state: instStarting, pos: -1})
			continue
		}
		// The initial fleet is up, warm and past initialisation.
		s.insts = append(s.insts, instance{state: instReady, created: 0, readyAt: -sim.Hour})
		s.pushReady(int32(i))
	}
	f.replicas = n
	f.replicaLvl.Add(0, int64(n))
	if !pooled {
		for i := 0; i < n; i++ {
			s.readyCoresChange(int32(i), 0, 1)
		}
	}
	f.billed.Add(0, int64(n))
	f.minSeen, f.maxSeen = n, n
}

func (f *fleet) resetStats(now sim.Time) {
	f.replicaLvl.ResetRun(now)
	f.readyCores.ResetRun(now)
	f.billed.ResetRun(now)
	f.billedAtStart = f.billed.Area(now)
	f.minSeen, f.maxSeen = f.replicas, f.replicas
	f.scaleEvents, f.reversals, f.variation, f.churn = 0, 0, 0, 0
}

// start schedules the metric scrapes and controller syncs. Syncs run half a
// sync period after scrapes, so the controller acts on metrics that are on
// average as old as in production, not on the instant's truth.
func (f *fleet) start(sm *Sim, s *station) {
	if f.as == nil {
		return
	}
	sm.eng.At(f.as.Scrape, opScrape, s.idx, 0)
	sm.eng.At(f.as.Sync+f.as.Sync/2, opSync, s.idx, 0)
	for i, a := range f.as.Schedule {
		sm.eng.At(a.At, opSchedule, s.idx, uint32(i))
	}
}

// scheduled applies scheduled action i.
func (f *fleet) scheduled(sm *Sim, s *station, i int) {
	a := f.as.Schedule[i]
	now := sm.eng.Now()
	if a.Min > 0 {
		f.min = a.Min
	}
	if a.Max > 0 {
		f.max = a.Max
	}
	f.max = max(f.max, f.min)
	desired := f.replicas
	if a.Instances > 0 {
		desired = a.Instances
	}
	desired = min(max(desired, f.min), f.max)
	sm.decisions = append(sm.decisions, Decision{At: now, Component: s.name, Policy: f.as.Policy, From: f.replicas, To: desired, Reason: "ScheduledAction"})
	if desired != f.replicas {
		f.scale(sm, s, desired, now)
	}
}

// scrape takes one metric sample of every ready instance, averaged over the
// time since the previous scrape (or since it became ready).
func (f *fleet) scrape(sm *Sim, s *station) {
	now := sm.eng.Now()
	for i := range s.insts {
		in := &s.insts[i]
		if in.state != instReady {
			continue
		}
		m := s.metricsOf(int32(i))
		busy, load := m.busy.Area(now), m.load.Area(now)
		if from := max(m.lastAt, in.readyAt); now > from {
			span := float64(now - from)
			m.samples[MetricCPU] = busy.Sub(m.lastBusy).Float64() / span / float64(s.cores)
			m.samples[MetricConcurrency] = load.Sub(m.lastLoad).Float64() / span
			m.samples[MetricRPS] = float64(m.arrivals-m.lastArrivals) / (span / float64(sim.Second))
			m.sampledAt, m.hasSample = now, true
		}
		m.lastAt, m.lastBusy, m.lastLoad, m.lastArrivals = now, busy, load, m.arrivals
	}
	sm.eng.At(now+f.as.Scrape, opScrape, s.idx, 0)
}

// sync runs one controller decision and applies it.
func (f *fleet) sync(sm *Sim, s *station) {
	now := sm.eng.Now()
	v := ScaleView{Current: f.replicas, Min: f.min, Max: f.max}
	if f.as.Queue != "" {
		if q, ok := sm.comps[sm.graph.index[f.as.Queue]].(*queue); ok {
			// Kafka's lag: messages not yet committed, so waiting, held for
			// redelivery or being processed.
			v.External, v.Partitions = float64(q.lag.Value()+int64(len(q.held))+q.inFlight), len(q.parts)
		}
	}
	for i := range s.insts {
		in := &s.insts[i]
		if in.state != instStarting && in.state != instReady {
			continue
		}
		m := s.metricsOf(int32(i))
		v.Pods = append(v.Pods, PodState{
			Ready: in.state == instReady, Started: in.readyAt,
			HasSample: m.hasSample, Value: m.samples[f.as.Metric], Values: m.samples,
			SampledAt: m.sampledAt, Window: f.as.Scrape, CoresMilli: int64(s.cores) * 1000,
		})
	}
	desired, reason := f.scaler.Decide(now, v)
	desired = min(max(desired, f.min), f.max) // a policy can never leave [min, max]
	if desired != f.replicas || reason != "" {
		sm.decisions = append(sm.decisions, Decision{At: now, Component: s.name, Policy: f.as.Policy, From: f.replicas, To: desired, Reason: reason})
	}
	if desired != f.replicas {
		f.scale(sm, s, desired, now)
	}
	sm.eng.At(now+f.as.Sync, opSync, s.idx, 0)
}

// scale asks for desired instances: new ones start (and are billed) now and
// take requests after the start delay; removed ones are the newest, those
// still starting first, and drain.
func (f *fleet) scale(sm *Sim, s *station, desired int, now sim.Time) {
	delta := desired - f.replicas
	dir := 1
	if delta < 0 {
		dir = -1
	}
	f.scaleEvents++
	f.variation += delta * dir
	if f.lastDir != 0 && dir != f.lastDir && now-f.lastChange <= churnWindow {
		f.reversals++
	}
	f.lastDir, f.lastChange = dir, now
	f.replicas = desired
	f.replicaLvl.Add(now, int64(delta))
	f.minSeen, f.maxSeen = min(f.minSeen, desired), max(f.maxSeen, desired)

	for ; delta > 0; delta-- {
		s.insts = append(s.insts, instance{state: instStarting, created: now, pos: -1})
		id := int32(len(s.insts) - 1)
		f.billed.Add(now, 1)
		if s.pool != nil {
			s.pool.place(sm, s, id) // on a node with room, or Pending
		} else {
			f.starting(sm, s, id, now)
		}
	}
	for i := len(s.insts) - 1; i >= 0 && delta < 0; i-- { // starting ones first
		if in := &s.insts[i]; in.state == instStarting {
			f.retire(sm, s, int32(i), now)
			delta++
		}
	}
	left := false
	for delta < 0 && len(s.ready) > 0 { // then the newest ready ones
		left = true
		id := s.popReady()
		s.readyCoresChange(id, now, -1)
		in := &s.insts[id]
		in.state = instDraining
		if in.load == 0 {
			f.retire(sm, s, id, now)
		}
		delta++
	}
	if left {
		for _, q := range s.queues {
			q.membersChanged(sm)
		}
	}
}

// evict ends pod id on its node: it drains (finishes what it has, takes
// nothing new), and a replacement starts on a node with room — the
// replica count stays.
func (f *fleet) evict(sm *Sim, s *station, id int32, now sim.Time) {
	in := &s.insts[id]
	wasReady := in.state == instReady
	if wasReady {
		s.removeReady(id)
		s.readyCoresChange(id, now, -1)
	}
	in.state = instDraining
	if in.load == 0 {
		f.retire(sm, s, id, now)
	}
	s.insts = append(s.insts, instance{state: instStarting, created: now, pos: -1})
	nid := int32(len(s.insts) - 1)
	f.billed.Add(now, 1)
	s.pool.place(sm, s, nid)
	if wasReady {
		for _, q := range s.queues {
			q.membersChanged(sm)
		}
	}
}

// starting starts instance id: it is ready after the start delay.
func (f *fleet) starting(sm *Sim, s *station, id int32, now sim.Time) {
	if s.cfg.StartDelay > 0 {
		sm.eng.At(now+s.cfg.StartDelay, opReady, id, uint32(s.idx))
	} else {
		f.makeReady(sm, s, id, now)
	}
}

// makeReady lets a started instance take requests.
func (f *fleet) makeReady(sm *Sim, s *station, id int32, now sim.Time) {
	in := &s.insts[id]
	if in.state != instStarting {
		return // removed while starting
	}
	in.state, in.readyAt = instReady, now
	s.pushReady(id)
	for _, b := range s.watchers {
		b.watch(sm, id, now)
	}
	for _, q := range s.queues {
		q.membersChanged(sm)
	}
	s.readyCoresChange(id, now, 1)
	if s.perInstance { // its first scrape covers the time since now
		m := s.metricsOf(id)
		m.lastAt, m.lastBusy, m.lastLoad, m.lastArrivals = now, m.busy.Area(now), m.load.Area(now), m.arrivals
	}
}

// retire ends an instance's life (and its bill).
func (f *fleet) retire(sm *Sim, s *station, id int32, now sim.Time) {
	in := &s.insts[id]
	in.state = instGone
	f.billed.Add(now, -1)
	if s.pool != nil {
		s.pool.unbind(sm, s, id)
	}
	if life := now - in.created; life < churnWindow && in.created > 0 {
		f.churn += life
	}
}
