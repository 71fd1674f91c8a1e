package experiments_test

import (
	"math"
	"testing"

	"github.com/capsim/capsim/experiments"
)

// 640 messages/s with uniform keys over 8 ordered partitions, one
// single-core consumer per partition (Kafka's range assignor gives each of
// the 8 instances one partition), exp(10 ms) processing: each partition is
// an M/M/1 queue at ρ = 0.8 (Poisson thinned by key: 80/s each). Publish →
// processed is the response time, 1/(μ − λ) = 50 ms, p99 = ln 100/(μ − λ)
// = 230 ms; the age at consumption is the wait, ρ/(μ − λ) = 40 ms; the
// total lag is 8 × ρ²/(1 − ρ) = 25.6 messages.
func TestOrderedPartitionsAreMM1(t *testing.T) {
	t.Parallel()
	runs := seedRuns(t, `
[run]
duration = "2100s"
warmup = "100s"
window = "100s"
[traffic.in]
to = "producer"
rate = 640
keys = "uniform(n=1000000)"
[service.producer]
cores = 8
steps = [ { publish = "topic" } ]
[queue.topic]
partitions = 8
partition_by = "key"
consumer = "workers"
[service.workers]
instances = 8
steps = [ { cpu = "exp(10ms)" } ]
`, 24)
	topic := func(o *experiments.Outcome) experiments.ComponentSummary { return o.Summary.Components["topic"] }
	agreesOver(t, runs, "publish → processed mean (ms)", func(o *experiments.Outcome) float64 { return topic(o).Latency.Mean }, 50)
	agreesOver(t, runs, "publish → processed p99 (ms)", func(o *experiments.Outcome) float64 { return topic(o).Latency.P99 }, 1000*math.Log(100)/20)
	agreesOver(t, runs, "age at consumption (ms)", func(o *experiments.Outcome) float64 { return topic(o).AgeMS.Mean }, 40)
	agreesOver(t, runs, "total lag (messages)", func(o *experiments.Outcome) float64 { return topic(o).Lag.Mean }, 25.6)
	o := runs[0]
	c := topic(o)
	// Conservation: every published message is processed, waiting or in
	// flight (measured ones; the warm-up's are not counted).
	if *c.Processed > *c.Published || *c.Published-*c.Processed > 200 {
		t.Errorf("published %d, processed %d", *c.Published, *c.Processed)
	}
}

// A burst above the consumers' capacity: lag grows at (arrival − service)
// and drains afterwards at (service − arrival), as the fluid model says.
// One partition, one consumer taking exactly 10 ms (100/s); 50/s, then
// 150/s for 60 s, then 50/s: the lag peaks near 50 × 60 = 3,000 and is
// gone 3,000/50 = 60 s after the burst.
func TestBurstLagFluid(t *testing.T) {
	t.Parallel()
	o := runTOML(t, `
[run]
duration = "300s"
window = "5s"
[traffic.in]
to = "producer"
rate = 50
arrivals = "uniform"
flash = { at = "60s", rise = "0s", hold = "60s", decay = "0s", peak = 100 }
[service.producer]
steps = [ { publish = "q" } ]
[queue.q]
consumer = "worker"
[service.worker]
steps = [ { cpu = "const(10ms)" } ]
`)
	c := o.Summary.Components["q"]
	if c.Lag.Max < 2950 || c.Lag.Max > 3050 {
		t.Errorf("lag peaked at %d, want about 3,000", c.Lag.Max)
	}
	// Lag by window: empty before 120 s + 60 s of draining, empty after.
	var lagAt = func(s float64) float64 {
		for _, w := range o.Series.Windows {
			if w.StartS <= s && s < w.StartS+w.LengthS {
				return w.Components[indexOf(o, "q")].Lag
			}
		}
		return math.NaN()
	}
	if l := lagAt(150); math.Abs(l-(3000-50*30-50*2.5)) > 60 { // mid-window at 152.5 s
		t.Errorf("lag %.0f at 150–155 s, want about %.0f (draining at 50/s)", l, 3000-50*32.5)
	}
	if l := lagAt(200); l > 1 {
		t.Errorf("lag %.0f at 200 s: it should be drained by 180 s", l)
	}
}

func indexOf(o *experiments.Outcome, name string) int {
	for i, c := range o.Series.Components {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// At least once: a consumer that crashes fails the message it was
// processing; with ack after, it becomes visible again after the
// redelivery delay and is processed then — nothing is lost, and the
// partition waits for it (order kept).
func TestQueueRedelivery(t *testing.T) {
	t.Parallel()
	o := runTOML(t, `
[run]
duration = "60s"
[traffic.in]
to = "producer"
rate = 50
arrivals = "uniform"
[service.producer]
steps = [ { publish = "q" } ]
[queue.q]
consumer = "worker"
redelivery = "1s"
[service.worker]
steps = [ { cpu = "const(10ms)" } ]
[[fault]]
target = "worker"
kind = "crash"
at = "20.005s"
duration = "5s"
`)
	c := o.Summary.Components["q"]
	if *c.Redelivered == 0 || *c.Lost != 0 || *c.Published-*c.Processed > 2 {
		t.Errorf("published %d, processed %d, redelivered %d, lost %d", *c.Published, *c.Processed, *c.Redelivered, *c.Lost)
	}
	if c.Lag.Max < 240 { // 5 s of 50/s waited for the consumer
		t.Errorf("lag max %d, want the crash's 250 or so", c.Lag.Max)
	}
}

// KEDA on a 4-partition topic, following its documented behaviour (polls
// every 30 s, the first at 45 s; cooldown 60 s; activation above 45
// messages; lagThreshold 100): the consumer starts with one instance and no
// traffic, so the poll at 75 s — the first at least 60 s after the last
// activity — scales it to zero; messages arrive from 100 s at 10/s, the lag
// passes 45 at 104.5 s, and the first poll after, at 105 s, scales from
// zero to one; a burst of 400/s from 300 s makes the HPA ask for
// ceil(lag/100) consumers, capped at the 4 partitions (max is 10): 1 → 4 at
// the 315 s poll, never more.
func TestKEDA(t *testing.T) {
	t.Parallel()
	o := runTOML(t, `
[run]
duration = "600s"
window = "5s"
[traffic.in]
to = "producer"
rate = 10
start = "100s"
arrivals = "uniform"
flash = { at = "300s", rise = "0s", hold = "60s", decay = "0s", peak = 400 }
[service.producer]
cores = 8
steps = [ { publish = "q" } ]
[queue.q]
partitions = 4
consumer = "workers"
[service.workers]
start_delay = "5s"
autoscale = { policy = "keda", queue = "q", lag_threshold = 100, activation_lag = 45, max = 10, cooldown = "60s" }
steps = [ { cpu = "exp(20ms)" } ]
`)
	d := o.Series.Decisions
	if len(d) < 2 || d[0].AtS != 75 || d[0].To != 0 || d[0].Reason != "KEDAScaledObjectDeactivated" ||
		d[1].AtS != 105 || d[1].From != 0 || d[1].To != 1 || d[1].Reason != "KEDAScaledObjectActivated" {
		t.Fatalf("decisions %+v: want 1 → 0 at 75 s and 0 → 1 at 105 s", d)
	}
	var burst *experiments.Decision
	for i := range d {
		if d[i].AtS >= 300 && d[i].To > d[i].From {
			burst = &d[i]
			break
		}
	}
	if burst == nil || burst.AtS != 315 || burst.To != 4 {
		t.Errorf("first scale-up in the burst %+v, want to 4 (the partitions) at 315 s", burst)
	}
	if m := o.Summary.Components["workers"].Instances.Max; m != 4 {
		t.Errorf("at most %d consumers, want 4: never more than the partitions", m)
	}
}

// Messages without a key are spread round robin over the partitions, as
// Kafka's default partitioner spreads null keys; a consumer that becomes
// ready takes the waiting messages at once, with no new publish to wake it.
func TestKeylessMessagesAndLateConsumer(t *testing.T) {
	t.Parallel()
	o := runTOML(t, `
[run]
duration = "120s"
[traffic.in]
to = "producer"
rate = 40
arrivals = "uniform"
stop = "10s"
[service.producer]
steps = [ { publish = "q" } ]
[queue.q]
partitions = 4
consumer = "workers"
[service.workers]
instances = 0
autoscale = { policy = "keda", queue = "q", min = 0, max = 4 }
steps = [ { cpu = "exp(10ms)" } ]
`)
	c := o.Summary.Components["q"]
	if *c.Published != 400 || *c.Processed != 400 {
		t.Errorf("published %d, processed %d: want all 400 consumed after the first poll (30 s)", *c.Published, *c.Processed)
	}
	// Uniform arrivals round robin over 4 partitions: exactly 100 each wait.
	for p, m := range c.PartitionLagMax {
		if m != 100 {
			t.Errorf("partition %d lag max %d, want 100 (400 keyless messages round robin over 4): %v", p, m, c.PartitionLagMax)
			break
		}
	}
}

// Kafka's eager rebalance stops the whole consumer group while its
// membership changes. 100 messages/s (every 10 ms) round robin over 4
// partitions, 5 ms of work each; the group grows from 2 to 4 consumers at
// 60 s and shrinks back at 120 s. With rebalance = "3s" each change stops
// consumption for 3 s: the lag climbs to 100 × 3 = 300 and the oldest
// message waits 3 s; two instances joining at once are one rebalance.
// Without it the lag never passes a few messages.
func TestRebalancePause(t *testing.T) {
	t.Parallel()
	src := `
[run]
duration = "180s"
[traffic.in]
to = "producer"
rate = 100
arrivals = "uniform"
[service.producer]
steps = [ { publish = "q" } ]
[queue.q]
partitions = 4
partition_by = "round_robin"
consumer = "workers"
[service.workers]
instances = 2
autoscale = { policy = "schedule", min = 2, max = 4, schedule = [ { at = "60s", min = 4 }, { at = "120s", min = 2, instances = 2 } ] }
steps = [ { cpu = "const(5ms)" } ]
`
	for _, tc := range []struct {
		rebalance        string
		lagMax, ageMaxMS float64
		rebalances       int64
	}{
		{"3s", 300, 3000, 2},
		{"0s", 1, 5, 0},
	} {
		o := runTOML(t, src, "queue.q.rebalance="+tc.rebalance)
		c := o.Summary.Components["q"]
		if math.Abs(float64(c.Lag.Max)-tc.lagMax) > 2 || math.Abs(c.AgeMS.Max-tc.ageMaxMS) > 20 {
			t.Errorf("rebalance %s: lag max %d, age max %.1f ms; want about %.0f and %.0f ms", tc.rebalance, c.Lag.Max, c.AgeMS.Max, tc.lagMax, tc.ageMaxMS)
		}
		if c.Rebalances != tc.rebalances {
			t.Errorf("rebalance %s: %d rebalances, want %d", tc.rebalance, c.Rebalances, tc.rebalances)
		}
		if *c.Processed < *c.Published-2 {
			t.Errorf("rebalance %s: published %d, processed %d: the group should catch up", tc.rebalance, *c.Published, *c.Processed)
		}
	}
}

// Objectives for one traffic source and one queue ([slo.NAME]) are checked
// against that source's and that queue's own results; a queue's lag limit
// is on the most messages waiting.
func TestScopedSLOs(t *testing.T) {
	t.Parallel()
	o := runTOML(t, `
[run]
duration = "180s"
[slo]
p99 = "1s"
cost_per_hour = 0.5
[slo.in]
p99 = "3ms"
error_rate = 0
[slo.q]
p99 = "3s"
lag = 200
[traffic.in]
to = "producer"
rate = 100
arrivals = "uniform"
[service.producer]
price_per_hour = 0.1
steps = [ { cpu = "const(2ms)" }, { publish = "q" } ]
[queue.q]
partitions = 4
partition_by = "round_robin"
consumer = "workers"
rebalance = "3s"
[service.workers]
instances = 2
price_per_hour = 0.1
autoscale = { policy = "schedule", min = 2, max = 4, schedule = [ { at = "60s", min = 4 }, { at = "120s", min = 2, instances = 2 } ] }
steps = [ { cpu = "const(5ms)" } ]
`)
	q, in := o.Summary.Components["q"], o.Summary.Traffic["in"]
	want := map[string]struct {
		value float64
		met   bool
	}{
		"p99":           {o.Summary.Latency.P99, true},
		"cost_per_hour": {o.Summary.Cost.PerHourUSD, true},
		"in.p99":        {in.Latency.P99, true},
		"in.error_rate": {0, true},
		"q.p99":         {q.Latency.P99, true},
		"q.lag":         {300, false}, // two rebalance pauses of 3 s at 100/s
	}
	if len(o.Summary.SLO.Checks) != len(want) || o.Summary.SLO.Met {
		t.Fatalf("checks %+v (met %v): want %d, not all met", o.Summary.SLO.Checks, o.Summary.SLO.Met, len(want))
	}
	for _, c := range o.Summary.SLO.Checks {
		w, ok := want[c.Name]
		if !ok || c.Value != w.value || c.Met != w.met {
			t.Errorf("%s: value %v met %v, want %v %v", c.Name, c.Value, c.Met, w.value, w.met)
		}
	}
	// The producer's 2 ms are all a request sees; the queue's p99 includes
	// the pauses. Cost: 1 + 2.67 instances on average at $0.10.
	if in.Latency.P99 < 1.9 || in.Latency.P99 > 2.1 || q.Latency.P99 < 1000 {
		t.Errorf("in p99 %.1f ms, q p99 %.1f ms", in.Latency.P99, q.Latency.P99)
	}
	if c := o.Summary.Cost.PerHourUSD; math.Abs(c-0.1*(1+2+2.0/3)) > 0.01 {
		t.Errorf("cost per hour %v, want about %.3f", c, 0.1*(1+2+2.0/3))
	}
}

// The rtb-kafka example tells the guide's story through the launch ramp
// and into the peak (its first 200 s, about 14M bids): the ingest ack stays
// a few ms, Kafka absorbs the ramp, the workers grow from 6 pods to about
// what 150k/s needs at a 50 % cpu target (150k × 0.8 ms / 8 cores / 0.5 =
// 30 pods), and publish → processed stays under the guide's 120 ms.
func TestRTBKafkaExample(t *testing.T) {
	if testing.Short() {
		t.Skip("14M requests")
	}
	t.Parallel()
	src, _ := examplesGet("rtb-kafka")
	o := runTOML(t, string(src), "run.duration=200s")
	checkInvariants(t, o)
	s := o.Summary
	q, w := s.Components["bids"], s.Components["workers"]
	if s.Requests.Arrived < 13_000_000 || s.ErrorRate != 0 {
		t.Errorf("%d bids, error rate %v", s.Requests.Arrived, s.ErrorRate)
	}
	if s.Latency.P99 > 20 || q.Latency.P99 > 120 || q.Lag.Max > 10_000 {
		t.Errorf("ingest p99 %.1f ms, publish → processed p99 %.1f ms, lag max %d", s.Latency.P99, q.Latency.P99, q.Lag.Max)
	}
	if w.Instances.Min != 6 || w.Instances.Final < 27 || w.Instances.Final > 40 {
		t.Errorf("workers %+v: want 6 at first and about 30 at the peak", w.Instances)
	}
}
