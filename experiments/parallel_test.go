package experiments_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/capsim/capsim/experiments"
)

// Fork-join with two servers: each Poisson arrival (λ) forks into two
// M/M/1 queues (μ each) and joins when both are done. The mean response
// time is exactly (12 − ρ)/8 · 1/(μ − λ) (Nelson & Tantawi, "Approximate
// analysis of fork/join synchronization in parallel queues", IEEE Trans.
// Computers 37(6), 1988; the two-server case is Flatto & Hahn's exact
// result). λ = 50/s, μ = 100/s: 28.75 ms.
func TestForkJoinTwoServers(t *testing.T) {
	t.Parallel()
	const src = `
[run]
duration = "4100s"
warmup = "100s"
window = "100s"
[traffic.in]
to = "front"
rate = 50
[service.front]
steps = [ { parallel = [ { call = "a" }, { call = "b" } ], wait = "all" } ]
[service.a]
steps = [ { cpu = "exp(10ms)" } ]
[service.b]
steps = [ { cpu = "exp(10ms)" } ]
`
	rho, lambda, mu := 0.5, 50.0, 100.0
	want := (12 - rho) / 8 * 1000 / (mu - lambda)
	runs := seedRuns(t, src, 8)
	agreesOver(t, runs, "fork-join mean response (ms)", func(o *experiments.Outcome) float64 { return o.Summary.Latency.Mean }, want)
	// Each branch alone is an M/M/1 queue.
	agreesOver(t, runs, "branch a mean (ms)", func(o *experiments.Outcome) float64 { return o.Summary.Components["a"].Latency.Mean }, 1000/(mu-lambda))
}

// Async offload: the client waits only for the front's own work; the
// worker behind the async step sees the front's departures, which are
// Poisson (Burke's theorem), so it is an M/M/1 queue too.
func TestAsyncOffload(t *testing.T) {
	t.Parallel()
	const src = `
[run]
duration = "4100s"
warmup = "100s"
window = "100s"
[traffic.in]
to = "front"
rate = 50
[service.front]
steps = [ { cpu = "exp(2ms)" }, { async = "worker" } ]
[service.worker]
steps = [ { cpu = "exp(10ms)" } ]
`
	front := 1000 / (500.0 - 50) // M/M/1, μ = 500/s
	worker := 1000 / (100.0 - 50)
	runs := seedRuns(t, src, 8)
	agreesOver(t, runs, "client latency (ms): the front alone", func(o *experiments.Outcome) float64 { return o.Summary.Latency.Mean }, front)
	agreesOver(t, runs, "worker mean (ms): M/M/1 on Burke's departures", func(o *experiments.Outcome) float64 { return o.Summary.Components["worker"].Latency.Mean }, worker)
	agreesOver(t, runs, "async latency (ms)", func(o *experiments.Outcome) float64 { return o.Summary.Async.Latency.Mean }, worker)

	o := runs[0]
	as := o.Summary.Async
	if as.Started != o.Summary.Requests.Arrived || as.Completed+as.InFlight != as.Started {
		t.Errorf("async %+v for %d requests: every request starts one detached request, and all succeed", as, o.Summary.Requests.Arrived)
	}
}

// wait = "all", "any" and N, with branches of known, fixed length: the
// step takes as long as the branch that completes it, and work nobody
// waits for counts as wasted.
func TestParallelWait(t *testing.T) {
	t.Parallel()
	scenario := func(wait string) string {
		return fmt.Sprintf(`
[run]
duration = "100s"
[traffic.in]
to = "front"
rate = 10
arrivals = "uniform"
[service.front]
steps = [ { parallel = [ { call = "fast" }, { call = "mid" }, { call = "slow" } ], wait = %s } ]
[service.fast]
steps = [ { sleep = "const(5ms)" } ]
[service.mid]
steps = [ { sleep = "const(20ms)" } ]
[service.slow]
cores = 1000
steps = [ { cpu = "const(50ms)" } ]
`, wait)
	}
	for _, c := range []struct {
		wait   string
		ms     float64
		wasted float64 // cpu seconds per request
	}{
		{`"all"`, 50, 0},
		{`"any"`, 5, 0.05},
		{`2`, 20, 0.05},
		{`3`, 50, 0},
	} {
		o := runTOML(t, scenario(c.wait))
		s := o.Summary
		if s.Requests.Completed < 990 || math.Abs(s.Latency.Mean-c.ms) > 1e-3 || s.Latency.Max != c.ms {
			t.Errorf("wait = %s: %d completed, latency mean %v max %v ms, want all %v ms", c.wait, s.Requests.Completed, s.Latency.Mean, s.Latency.Max, c.ms)
		}
		// Branches still running at the end have not been counted yet.
		if got, want := s.Wasted.CPUS, c.wasted*float64(s.Requests.Completed); math.Abs(got-want) > 0.05+1e-9 {
			t.Errorf("wait = %s: wasted %.3f cpu-s, want %.3f", c.wait, got, want)
		}
	}
}

// A parallel step fails as soon as its condition can no longer be met, with
// the outcome of the branch that decided it; a branch's timeout is its own.
func TestParallelFailures(t *testing.T) {
	t.Parallel()
	scenario := func(branches, wait string) string {
		return fmt.Sprintf(`
[run]
duration = "100s"
[traffic.in]
to = "front"
rate = 10
arrivals = "uniform"
[service.front]
steps = [ { parallel = [ %s ], wait = %s }, { sleep = "const(1ms)" } ]
[service.fast]
steps = [ { sleep = "const(5ms)" } ]
[service.slow]
steps = [ { sleep = "const(50ms)" } ]
[service.full]
concurrency = 1
queue = 0
steps = [ { sleep = "const(1s)" } ]
`, branches, wait)
	}
	for _, c := range []struct {
		name, branches, wait   string
		ok, timedOut, rejected bool
		ms                     float64 // latency of ok requests
	}{
		{"all: a timed-out branch fails the step at its timeout", `{ call = "fast" }, { call = "slow", timeout = "10ms" }`, `"all"`, false, true, false, 0},
		{"any: the other branch carries it", `{ call = "fast" }, { call = "slow", timeout = "10ms" }`, `"any"`, true, false, false, 6},
		{"any: fails when the last branch fails", `{ call = "fast", timeout = "2ms" }, { call = "slow", timeout = "10ms" }`, `"any"`, false, true, false, 0},
		{"all: a rejected branch fails it at once", `{ call = "slow" }, { call = "full" }`, `"all"`, false, false, true, 0},
	} {
		o := runTOML(t, scenario(c.branches, c.wait))
		r := o.Summary.Requests
		switch {
		case c.ok && (r.Completed < 990 || o.Summary.Latency.Max != c.ms):
			t.Errorf("%s: %+v, max %v ms; want all ok in %v ms", c.name, r, o.Summary.Latency.Max, c.ms)
		case c.timedOut && r.TimedOut < 990:
			t.Errorf("%s: %+v; want all timed out", c.name, r)
		case c.rejected && r.Rejected < 850: // 900: the first request of each second takes the slot
			t.Errorf("%s: %+v; want nearly all rejected", c.name, r)
		}
	}
}
