package experiments_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/capsim/capsim/experiments"
)

// 10 provisioned environments that are also max_instances, concurrency 1,
// exp(20 ms) invocations at 1000/s: a loss system M/M/10/10 offered 20
// Erlangs, whose throttled fraction is Erlang B(10, 20) = 0.538.
func TestFunctionThrottlingIsErlangB(t *testing.T) {
	t.Parallel()
	runs := seedRuns(t, `
[run]
duration = "110s"
warmup = "10s"
[traffic.in]
to = "fn"
rate = 1000
[function.fn]
duration = "exp(20ms)"
provisioned = 10
max_instances = 10
`, 8)
	want := erlangB(10, 20)
	throttled := func(o *experiments.Outcome) float64 {
		c := o.Summary.Components["fn"]
		return float64(*c.Throttled) / float64(*c.Throttled+*c.Invocations)
	}
	agreesOver(t, runs, "throttled fraction", throttled, want)
	var mean float64
	for _, o := range runs {
		mean += throttled(o) / float64(len(runs))
		if c := o.Summary.Components["fn"]; c.ColdStarts.Count != 0 || c.Instances.Max != 10 {
			t.Errorf("provisioned only: %d cold starts, %d environments at most", c.ColdStarts.Count, c.Instances.Max)
		}
	}
	if math.Abs(mean-want) > 0.005 {
		t.Errorf("throttled fraction %.4f, Erlang B %.4f: off by more than 0.005", mean, want)
	}
}

// coldFraction simulates the stated rules on their own: Poisson arrivals
// at rate/s; an invocation takes an idle environment, the most recently
// freed first, or starts a new one that is busy for init + work; an
// environment idle for keepAlive is gone.
func coldFraction(rate, work, init, keepAlive float64, n int, seed uint64) float64 {
	rng := rand.New(rand.NewPCG(seed, 1))
	type env struct{ busyUntil float64 }
	var envs []env
	t, cold := 0.0, 0
	for i := 0; i < n; i++ {
		t += rng.ExpFloat64() / rate
		best := -1
		live := envs[:0]
		for _, e := range envs {
			if e.busyUntil+keepAlive > t || e.busyUntil > t { // still busy, or idle for less than keepAlive
				live = append(live, e)
			}
		}
		envs = live
		for k, e := range envs {
			if e.busyUntil <= t && (best < 0 || e.busyUntil > envs[best].busyUntil) {
				best = k
			}
		}
		if best >= 0 {
			envs[best].busyUntil = t + work
			continue
		}
		cold++
		envs = append(envs, env{busyUntil: t + init + work})
	}
	return float64(cold) / float64(n)
}

// A function at 1 request/s (Poisson), 10 ms of work, a 400 ms cold start
// and a 2 s keep-alive: the cold-start fraction agrees with the rules
// simulated on their own (above), and the mean latency is 10 ms + fraction
// × 400 ms.
func TestFunctionColdStarts(t *testing.T) {
	t.Parallel()
	want := coldFraction(1, 0.010, 0.400, 2, 2_000_000, 9)
	runs := seedRuns(t, `
[run]
duration = "40000s"
[traffic.in]
to = "fn"
rate = 1
[function.fn]
duration = "const(10ms)"
cold_start = "const(400ms)"
keep_alive = "2s"
`, 24)
	agreesOver(t, runs, "cold-start fraction", func(o *experiments.Outcome) float64 { return o.Summary.Components["fn"].ColdStarts.Fraction }, want)
	for _, o := range runs {
		c := o.Summary.Components["fn"]
		// Exact up to the invocations still running at the end, which
		// count in the fraction and not in the latency: 400 ms each.
		f := c.ColdStarts.Fraction
		if m := c.Latency.Mean; math.Abs(m-(10+f*400)) > 2*400/float64(*c.Invocations)+0.001 {
			t.Errorf("mean latency %.3f ms, want 10 + %.4f × 400 = %.3f", m, f, 10+f*400)
		}
		if c.InitMS.Mean != 400 || c.InvocationMS.Mean != 10 {
			t.Errorf("init %v ms, invocation %v ms: want 400 and 10 apart", c.InitMS.Mean, c.InvocationMS.Mean)
		}
	}
}

// Lambda bills each invocation's duration rounded up to the next 1 ms:
// 12.3 ms of work costs 13 ms × 0.5 GB × the GB-second price, exactly.
func TestFunctionComputeCost(t *testing.T) {
	t.Parallel()
	o := runTOML(t, `
[run]
duration = "100s"
[traffic.in]
to = "fn"
rate = 50
arrivals = "uniform"
[function.fn]
duration = "const(12.3ms)"
memory_mb = 512
price_per_gb_s = 0.0000166667
price_per_request = 0.0000002
`)
	var fn = o.Result.Components[0].Function
	want := float64(fn.Invocations) * 0.013 * 0.5 * 0.0000166667
	if fn.Invocations != 5000 || fn.ComputeUSD != want {
		t.Errorf("%d invocations, compute $%.12f, want $%.12f", fn.Invocations, fn.ComputeUSD, want)
	}
	if fn.RequestsUSD != 5000*0.0000002 || fn.BilledMS != 5000*13 {
		t.Errorf("requests $%v, billed %d ms", fn.RequestsUSD, fn.BilledMS)
	}
}

// Asynchronous invocations (an async step; Lambda's event invocations)
// that find max_instances busy wait for a free environment instead of
// being throttled, and idle environments are reclaimed after the
// keep-alive: the function scales to zero.
func TestFunctionAsyncWaitsAndScalesToZero(t *testing.T) {
	t.Parallel()
	o := runTOML(t, `
[run]
duration = "60s"
window = "1s"
[traffic.in]
to = "api"
rate = 100
arrivals = "uniform"
stop = "10s"
[service.api]
steps = [ { async = "fn" } ]
[function.fn]
duration = "const(50ms)"
max_instances = 2
keep_alive = "5s"
`)
	c := o.Summary.Components["fn"]
	if *c.Invocations != 1000 || *c.Throttled != 0 || *c.Queued < 500 || c.ColdStarts.Count != 2 {
		t.Errorf("%d invocations, %d throttled, %d queued, %d cold starts: want all 1000 run on 2 environments, most after waiting", *c.Invocations, *c.Throttled, *c.Queued, c.ColdStarts.Count)
	}
	// 1000 invocations at 2 × 20/s take 25 s; 5 s of keep-alive later the
	// function has no environment.
	if c.Instances.Max != 2 || c.Instances.Final != 0 {
		t.Errorf("environments %+v: want at most 2, none at the end", c.Instances)
	}
	for _, w := range o.Series.Windows {
		if n := w.Components[indexOf(o, "fn")].Instances; w.StartS >= 31 && n != 0 || w.StartS < 24 && n != 2 {
			t.Errorf("%d environments at %v s", n, w.StartS)
		}
	}
}

// Concurrency per environment (Cloud Run): one environment of one core
// taking up to 5 invocations at once, exp(10 ms) of cpu each, offered
// 80/s: an M/M/1/5 queue whose arrivals beyond 5 are throttled with
// probability (1 − ρ)ρ⁵ / (1 − ρ⁶) = 0.0888 at ρ = 0.8.
func TestFunctionConcurrencyIsMM1K(t *testing.T) {
	t.Parallel()
	runs := seedRuns(t, `
[run]
duration = "2010s"
warmup = "10s"
[traffic.in]
to = "fn"
rate = 80
[function.fn]
duration = "exp(10ms)"
concurrency = 5
provisioned = 1
max_instances = 1
`, 24)
	rho := 0.8
	want := (1 - rho) * math.Pow(rho, 5) / (1 - math.Pow(rho, 6))
	agreesOver(t, runs, "throttled fraction", func(o *experiments.Outcome) float64 {
		c := o.Summary.Components["fn"]
		return float64(*c.Throttled) / float64(*c.Throttled+*c.Invocations)
	}, want)
}

// The image-resize-serverless example tells its story: on the function the
// burst costs cold starts and nothing else (no error, p99 within the SLO);
// the same work on the HPA fleet rejects much of the burst while pods start.
func TestImageResizeExample(t *testing.T) {
	t.Parallel()
	src, _ := examplesGet("image-resize-serverless")
	fn := runTOML(t, string(src))
	c := fn.Summary.Components["resize"]
	if !fn.Summary.SLO.Met || fn.Summary.ErrorRate != 0 || c.ColdStarts.Count < 20 || c.Instances.Max < 30 {
		t.Errorf("function: SLO met %v, error rate %v, %d cold starts, %d environments at most", fn.Summary.SLO.Met, fn.Summary.ErrorRate, c.ColdStarts.Count, c.Instances.Max)
	}
	fleet := runTOML(t, string(src), "traffic.uploads.to=resize_fleet")
	if fleet.Summary.ErrorRate < 0.2 || fleet.Summary.Cost.PerMillionRequestsUSD <= fn.Summary.Cost.PerMillionRequestsUSD {
		t.Errorf("fleet: error rate %v, $%v per million (function: $%v)", fleet.Summary.ErrorRate, fleet.Summary.Cost.PerMillionRequestsUSD, fn.Summary.Cost.PerMillionRequestsUSD)
	}
}

// A function consuming a queue (Lambda's event source mapping): each
// message is an asynchronous invocation, one at a time per ordered
// partition. 160 messages/s over 2 partitions, exp(10 ms) on warm
// (provisioned) environments: each partition is an M/M/1 at ρ = 0.8, so
// publish → processed is 1/(μ − λ) = 50 ms, as with a service consuming.
func TestFunctionConsumesQueue(t *testing.T) {
	t.Parallel()
	runs := seedRuns(t, `
[run]
duration = "2100s"
warmup = "100s"
window = "100s"
[traffic.in]
to = "producer"
rate = 160
keys = "uniform(n=1000000)"
[service.producer]
cores = 8
steps = [ { publish = "topic" } ]
[queue.topic]
partitions = 2
consumer = "fn"
[function.fn]
duration = "exp(10ms)"
provisioned = 2
max_instances = 2
`, 24)
	agreesOver(t, runs, "publish → processed mean (ms)", func(o *experiments.Outcome) float64 { return o.Summary.Components["topic"].Latency.Mean }, 50)
	for _, o := range runs {
		if c := o.Summary.Components["fn"]; *c.Throttled != 0 || c.ColdStarts.Count != 0 || *c.Queued != 0 {
			t.Errorf("%d throttled, %d cold starts, %d waited: one invocation per partition fits the 2 warm environments", *c.Throttled, c.ColdStarts.Count, *c.Queued)
		}
	}
}
