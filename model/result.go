package model

import (
	"math"
	"math/bits"

	"github.com/capsim/capsim/sim"
)

// Result is the plain-data outcome of one run. Times are simulated
// nanoseconds.
type Result struct {
	Duration sim.Time // simulated time
	Measured sim.Time // the part after the warm-up
	Events   uint64   // events the engine delivered

	Requests Counts
	Latency  Latency // of requests that completed ok
	Wasted   Wasted

	// Retries counts the retry attempts of call steps, for requests in
	// the statistics.
	Retries int64
	// BreakerRejected counts the call attempts open circuit breakers
	// rejected.
	BreakerRejected int64
	// BudgetDenied counts the retries that spent retry budgets refused.
	BudgetDenied int64

	// Async counts the detached requests that async steps started (nil
	// when none did).
	Async *AsyncResult

	// Split is where the time of the requests answered ok went, end to end
	// along the path each answer took (nil when none was).
	Split *PathSplit

	// Network is the network's share (nil without [network]).
	Network *NetworkResult

	// Faults are the faults that began, in the order they ended (those
	// still going at the end last, with End at the run's end).
	Faults []FaultResult

	Traffic    []TrafficResult   // in Config order
	Components []ComponentResult // in Config order (by name)
	Windows    []Window
	Decisions  []Decision // autoscaler decisions, in time order

	// LatencyHist is the histogram behind Latency (for CDF plots, merging).
	LatencyHist *sim.Histogram
}

// Counts are request outcomes. Arrived = Completed + Rejected + TimedOut +
// Failed + InFlight.
type Counts struct {
	Arrived, Completed, Rejected, TimedOut, Failed, InFlight int64
}

// AsyncResult counts the detached requests started by async steps: Started
// = Completed + Rejected + TimedOut + Failed + InFlight. Latency is from
// the async step to the detached request's answer.
type AsyncResult struct {
	Started, Completed, Rejected, TimedOut, Failed, InFlight int64
	Latency                                                  Latency
}

// Latency summarises a latency histogram.
type Latency struct {
	Count                               int64
	Mean, P50, P90, P95, P99, P999, Max sim.Time
}

// Wasted is work spent on requests that did not succeed (including work
// that went on after the client or a caller had given up).
type Wasted struct {
	Requests int64
	CPU      sim.Time
}

// TrafficResult is one traffic source's outcome.
type TrafficResult struct {
	Name     string
	Requests Counts
	Latency  Latency
	// Closed model: the mean number of VUs running and the mean think time
	// drawn (for the response time law R = N/X − Z).
	VUs       float64
	MeanThink sim.Time
	// Corrected is the latency corrected for coordinated omission (closed
	// models with a pacing): what users arriving on schedule would have
	// seen, next to Latency, what the closed-loop tool measured.
	Corrected *Latency
}

// ComponentResult is one component's outcome over the measured period.
type ComponentResult struct {
	Name string
	Kind Kind // the component's kind

	Cores       int     // per instance (services)
	Utilization float64 // busy cores / cores of ready instances, time-averaged (services)
	Instances   Instances

	// Autoscaling and thrashing (services).
	ScaleEvents int      // decisions that changed the instance count
	Reversals   int      // changes of direction within 10 minutes of the previous change
	Variation   int      // total variation: the sum of |change| over scale events
	Churn       sim.Time // instance-time paid for instances removed within 10 minutes of being asked for

	Cache    *CacheResult    // caches only
	Broker   *BrokerResult   // queues only
	Database *DatabaseResult // databases only
	Function *FunctionResult // functions only
	Zones    []ZoneResult    // stations spread over network zones: by zone index

	Arrivals, Departures, Rejected int64
	Latency                        Latency // of calls answered ok
	QueueMean                      float64 // waiting for admission or a core
	QueueMax                       int64
	InSystemMean                   float64  // calls present, time-averaged (Little's L)
	MeanSojourn                    sim.Time // of departed calls
	Present                        int64    // calls in the component at the end
	// TimeInSystem is the time all calls spent in the component during the
	// measured period, departed or not; sample-path Little's law says
	// InSystemMean × Measured = TimeInSystem exactly.
	TimeInSystem sim.Time
	// Split is where the time of its calls answered ok went (nil when none
	// was, and for balancers and queues, which hold no calls).
	Split *TimeSplit
	// BusyTime is the core time its instances spent on calls during the
	// measured period, on every attempt, answered ok or not (services,
	// caches, databases, functions).
	BusyTime sim.Time
	CostUSD  float64
}

// TimeSplit is where a component's calls spent their time, as means per
// call answered ok: SlotWait + CoreWait + CPU + Waiting is the mean time
// in the component exactly. Network is the mean round trip of the network
// hops into the component (request and response, zone crossings
// included), over the calls that came over the network; it is not part of
// the time in the component but of the caller's Waiting.
type TimeSplit struct {
	Calls    int64
	Hopped   int64    // calls that came over the network
	SlotWait sim.Time // for a concurrency slot (a function: its INIT too)
	CoreWait sim.Time // for a core
	CPU      sim.Time // on a core (slowed by contention, warm-up or faults)
	Waiting  sim.Time // on its calls, sleeps and retry backoff
	Network  sim.Time
}

// ZoneResult is a station's share in one network zone: the cores of its
// ready instances there (time-averaged) and their utilisation.
type ZoneResult struct {
	Zone        int // index into NetworkConfig.Zones
	Cores       float64
	Utilization float64
}

// CacheResult is a cache's outcome over the measured period.
type CacheResult struct {
	Hits, Misses int64
	Stale        int64 // hits that returned a value older than the key's latest write
	Evictions    int64 // since the start of the run
	Expirations  int64
	Entries      int // keys held at the end
}

// DatabaseResult is a database's outcome over the measured period.
type DatabaseResult struct {
	Reads      int64
	StaleReads int64 // replica reads older than the key's latest write
	Nodes      []NodeResult
}

// NodeResult is one database node.
type NodeResult struct {
	Name        string // "s0.primary", "s0.replica1", …
	Role        string // "primary" or "replica"
	Shard       int
	Utilization float64
	Requests    int64
	Rejected    int64
	Latency     Latency
	QueueMean   float64
	QueueMax    int64
}

// Instances describes a component's instance count over time.
type Instances struct {
	Mean          float64
	Min, Max, End int
}

// Window is one row of the time series: [Start, Start+Length).
type Window struct {
	Start, Length       sim.Time
	Arrivals, Completed int64
	Errors              int64
	Retries             int64 // retry attempts of call steps
	P50, P95, P99       sim.Time
	InFlight            float64
	CostUSD             float64 // cost so far, at the end of the window
	Components          []ComponentWindow
}

// ComponentWindow is one component's part of a Window.
type ComponentWindow struct {
	Instances   int // asked for, at the window's end
	Ready       int // ready, at the window's end
	Utilization float64
	Queue       float64
	P99         sim.Time
	Rejected    int64
	HitRatio    float64   // caches: hits / lookups in the window (NaN: no lookup)
	Nodes       []float64 // databases: utilisation of each node
	Lag         float64   // queues: messages waiting, time-averaged over the window
	AgeP99      sim.Time  // queues: p99 of publish → consumption start in the window
	ColdStarts  int64     // functions: environments started in the window
}

func summarize(h *sim.Histogram) Latency {
	return Latency{
		Count: h.Count(), Mean: h.Mean(),
		P50: h.Quantile(0.50), P90: h.Quantile(0.90), P95: h.Quantile(0.95),
		P99: h.Quantile(0.99), P999: h.Quantile(0.999), Max: h.Max(),
	}
}

func (t *trafficStats) counts() Counts {
	c := Counts{Arrived: t.arrived, Completed: t.ok, Rejected: t.rejected, TimedOut: t.timedOut, Failed: t.failed}
	c.InFlight = c.Arrived - c.Completed - c.Rejected - c.TimedOut - c.Failed
	return c
}

// cost converts instance·ns to US dollars at a price per hour.
func cost(pricePerHour float64, instanceNS sim.Int128) float64 {
	return pricePerHour * instanceNS.Float64() / float64(sim.Hour)
}

// costSoFar is what the run has cost from its start to now: instances billed
// per second from the moment they are asked for until they are gone,
// balancers for the whole run.
func (s *Sim) costSoFar(now sim.Time) float64 {
	// Fleets first, then balancers, each by name: floating-point sums
	// depend on their order, and this is the order they have always had.
	var usd float64
	for _, pass := range []bool{false, true} {
		for i, c := range s.comps {
			if (s.balancers[i] != nil) == pass {
				usd += c.costSoFar(now)
			}
		}
	}
	return usd + s.net.costSoFar()
}

// flushLatencies merges every window latency histogram into its run
// histogram; the global window histogram is the merge of the sources'.
func (s *Sim) flushLatencies() {
	s.global.winLat.Reset()
	for _, src := range s.sources {
		s.global.winLat.Merge(src.stats.winLat)
		src.stats.lat.Merge(src.stats.winLat)
		src.stats.winLat.Reset()
	}
	s.global.lat.Merge(s.global.winLat)
	for _, c := range s.comps {
		c.base().stats.flushWindow()
	}
}

// closeWindow appends the time-series row of the window ending now.
func (s *Sim) closeWindow() {
	now := s.eng.Now()
	start := sim.Time(0)
	if n := len(s.windows); n > 0 {
		start = s.windows[n-1].Start + s.windows[n-1].Length
	}
	if now <= start {
		return
	}
	inflight, _ := s.inFlight.CloseWindow(now)
	w := Window{
		Start: start, Length: now - start,
		Arrivals: s.win.arrivals, Completed: s.win.ok, Errors: s.win.errors, Retries: s.win.retries,
		InFlight: inflight, CostUSD: s.costSoFar(now),
	}
	s.win = windowCounts{}
	for _, c := range s.comps {
		w.Components = append(w.Components, c.closeWindow(now))
	}
	s.flushLatencies()
	g := s.global.winLat
	w.P50, w.P95, w.P99 = g.Quantile(0.5), g.Quantile(0.95), g.Quantile(0.99)
	s.windows = append(s.windows, w)
}

// Finish closes the last window and collects the results. Call it once,
// after the run reached its end.
func (s *Sim) Finish() *Result {
	now := s.eng.Now()
	if s.cfg.Window > 0 {
		s.closeWindow()
	}
	s.flushLatencies()
	for _, src := range s.sources {
		src.closeTrace()
	}
	measuredFrom := s.cfg.Warmup
	if measuredFrom > now {
		measuredFrom = now
	}
	r := &Result{
		Duration: now, Measured: now - measuredFrom, Events: s.eng.Events(),
		Requests: s.global.counts(), Latency: summarize(s.global.lat),
		Wasted:  Wasted{Requests: s.wasted.requests, CPU: s.wasted.cpu},
		Retries: s.retries, BreakerRejected: s.breakerRejected, BudgetDenied: s.budgetDenied,
		Windows:     s.windows,
		Decisions:   s.decisions,
		LatencyHist: s.global.lat,
	}
	r.Split = s.split.result()
	if a := &s.async; a.started > 0 {
		r.Async = &AsyncResult{Started: a.started, Completed: a.ok, Rejected: a.rejected, TimedOut: a.timedOut, Failed: a.failed,
			InFlight: a.live, Latency: summarize(a.lat)}
	}
	r.Faults = append(r.Faults, s.faultLog...)
	for i := range s.faults {
		f := &s.faults[i]
		if f.cfg.MTBF > 0 {
			for _, o := range f.open { // chaos failures not repaired by the end
				o.End = now
				r.Faults = append(r.Faults, o)
			}
			continue
		}
		if f.insts != nil && f.end > now { // begun, not ended
			r.Faults = append(r.Faults, FaultResult{Target: f.cfg.Target, Kind: f.cfg.Kind, At: f.cfg.At, End: now, Instances: ints(f.insts)})
		}
	}
	for _, src := range s.sources {
		tr := TrafficResult{Name: src.cfg.Name, Requests: src.stats.counts(), Latency: summarize(src.stats.lat)}
		if src.closed {
			tr.VUs = src.stats.vus.Mean(now)
			if src.stats.thinks > 0 {
				tr.MeanThink = sim.Time(src.stats.thinkSum.Float64() / float64(src.stats.thinks))
			}
			if src.corrected != nil {
				l := summarize(src.corrected)
				tr.Corrected = &l
			}
		}
		r.Traffic = append(r.Traffic, tr)
	}
	for _, c := range s.comps {
		r.Components = append(r.Components, c.result(now, measuredFrom))
	}
	r.Network = s.net.result()
	return r
}

// PathSplit is where the time of requests answered ok went, end to end,
// along the path each answer took — through the calls that answered it
// (of a parallel step, the branch it waited for last), not the calls that
// failed, were retried or ran beside it: Latency = Wait + CPU + Network +
// Other. Wait is for concurrency slots (a function's INIT among them) and
// cores; Other is what the path spent neither queued, computing nor on the
// wire: sleeps, broker acks, balancer latency, backoff, attempts that
// failed or timed out, calls that were not on the path. Means over
// Requests. Slowest is the same for the slowest requests: those at or
// above From, the lowest bound of a latency bucket (buckets 1/8 of a power
// of two wide) above which at least 1 % of the requests lie — Requests of
// them, a little more than 1 % when a bucket straddles the 99th
// percentile.
type PathSplit struct {
	Requests                           int64
	Latency, Wait, CPU, Network, Other sim.Time
	Slowest                            *SlowestSplit
}

// SlowestSplit is a PathSplit of the slowest requests, from latency From.
type SlowestSplit struct {
	Requests                           int64
	From                               sim.Time
	Latency, Wait, CPU, Network, Other sim.Time
}

// splitSums sums latencies and their splits.
type splitSums struct {
	n                   int64
	lat, wait, cpu, net sim.Int128
}

func (p *splitSums) add(r *request, lat sim.Time) {
	p.n++
	p.lat.Add(int64(lat))
	p.wait.Add(int64(r.pathWait))
	p.cpu.Add(int64(r.pathCPU))
	p.net.Add(int64(r.pathNet))
}

// means are the sums' means: latency, wait, cpu, network and other.
func (p *splitSums) means() (lat, wait, cpu, net, other sim.Time) {
	n := float64(p.n)
	mean := func(x sim.Int128) sim.Time { return sim.Time(x.Float64() / n) }
	return mean(p.lat), mean(p.wait), mean(p.cpu), mean(p.net), sim.Time(p.lat.Sub(p.wait).Sub(p.cpu).Sub(p.net).Float64() / n)
}

// splitBuckets covers every latency: 8 buckets per power of two.
const splitBuckets = 64 * 8

// splitBucket is the bucket of latency v: v itself below 16, then 8 per
// power of two.
func splitBucket(v sim.Time) int {
	if v < 16 {
		return int(max(v, 0))
	}
	shift := bits.Len64(uint64(v)) - 4
	return shift<<3 + int(v>>shift)
}

// splitBucketFrom is the smallest latency of bucket i.
func splitBucketFrom(i int) sim.Time {
	if i < 16 {
		return sim.Time(i)
	}
	shift := i>>3 - 1
	return sim.Time(i-shift<<3) << shift
}

// pathSplit sums the end-to-end splits of measured requests answered ok:
// over all of them exactly, and by latency bucket (for the slowest) in
// floating point, which costs a request less.
type pathSplit struct {
	all     splitSums
	buckets [splitBuckets]bucketSums
}

type bucketSums struct {
	n                   int64
	lat, wait, cpu, net float64
}

func (p *pathSplit) add(r *request, lat sim.Time) {
	p.all.add(r, lat)
	b := &p.buckets[splitBucket(lat)]
	b.n++
	b.lat += float64(lat)
	b.wait += float64(r.pathWait)
	b.cpu += float64(r.pathCPU)
	b.net += float64(r.pathNet)
}

func (p *pathSplit) result() *PathSplit {
	if p.all.n == 0 {
		return nil
	}
	out := &PathSplit{Requests: p.all.n}
	out.Latency, out.Wait, out.CPU, out.Network, out.Other = p.all.means()
	var tail bucketSums
	i := splitBuckets - 1
	for ; i >= 0 && 100*tail.n < p.all.n; i-- { // from the slowest, until 1 %
		b := &p.buckets[i]
		tail.n += b.n
		tail.lat, tail.wait, tail.cpu, tail.net = tail.lat+b.lat, tail.wait+b.wait, tail.cpu+b.cpu, tail.net+b.net
	}
	n := float64(tail.n)
	mean := func(x float64) sim.Time { return sim.Time(math.Round(x / n)) }
	out.Slowest = &SlowestSplit{Requests: tail.n, From: splitBucketFrom(i + 1), Latency: mean(tail.lat), Wait: mean(tail.wait),
		CPU: mean(tail.cpu), Network: mean(tail.net), Other: mean(tail.lat - tail.wait - tail.cpu - tail.net)}
	return out
}
