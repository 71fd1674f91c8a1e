package experiments

import (
	"fmt"
	"math"
	"sort"

	"github.com/capsim/capsim/model"
	"github.com/capsim/capsim/sim"
)

// Summary is summary.json: the results contract of one run. Field names are
// stable; numbers are rounded to fixed precision so that the bytes are
// identical for the same scenario and seed on any machine of the same
// architecture (docs/results.md, Determinism, says what holds across
// architectures).
type Summary struct {
	Scenario     string   `json:"scenario"`
	Description  string   `json:"description,omitempty"`
	Seed         uint64   `json:"seed"`
	Replications int      `json:"replications"`
	DurationS    float64  `json:"duration_s"`
	MeasuredS    float64  `json:"measured_s"`
	Requests     Requests `json:"requests"`
	Throughput   float64  `json:"throughput_rps"`
	ErrorRate    float64  `json:"error_rate"`
	Latency      Latency  `json:"latency_ms"`
	// LatencySplit is where the mean latency went, end to end along the
	// path each answer took (see PathSplit).
	LatencySplit *LatencySplit `json:"latency_split_ms,omitempty"`
	Cost         Cost          `json:"cost"`
	SLO          SLOResult     `json:"slo"`
	// Analytic is queueing theory's end-to-end mean latency, when every
	// component on the requests' paths has a model and the traffic is
	// steady: the open network of stations (Jackson) along the call graph.
	Analytic *EndToEndAnalytic `json:"analytic,omitempty"`
	// Bottleneck is the busiest resource — a service's or cache's cores,
	// or a database node — and the arrival rate at which it
	// would saturate (see Loads).
	Bottleneck *Load  `json:"bottleneck,omitempty"`
	Wasted     Wasted `json:"wasted"`
	// Retries counts the retry attempts of call steps (the attempts
	// themselves are in each component's requests).
	Retries int64 `json:"retries,omitempty"`
	// BreakerRejected counts the call attempts open circuit breakers
	// rejected (outcome rejected, reason breaker_open).
	BreakerRejected int64 `json:"breaker_rejected,omitempty"`
	// RetriesDenied counts the retries that spent retry budgets refused.
	RetriesDenied int64 `json:"retries_denied,omitempty"`
	// Async counts the detached requests async steps started (absent when
	// none did). Their latency is not in latency_ms: no client waits.
	Async *Async `json:"async,omitempty"`
	// Network: hops between components (a request and a response hop per
	// call), those that crossed zones, the GB that crossed, and its egress
	// cost (in cost.total_usd too).
	Network *NetworkSummary `json:"network,omitempty"`
	// Faults is the fault timeline, with each fault's recovery.
	Faults     []FaultSummary              `json:"faults,omitempty"`
	Components map[string]ComponentSummary `json:"components"`
	Traffic    map[string]TrafficSummary   `json:"traffic"`
	Events     uint64                      `json:"events"`
	// CI95 holds, with replications > 1, the 95 % confidence interval of
	// every number that varies between them, keyed by its path in this
	// document ("latency_ms.p99", "components.web.utilization").
	CI95 map[string][2]float64 `json:"ci95,omitempty"`
	// Warnings flag numbers to read with care (a percentile resting on few
	// samples).
	Warnings []string `json:"warnings,omitempty"`
}

// Requests counts outcomes: arrived = completed + rejected + timed_out +
// failed + in_flight.
type Requests struct {
	Arrived   int64 `json:"arrived"`
	Completed int64 `json:"completed"`
	Rejected  int64 `json:"rejected"`
	TimedOut  int64 `json:"timed_out"`
	Failed    int64 `json:"failed"`
	InFlight  int64 `json:"in_flight"`
}

// Latency is in milliseconds, over requests (or calls) that completed ok.
type Latency struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
}

// Cost of the run in US dollars.
type Cost struct {
	TotalUSD              float64 `json:"total_usd"`
	PerHourUSD            float64 `json:"per_hour_usd"`
	PerMillionRequestsUSD float64 `json:"per_million_requests_usd"`
}

// SLOResult says whether every objective was met.
type SLOResult struct {
	Met    bool       `json:"met"`
	Checks []SLOCheck `json:"checks"`
}

// SLOCheck is one objective with its measured value.
type SLOCheck struct {
	Name  string  `json:"name"`
	Scope string  `json:"scope,omitempty"` // a traffic source or queue; none: the whole run
	Limit float64 `json:"limit"`           // in Unit: ms, a fraction, messages, USD per hour, USD per million requests
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
	Met   bool    `json:"met"`
}

// Async is the outcome of detached requests: started = completed +
// rejected + timed_out + failed + in_flight; latency from the async step to
// the detached request's answer.
type Async struct {
	Started   int64   `json:"started"`
	Completed int64   `json:"completed"`
	Rejected  int64   `json:"rejected"`
	TimedOut  int64   `json:"timed_out"`
	Failed    int64   `json:"failed"`
	InFlight  int64   `json:"in_flight"`
	Latency   Latency `json:"latency_ms"`
}

// Wasted is work whose result nobody used: requests that did not succeed
// (with their detached work that failed), calls abandoned after a timeout,
// and parallel branches the step did not wait for or could do without.
type Wasted struct {
	Requests int64   `json:"requests"`
	CPUS     float64 `json:"cpu_s"`
}

// ComponentSummary is one component's outcome.
type ComponentSummary struct {
	Kind          string     `json:"kind"`
	Utilization   *float64   `json:"utilization,omitempty"`
	Instances     *Instances `json:"instances,omitempty"`
	Cores         int        `json:"cores,omitempty"`
	Requests      int64      `json:"requests"`
	ThroughputRPS float64    `json:"throughput_rps"`
	Latency       Latency    `json:"latency_ms"`
	Rejected      int64      `json:"rejected"`
	Queue         Queue      `json:"queue"`
	InSystem      float64    `json:"in_system_mean"`
	SojournMS     float64    `json:"sojourn_mean_ms"`
	ScaleEvents   int        `json:"scale_events"`
	Reversals     int        `json:"reversals"`
	Variation     int        `json:"replica_variation"`
	ChurnMinutes  float64    `json:"churn_instance_minutes"`
	CostUSD       float64    `json:"cost_usd"`
	// TimeSplit is where the component's calls answered ok spent their
	// time (services, caches, databases, functions).
	TimeSplit *TimeSplit `json:"time_split_ms,omitempty"`
	// Analytic is queueing theory's answer for the component, beside the
	// simulation's (see docs/results.md).
	Analytic *AnalyticSummary `json:"analytic,omitempty"`
	// Caches and databases.
	HitRatio   *float64 `json:"hit_ratio,omitempty"`
	StaleReads *float64 `json:"stale_reads,omitempty"` // caches: stale hits / lookups; databases: stale reads / reads
	Evictions  *int64   `json:"evictions,omitempty"`
	Nodes      []Node   `json:"nodes,omitempty"`
	// Queues: messages published, processed, delivered again after a failed
	// processing, lost (acknowledged before a failed processing), rejected
	// (a full partition); lag = messages waiting {mean, max, final}; age =
	// publish → consumption start; latency_ms = publish → processed.
	Published       *int64   `json:"published,omitempty"`
	Processed       *int64   `json:"processed,omitempty"`
	Redelivered     *int64   `json:"redelivered,omitempty"`
	Lost            *int64   `json:"lost,omitempty"`
	Lag             *Lag     `json:"lag,omitempty"`
	AgeMS           *Latency `json:"age_ms,omitempty"`
	PartitionLagMax []int64  `json:"partition_lag_max,omitempty"`
	// Rebalances counts the consumer group's membership changes that
	// paused an ordered queue (rebalance > 0).
	Rebalances int64 `json:"rebalances,omitempty"`
	// Functions: invocations started (not throttled), cold starts (INIT
	// phases: environments started on demand), synchronous invocations
	// throttled at max_instances, asynchronous ones that waited for a slot,
	// INIT durations and the invocations' own durations, and the cost
	// split into requests, compute (GB-seconds billed) and provisioned.
	// Zones: for a station spread over network zones, per zone the cores
	// of its ready instances (time-averaged) and their utilisation.
	Zones        map[string]ZoneSummary `json:"zones,omitempty"`
	Invocations  *int64                 `json:"invocations,omitempty"`
	ColdStarts   *ColdStarts            `json:"cold_starts,omitempty"`
	Throttled    *int64                 `json:"throttled,omitempty"`
	Queued       *int64                 `json:"queued,omitempty"`
	InitMS       *Latency               `json:"init_ms,omitempty"`
	InvocationMS *Latency               `json:"invocation_ms,omitempty"`
	BilledGBs    *float64               `json:"billed_gb_s,omitempty"`
	CostSplit    *FunctionCost          `json:"cost_split,omitempty"`
}

// EndToEndAnalytic is the analytic mean latency of requests, and the
// simulated mean's relative deviation from it.
type EndToEndAnalytic struct {
	LatencyMeanMS float64  `json:"latency_mean_ms"`
	Deviation     *float64 `json:"deviation,omitempty"`
}

// AnalyticSummary is queueing theory's answer for a component: the model
// it reduces to (or, with an empty model, why none), whether the model is
// exact for it, the utilisation and mean time in it (percentiles where
// exact), the fraction refused by a finite queue; Deviation compares the
// simulated mean with it (a relative difference), and Notes qualify it.
type AnalyticSummary struct {
	Model       string           `json:"model,omitempty"`
	Exact       bool             `json:"exact,omitempty"`
	Reason      string           `json:"reason,omitempty"`
	Utilization *float64         `json:"utilization,omitempty"`
	Latency     *AnalyticLatency `json:"latency_ms,omitempty"`
	Rejected    *float64         `json:"rejected,omitempty"`
	Deviation   *float64         `json:"deviation,omitempty"`
	Notes       []string         `json:"notes,omitempty"`
}

// AnalyticLatency is a model's mean time in a component, with its
// percentiles where they are exact.
type AnalyticLatency struct {
	Mean float64  `json:"mean"`
	P50  *float64 `json:"p50,omitempty"`
	P99  *float64 `json:"p99,omitempty"`
}

// LatencySplit is where the time of the requests answered ok went, end to
// end along the path each answer took (the calls that answered it; of a
// parallel step, the branch it waited for last), in mean milliseconds per
// request: wait + cpu + network + other is their mean latency. wait is
// for concurrency slots (a function's INIT among them) and cores, on
// every component of the path; other is sleeps, broker acks, balancer
// latency, retry backoff and attempts that failed or timed out.
type LatencySplit struct {
	Wait    float64 `json:"wait"`
	CPU     float64 `json:"cpu"`
	Network float64 `json:"network"`
	Other   float64 `json:"other"`
	// Slowest is the same split of the slowest requests: the share of
	// requests (at least 1 %, a little more when a latency bucket 1/8 of
	// a power of two wide straddles the 99th percentile) at or above
	// from_ms, and their mean latency.
	Slowest *SlowestSplit `json:"slowest,omitempty"`
}

// SlowestSplit is a LatencySplit of the slowest requests.
type SlowestSplit struct {
	Share   float64 `json:"share"`
	FromMS  float64 `json:"from_ms"`
	Mean    float64 `json:"mean"`
	Wait    float64 `json:"wait"`
	CPU     float64 `json:"cpu"`
	Network float64 `json:"network"`
	Other   float64 `json:"other"`
}

// TimeSplit is where a component's calls answered ok spent their time, in
// mean milliseconds per call: slot_wait + core_wait + cpu + waiting is the
// mean time in the component. waiting is on its calls, sleeps and retry
// backoff; network is the mean round trip of the network hops into the
// component (absent when none came over the network), part of its
// callers' waiting.
type TimeSplit struct {
	Calls    int64    `json:"calls"`
	SlotWait float64  `json:"slot_wait"`
	CoreWait float64  `json:"core_wait"`
	CPU      float64  `json:"cpu"`
	Waiting  float64  `json:"waiting"`
	Network  *float64 `json:"network,omitempty"`
}

// NetworkSummary is the network's share of the measured period: hops
// between zones of one region, and (with regions) between regions, the
// GB they carried, and what the bytes of both cost.
type NetworkSummary struct {
	Hops            int64    `json:"hops"`
	CrossZoneHops   int64    `json:"cross_zone_hops"`
	CrossZoneGB     float64  `json:"cross_zone_gb"`
	CrossRegionHops *int64   `json:"cross_region_hops,omitempty"`
	CrossRegionGB   *float64 `json:"cross_region_gb,omitempty"`
	EgressUSD       float64  `json:"egress_usd"`
}

// ZoneSummary is a station's share in one zone.
type ZoneSummary struct {
	Cores       float64 `json:"cores"`
	Utilization float64 `json:"utilization"`
}

// ColdStarts counts a function's INIT phases, and their fraction of its
// invocations.
type ColdStarts struct {
	Count    int64   `json:"count"`
	Fraction float64 `json:"fraction"`
}

// FunctionCost is a function's cost by what AWS bills for.
type FunctionCost struct {
	RequestsUSD    float64 `json:"requests_usd"`
	ComputeUSD     float64 `json:"compute_usd"`
	ProvisionedUSD float64 `json:"provisioned_usd"`
}

// Lag is a queue's messages waiting: time-averaged, the most, and at the
// end.
type Lag struct {
	Mean  float64 `json:"mean"`
	Max   int64   `json:"max"`
	Final int64   `json:"final"`
}

// Node is one database node.
type Node struct {
	Name        string  `json:"name"` // s0.primary, s0.replica1, … (as in timeseries.csv)
	Role        string  `json:"role"`
	Shard       int     `json:"shard"`
	Utilization float64 `json:"utilization"`
	Requests    int64   `json:"requests"`
	Latency     Latency `json:"latency_ms"`
	Queue       Queue   `json:"queue"`
	Rejected    int64   `json:"rejected"`
}

// Instances over time.
type Instances struct {
	Mean  float64 `json:"mean"`
	Min   int     `json:"min"`
	Max   int     `json:"max"`
	Final int     `json:"final"`
}

// Queue is the number of calls waiting (for admission or a core).
type Queue struct {
	Mean float64 `json:"mean"`
	Max  int64   `json:"max"`
}

// TrafficSummary is one traffic source's outcome.
type TrafficSummary struct {
	Arrived    int64    `json:"arrived"`
	Requests   Requests `json:"requests"`
	Throughput float64  `json:"throughput_rps"`
	ErrorRate  float64  `json:"error_rate"`
	Latency    Latency  `json:"latency_ms"`
	// Closed model: mean VUs running and mean think time.
	VUs         float64 `json:"vus,omitempty"`
	ThinkMeanMS float64 `json:"think_mean_ms,omitempty"`
	// Closed model: latency corrected for coordinated omission (what
	// users arriving on schedule would have seen); latency_ms is what the
	// closed-loop tool measured.
	Corrected *Latency `json:"latency_corrected_ms,omitempty"`
}

// round rounds to d decimals (fixed precision keeps output bytes stable).
func round(x float64, d int) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	p := math.Pow(10, float64(d))
	return math.Round(x*p) / p
}

func ms(t sim.Time) float64 { return round(t.Millis(), 3) }

func latency(l model.Latency) Latency {
	return Latency{Mean: ms(l.Mean), P50: ms(l.P50), P90: ms(l.P90), P95: ms(l.P95), P99: ms(l.P99), P999: ms(l.P999), Max: ms(l.Max)}
}

func requests(c model.Counts) Requests {
	return Requests{Arrived: c.Arrived, Completed: c.Completed, Rejected: c.Rejected, TimedOut: c.TimedOut, Failed: c.Failed, InFlight: c.InFlight}
}

// errorRate is the failed fraction of the requests that have an outcome.
func errorRate(c model.Counts) float64 {
	done := c.Completed + c.Rejected + c.TimedOut + c.Failed
	if done == 0 {
		return 0
	}
	return round(float64(c.Rejected+c.TimedOut+c.Failed)/float64(done), 6)
}

func perSecond(n int64, d sim.Time) float64 {
	if d <= 0 {
		return 0
	}
	return round(float64(n)/d.Seconds(), 3)
}

// summarize builds the Summary of one run.
func summarize(cfg *model.Config, slo []sloSpec, seed uint64, r *model.Result) *Summary {
	s := &Summary{
		Scenario: cfg.Name, Description: cfg.Description, Seed: seed, Replications: 1,
		DurationS: round(r.Duration.Seconds(), 6), MeasuredS: round(r.Measured.Seconds(), 6),
		Requests: requests(r.Requests), Throughput: perSecond(r.Requests.Completed, r.Measured),
		ErrorRate: errorRate(r.Requests), Latency: latency(r.Latency),
		Wasted:  Wasted{Requests: r.Wasted.Requests, CPUS: round(r.Wasted.CPU.Seconds(), 3)},
		Retries: r.Retries, BreakerRejected: r.BreakerRejected, RetriesDenied: r.BudgetDenied,
		Components: map[string]ComponentSummary{}, Traffic: map[string]TrafficSummary{},
		Events: r.Events,
	}
	if p := r.Split; p != nil {
		s.LatencySplit = &LatencySplit{Wait: ms(p.Wait), CPU: ms(p.CPU), Network: ms(p.Network), Other: ms(p.Other)}
		if t := p.Slowest; t != nil && t.Requests > 0 {
			s.LatencySplit.Slowest = &SlowestSplit{Share: round(float64(t.Requests)/float64(p.Requests), 4), FromMS: ms(t.From),
				Mean: ms(t.Latency), Wait: ms(t.Wait), CPU: ms(t.CPU), Network: ms(t.Network), Other: ms(t.Other)}
		}
	}
	if a := r.Async; a != nil {
		s.Async = &Async{Started: a.Started, Completed: a.Completed, Rejected: a.Rejected, TimedOut: a.TimedOut,
			Failed: a.Failed, InFlight: a.InFlight, Latency: latency(a.Latency)}
	}
	var total float64
	analytic, e2e, e2eOK := analyze(cfg, r)
	if e2eOK {
		s.Analytic = &EndToEndAnalytic{LatencyMeanMS: round(e2e/1e6, 3)}
		if e2e > 0 && s.Latency.Mean > 0 {
			d := round(s.Latency.Mean/(e2e/1e6)-1, 4)
			s.Analytic.Deviation = &d
		}
	}
	for ci, c := range r.Components {
		cs := ComponentSummary{
			Kind: string(c.Kind), Requests: c.Arrivals, ThroughputRPS: perSecond(c.Departures, r.Measured),
			Latency: latency(c.Latency), Rejected: c.Rejected,
			Queue:     Queue{Mean: round(c.QueueMean, 4), Max: c.QueueMax},
			InSystem:  round(c.InSystemMean, 4),
			SojournMS: ms(c.MeanSojourn),
			CostUSD:   round(c.CostUSD, 4),
		}
		if ci < len(analytic) {
			cs.Analytic = analyticSummary(analytic[ci], cs.Latency.Mean)
		}
		if t := c.Split; t != nil {
			cs.TimeSplit = &TimeSplit{Calls: t.Calls, SlotWait: ms(t.SlotWait), CoreWait: ms(t.CoreWait), CPU: ms(t.CPU), Waiting: ms(t.Waiting)}
			if t.Hopped > 0 {
				n := ms(t.Network)
				cs.TimeSplit.Network = &n
			}
		}
		if k := c.Cache; k != nil {
			var hr, st float64
			if n := k.Hits + k.Misses; n > 0 {
				hr, st = round(float64(k.Hits)/float64(n), 6), round(float64(k.Stale)/float64(n), 6)
			}
			ev := k.Evictions
			cs.HitRatio, cs.StaleReads, cs.Evictions = &hr, &st, &ev
		}
		if b := c.Broker; b != nil {
			cs.Published, cs.Processed, cs.Redelivered, cs.Lost = &b.Published, &b.Processed, &b.Redelivered, &b.Lost
			cs.Rejected = b.Rejected
			cs.Requests = b.Published
			cs.ThroughputRPS = perSecond(b.Processed, r.Measured)
			cs.Latency = latency(b.Latency)
			age := latency(b.Age)
			cs.AgeMS = &age
			cs.Lag = &Lag{Mean: round(b.LagMean, 4), Max: b.LagMax, Final: b.Waiting}
			cs.Queue = Queue{Mean: cs.Lag.Mean, Max: b.LagMax} // the messages waiting
			cs.PartitionLagMax = b.PartitionLagMax
			cs.Rebalances = b.Rebalances
		}
		if len(c.Zones) > 0 && cfg.Network != nil {
			cs.Zones = map[string]ZoneSummary{}
			for _, z := range c.Zones {
				if z.Cores > 0 {
					cs.Zones[cfg.Network.Zones[z.Zone]] = ZoneSummary{Cores: round(z.Cores, 3), Utilization: round(z.Utilization, 4)}
				}
			}
		}
		if fn := c.Function; fn != nil {
			cs.Invocations, cs.Throttled, cs.Queued = &fn.Invocations, &fn.Throttled, &fn.Queued
			cold := ColdStarts{Count: fn.ColdStarts}
			if fn.Invocations > 0 {
				cold.Fraction = round(float64(fn.ColdStarts)/float64(fn.Invocations), 6)
			}
			cs.ColdStarts = &cold
			initMS, invMS := latency(fn.Init), latency(fn.Invocation)
			cs.InitMS, cs.InvocationMS = &initMS, &invMS
			gbs := round(float64(fn.BilledMS)/1000*float64(fn.MemoryMB)/1024, 6)
			cs.BilledGBs = &gbs
			cs.CostSplit = &FunctionCost{RequestsUSD: round(fn.RequestsUSD, 6), ComputeUSD: round(fn.ComputeUSD, 6), ProvisionedUSD: round(fn.ProvisionedUSD, 6)}
		}
		if d := c.Database; d != nil {
			var st float64
			if d.Reads > 0 {
				st = round(float64(d.StaleReads)/float64(d.Reads), 6)
			}
			cs.StaleReads = &st
			for _, n := range d.Nodes {
				cs.Nodes = append(cs.Nodes, Node{Name: n.Name, Role: n.Role, Shard: n.Shard, Utilization: round(n.Utilization, 4),
					Requests: n.Requests, Latency: latency(n.Latency), Queue: Queue{Mean: round(n.QueueMean, 4), Max: n.QueueMax}, Rejected: n.Rejected})
			}
		}
		if c.Kind != "balancer" && c.Broker == nil {
			u := round(c.Utilization, 4)
			cs.Utilization = &u
			cs.Cores = c.Cores
			cs.Instances = &Instances{Mean: round(c.Instances.Mean, 3), Min: c.Instances.Min, Max: c.Instances.Max, Final: c.Instances.End}
			cs.ScaleEvents, cs.Reversals, cs.Variation = c.ScaleEvents, c.Reversals, c.Variation
			cs.ChurnMinutes = round(c.Churn.Seconds()/60, 3)
		}
		total += c.CostUSD
		s.Components[c.Name] = cs
	}
	if n := r.Network; n != nil {
		s.Network = &NetworkSummary{Hops: n.Hops, CrossZoneHops: n.CrossZoneHops, CrossZoneGB: round(n.CrossZoneGB, 9), EgressUSD: round(n.EgressUSD, 6)}
		if len(cfg.Network.Regions) > 0 {
			gb := round(n.CrossRegionGB, 9)
			s.Network.CrossRegionHops, s.Network.CrossRegionGB = &n.CrossRegionHops, &gb
		}
		total += n.EgressUSD
	}
	for _, t := range r.Traffic {
		ts := TrafficSummary{
			Arrived: t.Requests.Arrived, Requests: requests(t.Requests),
			Throughput: perSecond(t.Requests.Completed, r.Measured),
			ErrorRate:  errorRate(t.Requests), Latency: latency(t.Latency),
			VUs: round(t.VUs, 3), ThinkMeanMS: ms(t.MeanThink),
		}
		if t.Corrected != nil {
			l := latency(*t.Corrected)
			ts.Corrected = &l
		}
		s.Traffic[t.Name] = ts
	}
	s.Cost.TotalUSD = round(total, 4)
	if h := r.Measured.Seconds() / 3600; h > 0 {
		s.Cost.PerHourUSD = round(total/h, 4)
	}
	if r.Requests.Completed > 0 {
		s.Cost.PerMillionRequestsUSD = round(total/float64(r.Requests.Completed)*1e6, 4)
	}
	s.SLO = evaluate(slo, s, r.LatencyHist)
	s.Warnings = sampleWarnings(r.Latency.Count)
	s.Bottleneck = bottleneck(s)
	return s
}

// sampleWarnings flags the latency percentiles that rest on fewer than 10
// observations beyond them.
func sampleWarnings(n int64) []string {
	var w []string
	for _, p := range []struct {
		name string
		q    float64
	}{{"p99", 0.99}, {"p999", 0.999}} {
		if beyond := (1 - p.q) * float64(n); n > 0 && beyond < 10 {
			w = append(w, fmt.Sprintf("latency_ms.%s rests on %.1f requests beyond it (of %d completed): too few to trust", p.name, beyond, n))
		}
	}
	return w
}

// sloSpec is one objective, independent of the scenario package.
type sloSpec struct {
	name     string // "p99", "buyers.p99"
	scope    string // "", a traffic source or a queue
	stat     string
	quantile float64 // latency: 0 < q ≤ 1, 0 for the mean
	limit    float64 // ms, a fraction, messages or USD
	latency  bool
}

func evaluate(specs []sloSpec, s *Summary, h *sim.Histogram) SLOResult {
	res := SLOResult{Met: true, Checks: []SLOCheck{}}
	for _, sp := range specs {
		c := SLOCheck{Name: sp.name, Scope: sp.scope, Limit: sp.limit}
		// evidence: whether anything was measured that the limit is about.
		evidence := true
		switch {
		case sp.latency:
			c.Unit = "ms"
			switch comp, isComp := s.Components[sp.scope]; {
			case sp.scope == "":
				c.Value = latencyStat(s.Latency, sp.stat)
				if math.IsNaN(c.Value) {
					c.Value = ms(h.Quantile(sp.quantile))
				}
				evidence = s.Requests.Completed > 0
			case isComp: // a queue: publish → processed
				c.Value = latencyStat(comp.Latency, sp.stat)
				evidence = comp.Processed != nil && *comp.Processed > 0
			default:
				ts := s.Traffic[sp.scope]
				c.Value = latencyStat(ts.Latency, sp.stat)
				evidence = ts.Requests.Completed > 0
			}
		case sp.stat == "error_rate":
			c.Unit = "fraction"
			c.Value = s.ErrorRate
			if sp.scope != "" {
				c.Value = s.Traffic[sp.scope].ErrorRate
			}
		case sp.stat == "lag":
			c.Unit = "messages"
			if l := s.Components[sp.scope].Lag; l != nil {
				c.Value = float64(l.Max)
			}
		case sp.stat == "cost_per_hour":
			c.Unit = "USD per hour"
			c.Value = s.Cost.PerHourUSD
		case sp.stat == "cost_per_million":
			c.Unit = "USD per million requests"
			c.Value = s.Cost.PerMillionRequestsUSD
			evidence = s.Requests.Completed > 0
		}
		// No completed request means no evidence that the limit holds.
		c.Met = evidence && c.Value <= c.Limit
		res.Met = res.Met && c.Met
		res.Checks = append(res.Checks, c)
	}
	sort.SliceStable(res.Checks, func(i, j int) bool { return res.Checks[i].Name < res.Checks[j].Name })
	return res
}

func latencyStat(l Latency, name string) float64 {
	switch name {
	case "mean":
		return l.Mean
	case "max":
		return l.Max
	case "p50":
		return l.P50
	case "p90":
		return l.P90
	case "p95":
		return l.P95
	case "p99":
		return l.P99
	case "p999":
		return l.P999
	}
	return math.NaN()
}
