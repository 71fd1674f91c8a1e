package model

import "github.com/capsim/capsim/sim"

// component is the run-time state of one ComponentConfig. The Sim keeps its
// components in one slice, in Config order; a call's target is an index
// into it. Per-event work (cpu, sleep, timeouts) never goes through this
// interface: it runs on the component's station (see station.go), reached
// by index. The interface is called once per call at most, and for the
// run's bookkeeping.
type component interface {
	base() *compBase
	// receive takes call ci, which has just arrived: it picks where the
	// call runs, or passes it on (a balancer).
	receive(s *Sim, ci int32)
	// start schedules the component's own events at the start of a run
	// (autoscaler scrapes and syncs).
	start(s *Sim)
	// resetStats starts the statistics afresh when the warm-up ends.
	resetStats(now sim.Time)
	// closeWindow is the component's part of the time-series row ending
	// now.
	closeWindow(now sim.Time) ComponentWindow
	// result is the component's outcome over the measured period.
	result(now, measuredFrom sim.Time) ComponentResult
	// costSoFar is what the component has cost from the start of the run
	// to now, in US dollars.
	costSoFar(now sim.Time) float64
}

// compBase is what every component has: its identity and the statistics
// of the calls that pass through it.
type compBase struct {
	name  string
	kind  Kind
	idx   int32
	stats componentStats
}

func (b *compBase) base() *compBase { return b }

func newBase(c ComponentConfig, idx int32) compBase {
	return compBase{name: c.ComponentName(), kind: c.Kind(), idx: idx, stats: newComponentStats()}
}

// builder hands a component what it needs to build itself: the seed for its
// random streams, its index, and the resolved call graph.
type builder struct {
	seed  uint64
	idx   int32
	graph *Graph
	sim   *Sim
}

// componentStats are the statistics every component keeps.
type componentStats struct {
	inSystem   sim.Level // calls present (Little's L)
	waiting    sim.Level // calls waiting for admission or a core
	lat        *sim.Histogram
	winLat     *sim.Histogram
	arrivals   int64
	departures int64
	rejected   int64
	sojourn    sim.Int128 // time in the component (since start) of departed calls, ns
	presentAt  sim.Int128 // sum of the arrival times (clipped to start) of calls present
	start      sim.Time   // start of the measured period
	winRej     int64
	split      timeSplit
}

// timeSplit sums where the time of the calls answered ok (measured) went.
type timeSplit struct {
	calls                    int64
	sojourn, slot, core, cpu sim.Int128
	hopped                   int64 // calls that came over the network
	net                      sim.Int128
}

func (t *timeSplit) add(c *call, now sim.Time) {
	t.calls++
	t.sojourn.Add(int64(now - c.arrived))
	t.slot.Add(int64(c.slotWait))
	t.core.Add(int64(c.coreWait))
	t.cpu.Add(int64(c.ownCPU))
}

func (t *timeSplit) network(d sim.Time) {
	t.hopped++
	t.net.Add(int64(d))
}

// result gives the means per call; nil when no call was answered.
func (t *timeSplit) result() *TimeSplit {
	if t.calls == 0 {
		return nil
	}
	n := float64(t.calls)
	mean := func(x sim.Int128) sim.Time { return sim.Time(x.Float64() / n) }
	r := &TimeSplit{Calls: t.calls, Hopped: t.hopped, SlotWait: mean(t.slot), CoreWait: mean(t.core), CPU: mean(t.cpu)}
	r.Waiting = sim.Time(t.sojourn.Sub(t.slot).Sub(t.core).Sub(t.cpu).Float64() / n)
	if t.hopped > 0 {
		r.Network = sim.Time(t.net.Float64() / float64(t.hopped))
	}
	return r
}

func newComponentStats() componentStats {
	return componentStats{lat: sim.NewHistogram(), winLat: sim.NewHistogram()}
}

func (st *componentStats) arrive(now sim.Time) {
	st.arrivals++
	st.inSystem.Add(now, 1)
	st.presentAt.Add(int64(now))
}

func (st *componentStats) depart(o outcome, arrived, now sim.Time, measured bool) {
	st.inSystem.Add(now, -1)
	st.departures++
	from := max(arrived, st.start)
	st.presentAt.Add(-int64(from))
	st.sojourn.Add(int64(now - from))
	if o == outRejected {
		st.rejected++
		st.winRej++
	}
	if o == outOK && measured {
		st.winLat.Record(now - arrived) // merged into lat when the window closes
	}
}

func (st *componentStats) reset(now sim.Time) {
	st.inSystem.ResetRun(now)
	st.waiting.ResetRun(now)
	st.lat.Reset()
	st.winLat.Reset()
	st.arrivals, st.departures, st.rejected = 0, 0, 0
	st.sojourn = sim.Int128{}
	st.split = timeSplit{}
	st.start = now
	// Calls present now count as arrivals of the measured period, so that
	// arrivals = departures + present holds for it, and their time in the
	// component counts from now.
	st.arrivals = st.inSystem.Value()
	st.presentAt = sim.Int128{}
	st.presentAt.AddProduct(st.arrivals, int64(now))
}

// closeWindow closes the levels' window and returns the mean queue.
func (st *componentStats) closeWindow(now sim.Time) ComponentWindow {
	q, _ := st.waiting.CloseWindow(now)
	st.inSystem.CloseWindow(now)
	return ComponentWindow{Queue: q, P99: st.winLat.Quantile(0.99), Rejected: st.winRej}
}

// flushWindow merges the window's latencies into the run's and starts a new
// window.
func (st *componentStats) flushWindow() {
	st.lat.Merge(st.winLat)
	st.winLat.Reset()
	st.winRej = 0
}

// timeInSystem is the total time calls spent in the component during the
// measured period up to now, departed or not (ns).
func (st *componentStats) timeInSystem(now sim.Time) float64 {
	t := st.sojourn
	t.AddProduct(st.inSystem.Value(), int64(now))
	return t.Sub(st.presentAt).Float64()
}

// result is the part of a ComponentResult every component has.
func (b *compBase) result(now sim.Time) ComponentResult {
	st := &b.stats
	c := ComponentResult{
		Name: b.name, Kind: b.kind,
		Arrivals: st.arrivals, Departures: st.departures, Rejected: st.rejected,
		Latency:      summarize(st.lat),
		QueueMean:    st.waiting.Mean(now),
		QueueMax:     st.waiting.Max(),
		InSystemMean: st.inSystem.Mean(now),
		Present:      st.inSystem.Value(),
		TimeInSystem: sim.Time(st.timeInSystem(now)),
		Split:        st.split.result(),
	}
	if st.departures > 0 {
		c.MeanSojourn = sim.Time(st.sojourn.Float64() / float64(st.departures))
	}
	return c
}
