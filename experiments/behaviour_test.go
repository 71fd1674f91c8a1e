package experiments_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/capsim/capsim/examples"
	"github.com/capsim/capsim/experiments"
	"github.com/capsim/capsim/experiments/scenario"
	"github.com/capsim/capsim/output"
	"github.com/capsim/capsim/sim"
)

func summaryJSON(t *testing.T, o *experiments.Outcome) []byte {
	t.Helper()
	b, err := output.JSON(o.Summary)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Same scenario and seed: identical summary.json and timeseries.csv bytes.
// A different seed: different bytes.
func TestDeterminism(t *testing.T) {
	src, _ := examples.Get("ticketing-onsale")
	run := func(seed string) ([]byte, []byte) {
		o := runTOML(t, string(src), "run.duration=60s", "run.seed="+seed)
		return summaryJSON(t, o), output.TimeseriesCSV(o)
	}
	j1, c1 := run("1")
	j2, c2 := run("1")
	if !bytes.Equal(j1, j2) || !bytes.Equal(c1, c2) {
		t.Error("two runs with the same seed differ")
	}
	j3, _ := run("2")
	if bytes.Equal(j1, j3) {
		t.Error("a different seed gave identical results")
	}
}

const shop = `
[run]
duration = "300s"
[traffic.users]
to = "lb"
rate = 300
timeout = "1s"
keys = "zipf(s=0.9, n=1000)"
[balancer.lb]
to = "web"
algorithm = "power_of_two"
latency = "exp(200us)"
[service.web]
instances = 3
cores = 2
concurrency = 20
queue = 50
steps = [ { cpu = "exp(3ms)" }, { call = "db", p = 0.4 }, { sleep = "exp(1ms)" } ]
[service.db]
cores = 4
steps = [ { cpu = "exp(4ms)" } ]
`

// Adding a component that shares nothing with the others leaves their
// random draws, and so their results, unchanged.
func TestUnrelatedComponentChangesNothing(t *testing.T) {
	base := runTOML(t, shop)
	more := runTOML(t, shop+`
[traffic.batch]
to = "reports"
rate = 50
[service.reports]
steps = [ { cpu = "exp(10ms)" } ]
`)
	for _, name := range []string{"lb", "web", "db"} {
		a, b := base.Summary.Components[name], more.Summary.Components[name]
		if a.Latency != b.Latency || a.Requests != b.Requests || a.Queue != b.Queue || (a.Utilization != nil && *a.Utilization != *b.Utilization) {
			t.Errorf("%s changed: %+v vs %+v", name, a, b)
		}
	}
	if base.Summary.Traffic["users"] != more.Summary.Traffic["users"] {
		t.Error("traffic users changed")
	}
}

// Conditional steps run with their probability: the db sees 40 % of web's
// calls.
func TestConditionalStep(t *testing.T) {
	o := runTOML(t, shop)
	web, db := o.Summary.Components["web"], o.Summary.Components["db"]
	var admitted float64 = float64(web.Requests - web.Rejected)
	if f := float64(db.Requests) / admitted; math.Abs(f-0.4) > 0.01 {
		t.Errorf("db got %.3f of web's admitted requests, want 0.4", f)
	}
}

// A client timeout ends the request for the client, the work downstream
// goes on and is counted as wasted; per-call timeouts fail the caller.
func TestTimeouts(t *testing.T) {
	o := runTOML(t, `
[run]
duration = "200s"
[traffic.in]
to = "web"
rate = 50
timeout = "100ms"
[service.web]
steps = [ { cpu = "const(1ms)" }, { call = "slow", timeout = "150ms" } ]
[service.slow]
concurrency = "unlimited"
steps = [ { sleep = "uniform(0s, 400ms)" } ]
`)
	r := o.Summary.Requests
	// sleep < 99 ms: ok; otherwise the client gives up at 100 ms.
	if f := float64(r.TimedOut) / float64(r.Arrived); math.Abs(f-(1-0.099/0.4)) > 0.02 {
		t.Errorf("timed out %.3f, want %.3f", f, 1-0.099/0.4)
	}
	if o.Summary.Latency.Max > 100 {
		t.Errorf("an ok request took %.1f ms, beyond the client timeout", o.Summary.Latency.Max)
	}
	// Timed-out requests whose calls are still running at the end are not
	// yet accounted (at most 400 ms × 50/s of them).
	if w := o.Summary.Wasted; r.TimedOut-w.Requests < 0 || r.TimedOut-w.Requests > 20 || math.Abs(w.CPUS-float64(w.Requests)/1000) > 1e-6 {
		t.Errorf("wasted %+v for %d timeouts", o.Summary.Wasted, r.TimedOut)
	}
	// The slow service finishes everything it was given, timed out or not.
	slow := o.Summary.Components["slow"]
	if math.Abs(float64(slow.Requests)-float64(r.Arrived)) > 25 {
		t.Errorf("slow served %d of %d", slow.Requests, r.Arrived)
	}
}

// Sessions: each user sends its requests in order, thinking between them.
func TestUsersAndSessions(t *testing.T) {
	o := runTOML(t, `
[run]
duration = "60s"
[traffic.buyers]
to = "web"
users = 1000
over = "10s"
session = [ { endpoint = "a" }, { endpoint = "b", think = "const(5s)" }, { endpoint = "a", think = "exp(1s)" } ]
[service.web.endpoint.a]
steps = [ { cpu = "exp(1ms)" } ]
[service.web.endpoint.b]
steps = [ { cpu = "exp(1ms)" } ]
`)
	if a := o.Summary.Requests.Arrived; a != 3000 {
		t.Errorf("%d requests, want 3 per user = 3000", a)
	}
	if c := o.Summary.Requests.Completed; c != 3000 {
		t.Errorf("%d completed", c)
	}
	// Users arrive over [0, 10 s); the third request starts ≥ 5 s later, so
	// nothing arrives in the last window of a 60 s run... and arrivals
	// during [10 s, 15 s) are session follow-ups only.
	var early, late int64
	for _, w := range o.Result.Windows {
		if w.Start < 10e9 {
			early += w.Arrivals
		} else {
			late += w.Arrivals
		}
	}
	if early < 1000 || late < 1000 {
		t.Errorf("arrivals before 10 s %d, after %d", early, late)
	}
}

// Each traffic shape delivers the right number of arrivals.
func TestTrafficCounts(t *testing.T) {
	cases := []struct {
		name, traffic string
		want          float64
		tol           float64
	}{
		{"users linear", `users = 5000` + "\n" + `over = "10s"`, 5000, 0},
		{"users at once", `users = 700` + "\n" + `shape = "at_once"`, 700, 0},
		{"users heaviside", `users = 5000` + "\n" + `over = "10s"` + "\n" + `shape = "heaviside"`, 5000, 0},
		{"users poisson", `users = 5000` + "\n" + `over = "10s"` + "\n" + `shape = "poisson"`, 5000, 0},
		{"uniform rate", `rate = 100` + "\n" + `arrivals = "uniform"`, 2000, 0},
		{"poisson rate", `rate = 100`, 2000, 4 * math.Sqrt(2000)},
		// k6 stages: 0 → 100/s over 10 s, hold 100/s for 5 s: 500 + 500.
		{"stages uniform", `stages = [ { duration = "10s", target = 100 }, { duration = "5s", target = 100 } ]` + "\n" + `arrivals = "uniform"`, 1000, 1},
		{"stages poisson", `start_rate = 50` + "\n" + `stages = [ { duration = "10s", target = 150 } ]`, 1000, 4 * math.Sqrt(1000)},
		{"start and stop", `rate = 100` + "\n" + `arrivals = "uniform"` + "\n" + `start = "5s"` + "\n" + `stop = "15s"`, 1000, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := runTOML(t, "[run]\nduration = \"20s\"\n[traffic.t]\nto = \"s\"\n"+c.traffic+"\n[service.s]\ncores = 64\nsteps = [ { cpu = \"exp(1ms)\" } ]\n")
			if got := float64(o.Summary.Requests.Arrived); math.Abs(got-c.want) > c.tol {
				t.Errorf("%v arrivals, want %v ± %v", got, c.want, c.tol)
			}
		})
	}
}

// A warm-up period is left out of the statistics.
func TestWarmup(t *testing.T) {
	o := runTOML(t, "[run]\nduration = \"20s\"\nwarmup = \"5s\"\n[traffic.t]\nto = \"s\"\nrate = 100\narrivals = \"uniform\"\n[service.s]\nsteps = [ { cpu = \"const(1ms)\" } ]\n")
	if a := o.Summary.Requests.Arrived; a != 1500 {
		t.Errorf("%d arrivals counted, want 1500 (15 s at 100/s)", a)
	}
	if o.Summary.MeasuredS != 15 {
		t.Errorf("measured %v s", o.Summary.MeasuredS)
	}
	// The time series covers the warm-up too, and a row starts exactly
	// where it ends.
	o = runTOML(t, "[run]\nduration = \"20s\"\nwarmup = \"5.5s\"\nwindow = \"2s\"\n[traffic.t]\nto = \"s\"\nrate = 100\narrivals = \"uniform\"\n[service.s]\nsteps = [ { cpu = \"const(1ms)\" } ]\n")
	var all int64
	split := false
	for _, w := range o.Result.Windows {
		all += w.Arrivals
		split = split || w.Start == 5500*sim.Millisecond
	}
	if all != 2000 || !split {
		t.Errorf("time series: %d arrivals (want 2000), row at the warm-up's end: %v", all, split)
	}
}

// The mix sends requests to endpoints in proportion to their weights.
func TestMix(t *testing.T) {
	o := runTOML(t, `
[run]
duration = "100s"
[traffic.t]
to = "s"
rate = 200
mix = { browse = 9, buy = 1 }
[service.s.endpoint.browse]
steps = [ { cpu = "exp(1ms)" } ]
[service.s.endpoint.buy]
steps = [ { cpu = "exp(1ms)" }, { call = "pay" } ]
[service.pay]
steps = [ { cpu = "exp(1ms)" } ]
`)
	f := float64(o.Summary.Components["pay"].Requests) / float64(o.Summary.Requests.Arrived)
	if math.Abs(f-0.1) > 0.005 {
		t.Errorf("buy share %.4f, want 0.1", f)
	}
}

// The SLO verdicts follow the measured values.
func TestSLO(t *testing.T) {
	src := oneStation(80, "200s", "1", `"unlimited"`, `"unlimited"`, "exp(10ms)") + "\n[slo]\np99 = \"300ms\"\nmean = \"20ms\"\nerror_rate = 0.01\n"
	o := runTOML(t, src)
	met := map[string]bool{}
	for _, c := range o.Summary.SLO.Checks {
		met[c.Name] = c.Met
	}
	if !met["p99"] || met["mean"] || !met["error_rate"] || o.Summary.SLO.Met {
		t.Errorf("checks %+v", o.Summary.SLO)
	}
}

// The embedded default example runs and tells its story: the burst
// overloads the web tier.
func TestDefaultExample(t *testing.T) {
	src, _ := examples.Get(examples.Default)
	sc, err := scenario.Parse("default", src, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	o, err := experiments.Run(sc, experiments.Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, o)
	if o.Summary.Requests.Arrived < 400_000 {
		t.Errorf("only %d requests", o.Summary.Requests.Arrived)
	}
	var b strings.Builder
	if err := output.Text(&b, o); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "SLO") {
		t.Errorf("summary without SLO verdicts:\n%s", b.String())
	}
}

// Gatling open injection steps run one after the other with exact totals.
func TestInjectSteps(t *testing.T) {
	o := runTOML(t, `
[run]
duration = "200s"
window = "10s"
[traffic.g]
to = "s"
inject = [ { nothing_for = "10s" }, { at_once = 100 }, { ramp = 500, over = "30s" },
           { constant = 20, over = "60s" }, { ramp_rate = 10, to = 50, over = "40s" },
           { heaviside = 1000, over = "20s" } ]
[service.s]
cores = 64
steps = [ { cpu = "exp(1ms)" } ]
`)
	// 100 + 500 + 20×60 + (10+50)/2×40 + 1000.
	if a := o.Summary.Requests.Arrived; a != 100+500+1200+1200+1000 {
		t.Errorf("%d arrivals, want 4000", a)
	}
	if w := o.Result.Windows[0]; w.Arrivals != 0 {
		t.Errorf("%d arrivals during nothing_for", w.Arrivals)
	}
	// [10 s, 20 s): the 100 at once and the first third of the ramp.
	if w := o.Result.Windows[1]; w.Arrivals != 100+167 {
		t.Errorf("%d arrivals in [10 s, 20 s), want 267", w.Arrivals)
	}
}

// A cancelled context stops a run with its error (Ctrl-C in capsim run).
func TestRunCancelled(t *testing.T) {
	sc, err := scenario.Parse("s.toml", []byte(shop), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := experiments.Run(sc, experiments.Options{Context: ctx}); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

// An overloaded component with an unbounded queue would hold requests
// without end; the run stops at run.max_in_flight with an error that says
// where they pile up and what to change, instead of exhausting memory.
func TestMaxInFlightStopsARun(t *testing.T) {
	sc, err := scenario.Parse("s.toml", []byte(`
[run]
duration = "1h"
max_in_flight = 10000
[traffic.in]
to = "web"
rate = 2000
[service.web]
steps = [ { cpu = "exp(1ms)" } ]
`), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = experiments.Run(sc, experiments.Options{})
	for _, want := range []string{"run stopped at 9.", "10001 requests in the system, more than the limit of 10000 (run.max_in_flight)", "service.web has 9999 waiting in an unbounded queue", "concurrency = N with queue = M"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want %q", err, want)
		}
	}
	// With a bounded queue the excess is rejected and the run completes.
	sc, err = scenario.Parse("s.toml", []byte(`
[run]
duration = "60s"
max_in_flight = 10000
[traffic.in]
to = "web"
rate = 2000
[service.web]
concurrency = 8
queue = 100
steps = [ { cpu = "exp(1ms)" } ]
`), nil, nil)
	o := runChecked(t, sc, err)
	if o.Summary.Requests.Rejected == 0 {
		t.Error("nothing rejected")
	}
}

// Messages waiting in a broker hold memory as requests do: a topic its
// consumers cannot keep up with stops the run at run.max_in_flight too,
// and the error names the queue.
func TestMaxInFlightCountsQueuedMessages(t *testing.T) {
	sc, err := scenario.Parse("s.toml", []byte(`
[run]
duration = "1h"
max_in_flight = 10000
[traffic.in]
to = "producer"
rate = 2000
arrivals = "uniform"
[service.producer]
steps = [ { publish = "q" } ]
[queue.q]
consumer = "worker"
[service.worker]
steps = [ { cpu = "const(1ms)" } ]
`), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = experiments.Run(sc, experiments.Options{})
	// One partition consumes 1,000/s of the 2,000/s: the backlog grows at
	// 1,000/s, so waiting messages plus the one in flight and the
	// publishing request pass 10,000 just before 10 s, with 9,998 waiting.
	for _, want := range []string{"run stopped at 9.99", "more than the limit of 10000 (run.max_in_flight)", "queue.q has 9998 messages waiting", "capacity = N"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want %q", err, want)
		}
	}
}

// The Universal Scalability Law: a saturated instance of N cores does
// X(N) = N / (1 + σ(N−1) + κN(N−1)) times one core's work. With σ = 0.03,
// κ = 0.0005 and 10 ms steps, 16 cores complete 1019/s instead of 1600/s,
// and 64 cores fewer than 32 (past the peak at N* = √((1−σ)/κ) ≈ 44).
func TestUSLCeiling(t *testing.T) {
	t.Parallel()
	src := `
[run]
duration = "60s"
warmup = "10s"
[traffic.in]
to = "db"
vus = %d                  # 2 per core, no think time: always saturated
think = "const(0s)"
[service.db]
cores = %d
usl = { contention = 0.03, coherency = 0.0005 }
steps = [ { cpu = "const(10ms)" } ]
`
	x := func(n float64) float64 { return n / (1 + 0.03*(n-1) + 0.0005*n*(n-1)) }
	got := map[int]float64{}
	for _, n := range []int{1, 16, 32, 64} {
		o := runTOML(t, fmt.Sprintf(src, 2*n, n))
		got[n] = o.Summary.Throughput
		want := 100 * x(float64(n))
		if math.Abs(got[n]-want) > 0.02*want {
			t.Errorf("%d cores: %.1f/s, want X(%d) × 100/s = %.1f/s within 2 %%", n, got[n], n, want)
		}
		t.Logf("%d cores: %.1f/s, USL %.1f/s", n, got[n], want)
	}
	if got[64] >= got[32] {
		t.Errorf("64 cores %.0f/s, 32 cores %.0f/s: past the USL peak more cores should do less", got[64], got[32])
	}
}

// consistent_hash in a scenario: requests with the same key reach the same
// instance (sticky), so Zipf keys make one instance hot. 400/s over 8
// single-core instances of 10 ms is 50 % on average, but the hottest key
// alone (zipf(1.1) over 1,000 keys: 18 %, 72/s) plus its instance's share
// of the others passes that instance's 100/s: it saturates, and p99 is
// far above round robin's.
func TestConsistentHashScenario(t *testing.T) {
	t.Parallel()
	src := `
[run]
duration = "300s"
[traffic.in]
to = "lb"
rate = 400
keys = "zipf(s=1.1, n=1000)"
[balancer.lb]
to = "web"
algorithm = "%s"
[service.web]
instances = 8
steps = [ { cpu = "exp(10ms)" } ]
`
	hash := runTOML(t, fmt.Sprintf(src, "consistent_hash"))
	rr := runTOML(t, fmt.Sprintf(src, "round_robin"))
	if h, r := hash.Summary.Latency.P99, rr.Summary.Latency.P99; h < 2*r {
		t.Errorf("p99 %.1f ms with consistent hashing, %.1f ms round robin: the hot key's instance should stand out", h, r)
	}
}

// least_latency steers around a slow instance: one of 4 instances is 5×
// slower (a slow fault for the whole run). Round robin still sends it a
// quarter of the requests, and they set the p99; the latency-aware picker
// learns its response times and sends it far fewer.
func TestLeastLatencyAvoidsSlowInstance(t *testing.T) {
	t.Parallel()
	src := `
[run]
duration = "300s"
[traffic.in]
to = "lb"
rate = 200
[balancer.lb]
to = "web"
algorithm = "%s"
[service.web]
instances = 4
steps = [ { cpu = "exp(10ms)" } ]
[[fault]]
target = "web"
kind = "slow"
instances = 1
factor = 5
at = "0s"
duration = "300s"
`
	ll := runTOML(t, fmt.Sprintf(src, "least_latency"))
	rr := runTOML(t, fmt.Sprintf(src, "round_robin"))
	p2 := runTOML(t, fmt.Sprintf(src, "power_of_two"))
	l, r, p := ll.Summary.Latency, rr.Summary.Latency, p2.Summary.Latency
	t.Logf("mean / p99: least_latency %.1f / %.1f ms, power_of_two %.1f / %.1f ms, round_robin %.1f / %.1f ms", l.Mean, l.P99, p.Mean, p.P99, r.Mean, r.P99)
	if !(l.Mean < p.Mean && p.Mean < r.Mean) || l.P99 > r.P99/2 {
		t.Errorf("least_latency should beat power_of_two, which beats round robin, around a slow instance")
	}
}

// The network: a call from zone a to zone b with 0.5 ms per hop and 2 ms
// across zones adds exactly 2 × (0.5 + 2) = 5 ms to a request at low load
// (constant times; an in-zone call adds 2 × 0.5 ms); the bytes that cross
// zones are billed exactly: request_kb + response_kb per crossing call ×
// egress_per_gb.
func TestNetworkHops(t *testing.T) {
	t.Parallel()
	src := `
[run]
duration = "100s"
[traffic.in]
to = "web"
rate = 1
arrivals = "uniform"
[network]
latency = "const(0.5ms)"
zones = ["a", "b"]
cross_zone = "2ms"
egress_per_gb = 0.01
[service.web]
zones = ["a"]
steps = [ { cpu = "const(3ms)" }, { call = "db" } ]
[service.db]
zones = ["%s"]
request_kb = 10
response_kb = 90
steps = [ { cpu = "const(2ms)" } ]
`
	for _, c := range []struct {
		zone      string
		latencyMS float64
		cross     int64
	}{{"b", 3 + 2 + 5, 200}, {"a", 3 + 2 + 1, 0}} {
		o := runTOML(t, fmt.Sprintf(src, c.zone))
		l, n := o.Summary.Latency, o.Summary.Network
		if l.Mean != c.latencyMS || l.Max != c.latencyMS {
			t.Errorf("db in zone %s: latency mean %v max %v ms, want exactly %v", c.zone, l.Mean, l.Max, c.latencyMS)
		}
		if n == nil || n.Hops != 200 || n.CrossZoneHops != c.cross {
			t.Fatalf("db in zone %s: network %+v, want 200 hops, %d crossing", c.zone, n, c.cross)
		}
		wantGB := float64(c.cross/2) * 100 / 1e6
		if got := o.Result.Network; got.CrossZoneGB != wantGB || got.EgressUSD != wantGB*0.01 {
			t.Errorf("db in zone %s: %v GB, $%v egress; want %v GB, $%v", c.zone, got.CrossZoneGB, got.EgressUSD, wantGB, wantGB*0.01)
		}
	}
}

// Zone-aware routing (Envoy's): 4 callers, 2 in each of zones a and b,
// through a zone-aware balancer to 6 instances. Spread 3 and 3, each zone
// has the capacity share of its demand: every call stays in its zone.
// Spread 2 in a and 4 in b (zones = ["a", "b", "b"]), zone a has a third of
// the capacity for half the demand: its callers keep 2/3 of their calls
// local and spill 1/3 to b — a sixth of all calls cross — where round
// robin crosses half the time.
func TestZoneAwareRouting(t *testing.T) {
	t.Parallel()
	src := `
[run]
duration = "200s"
[traffic.in]
to = "front"
rate = 200
[network]
latency = "const(0.1ms)"
zones = ["a", "b"]
cross_zone = "1ms"
[service.front]
instances = 4
cores = 4
zones = ["a", "b"]
steps = [ { call = "lb" } ]
[balancer.lb]
to = "api"
zone_aware = %v
[service.api]
instances = 6
cores = 4
zones = %s
steps = [ { cpu = "exp(2ms)" } ]
`
	for _, c := range []struct {
		aware bool
		zones string
		cross float64
	}{{true, `["a", "b"]`, 0}, {true, `["a", "b", "b"]`, 1.0 / 6}, {false, `["a", "b", "b"]`, 0.5}} {
		o := runTOML(t, fmt.Sprintf(src, c.aware, c.zones))
		n := o.Summary.Network
		frac := float64(n.CrossZoneHops) / float64(n.Hops)
		// Binomial sampling error of the fraction of calls that cross.
		calls := float64(n.Hops / 2)
		tol := 4.5*math.Sqrt(c.cross*(1-c.cross)/calls) + 1e-9
		if math.Abs(frac-c.cross) > tol {
			t.Errorf("zone_aware %v, api zones %s: %.4f of calls crossed zones, want %.4f ± %.4f", c.aware, c.zones, frac, c.cross, tol)
		}
		t.Logf("zone_aware %v, api zones %s: %.4f of calls crossed zones (theory %.4f)", c.aware, c.zones, frac, c.cross)
	}
}

// The multi-zone-shop example tells its story: the zone-aware catalog
// balancer keeps web's calls in their zone — less egress and latency than
// plain routing — and the shop rides out the loss of zone b.
func TestMultiZoneShopExample(t *testing.T) {
	t.Parallel()
	src, _ := examples.Get("multi-zone-shop")
	aware := runTOML(t, string(src), "run.duration=10m")
	plain := runTOML(t, string(src), "run.duration=10m", "balancer.catalog_lb.zone_aware=false")
	a, p := aware.Summary, plain.Summary
	if a.Network.EgressUSD*2 > p.Network.EgressUSD || a.Latency.Mean >= p.Latency.Mean {
		t.Errorf("zone-aware: $%v egress, %.2f ms; plain: $%v, %.2f ms", a.Network.EgressUSD, a.Latency.Mean, p.Network.EgressUSD, p.Latency.Mean)
	}
	if !a.SLO.Met || len(a.Faults) != 2 || !a.Faults[0].Recovered || !a.Faults[1].Recovered {
		t.Errorf("SLO met %v, faults %+v: want the loss of zone b ridden out", a.SLO.Met, a.Faults)
	}
}

// Caches and databases carry payloads too: every call from zone a to a
// database in zone b bills request_kb + response_kb.
func TestNetworkDatabasePayload(t *testing.T) {
	t.Parallel()
	o := runTOML(t, `
[run]
duration = "100s"
[traffic.in]
to = "web"
rate = 10
arrivals = "uniform"
[network]
zones = ["a", "b"]
egress_per_gb = 0.01
[service.web]
zones = ["a"]
steps = [ { call = "db" } ]
[database.db]
zones = ["b"]
request_kb = 0.5
response_kb = 4.5
`)
	n := o.Result.Network
	if n.CrossZoneHops != 2000 || n.CrossZoneGB != 1000*5/1e6 {
		t.Errorf("network %+v: want 1,000 crossing calls of 5 KB", n)
	}
}

// Clients in zones: 60 % of the requests from zone a, 40 % from b, through
// a zone-aware balancer to 3 + 3 instances. Zone a's clients outnumber its
// share of the fleet: 0.5 / 0.6 of their requests stay, 1/6 spill to b —
// 10 % of all requests cross; each request also takes its request and
// response hop (0.5 ms each, 2 ms more across), so the mean latency is the
// work + 1 ms + 10 % × 4 ms.
func TestTrafficFromZones(t *testing.T) {
	t.Parallel()
	o := runTOML(t, `
[run]
duration = "300s"
[traffic.in]
to = "lb"
rate = 100
zones = { a = 0.6, b = 0.4 }
[network]
latency = "const(0.5ms)"
zones = ["a", "b"]
cross_zone = "2ms"
[balancer.lb]
to = "web"
zone_aware = true
[service.web]
instances = 6
cores = 4
zones = ["a", "b"]
steps = [ { cpu = "const(3ms)" } ]
`)
	n := o.Summary.Network
	frac := float64(n.CrossZoneHops) / float64(n.Hops)
	calls := float64(n.Hops / 2)
	if tol := 4.5 * math.Sqrt(0.1*0.9/calls); math.Abs(frac-0.1) > tol {
		t.Errorf("%.4f of requests crossed zones, want 0.1 ± %.4f", frac, tol)
	}
	if want := 3 + 1 + 4*frac; math.Abs(o.Summary.Latency.Mean-want) > 0.01 {
		t.Errorf("mean latency %.3f ms, want 3 + 1 + %.4f × 4 = %.3f", o.Summary.Latency.Mean, frac, want)
	}
}

// Per-zone utilisation: 4 round-robin instances over zones a and b, one of
// zone a's 5× slower (a slow fault): at 10/s each (10 % busy, 50 % for the
// slow one) zone a runs at (5 + 1)/2 = 3 times zone b's utilisation, and
// the zones' busy cores add up to the whole.
func TestZoneUtilization(t *testing.T) {
	t.Parallel()
	o := runTOML(t, `
[run]
duration = "600s"
[traffic.in]
to = "lb"
rate = 40
[network]
zones = ["a", "b"]
[balancer.lb]
to = "web"
[service.web]
instances = 4
zones = ["a", "b"]
steps = [ { cpu = "exp(10ms)" } ]
[[fault]]
target = "web"
kind = "slow"
instances = 1
factor = 5
at = "0s"
duration = "600s"
`)
	w := o.Summary.Components["web"]
	a, b := w.Zones["a"], w.Zones["b"]
	if a.Cores != 2 || b.Cores != 2 {
		t.Fatalf("zones %+v: want 2 cores in each", w.Zones)
	}
	if r := a.Utilization / b.Utilization; math.Abs(r-3) > 0.15 {
		t.Errorf("zone a %.4f, zone b %.4f: ratio %.2f, want 3", a.Utilization, b.Utilization, r)
	}
	if whole := (a.Utilization*a.Cores + b.Utilization*b.Cores) / 4; math.Abs(whole-*w.Utilization) > 1e-3 {
		t.Errorf("zones add up to %.4f, the whole is %.4f", whole, *w.Utilization)
	}
}

// Where the time goes, with constant times and no queueing: a client in
// zone a calls web (zone a, 2 ms of cpu), which calls db (zone b, 1 ms) over
// hops of 0.5 ms with 2 ms more across. web's calls spend 2 ms on a core
// and 1 + 2 × 2.5 = 6 ms waiting on db; the hops into web take 1 ms, those
// into db 5 ms; the request takes 1 + 2 + 6 = 9 ms.
func TestTimeSplitNetwork(t *testing.T) {
	t.Parallel()
	o := runTOML(t, `
[run]
duration = "100s"
[traffic.in]
to = "web"
rate = 10
arrivals = "uniform"
zone = "a"
[network]
latency = "const(0.5ms)"
zones = ["a", "b"]
cross_zone = "2ms"
[service.web]
zones = ["a"]
steps = [ { cpu = "const(2ms)" }, { call = "db" } ]
[service.db]
zones = ["b"]
steps = [ { cpu = "const(1ms)" } ]
`)
	if l := o.Summary.Latency; l.Mean != 9 || l.Max != 9 {
		t.Errorf("latency mean %v max %v ms, want exactly 9", l.Mean, l.Max)
	}
	one := 1.0
	five := 5.0
	for name, want := range map[string]experiments.TimeSplit{
		"web": {Calls: 1000, CPU: 2, Waiting: 6, Network: &one},
		"db":  {Calls: 1000, CPU: 1, Waiting: 0, Network: &five},
	} {
		got := o.Summary.Components[name].TimeSplit
		if got == nil || got.Calls != want.Calls || got.SlotWait != 0 || got.CoreWait != 0 || got.CPU != want.CPU ||
			got.Waiting != want.Waiting || got.Network == nil {
			t.Errorf("%s: time split %+v, want %+v (network %v)", name, got, want, *want.Network)
		} else if *got.Network != *want.Network {
			t.Errorf("%s: network %v ms, want %v", name, *got.Network, *want.Network)
		}
	}
}

// Regions: a hop between regions takes their latency instead of
// cross_zone, and its bytes are billed at the price of the region they
// leave. web in us-east calls db in eu-west (40 ms one way): 1 ms of
// client hops + 2 ms + 2 × 40.5 ms + 1 ms = 85 ms exactly; each call sends
// 1 KB from us-east ($0.02/GB) and answers 9 KB from eu-west ($0.05/GB).
func TestRegions(t *testing.T) {
	t.Parallel()
	o := runTOML(t, `
[run]
duration = "100s"
[traffic.in]
to = "web"
rate = 10
arrivals = "uniform"
region = "us-east"
[network]
latency = "const(0.5ms)"
cross_zone = "2ms"
egress_per_gb = 0.01
[network.regions.us-east]
zones = ["use1-a"]
egress_per_gb = 0.02
[network.regions.eu-west]
latency = { us-east = "40ms" }
egress_per_gb = 0.05
[service.web]
zones = ["use1-a"]
steps = [ { cpu = "const(2ms)" }, { call = "db" } ]
[service.db]
zones = ["eu-west"]
request_kb = 1
response_kb = 9
steps = [ { cpu = "const(1ms)" } ]
`)
	if l := o.Summary.Latency; l.Mean != 85 || l.Max != 85 {
		t.Errorf("latency mean %v max %v ms, want exactly 85", l.Mean, l.Max)
	}
	n := o.Result.Network
	if want := 1000 * (1*0.02 + 9*0.05) / 1e6; n.CrossRegionHops != 2000 || n.CrossZoneHops != 0 || n.CrossRegionGB != 1000*10/1e6 || math.Abs(n.EgressUSD-want) > 1e-15 {
		t.Errorf("network %+v: want 2,000 hops across regions carrying 0.01 GB for $%v", n, want)
	}
}

// Least-latency routing across regions: clients in us and eu (half each),
// api in both (2 instances each), 40 ms between. Each zone's callers
// balance on the round trips they see, so a request leaves its region only
// when both of the power of two choices are remote: 2/4 × 1/3 = 1/6 of
// them, where round robin sends half. A region outage (eu) then sends eu's
// clients to us: with a health check, the requests still succeed.
func TestLeastLatencyAcrossRegions(t *testing.T) {
	t.Parallel()
	src := `
[run]
duration = "300s"
[traffic.in]
to = "lb"
rate = 200
regions = { us = 1, eu = 1 }
[network]
latency = "const(0.5ms)"
[network.regions.us]
[network.regions.eu]
latency = { us = "40ms" }
[balancer.lb]
to = "api"
algorithm = "%s"
health_check = { type = "tcp", interval = "1s", fall = 2, rise = 2 }
[service.api]
instances = 4
cores = 4
zones = ["us", "eu"]
steps = [ { cpu = "exp(5ms)" } ]
%s`
	for _, c := range []struct {
		alg   string
		cross float64
	}{{"least_latency", 1.0 / 6}, {"round_robin", 0.5}} {
		o := runTOML(t, fmt.Sprintf(src, c.alg, ""))
		n := o.Summary.Network
		frac := float64(*n.CrossRegionHops) / float64(n.Hops)
		calls := float64(n.Hops / 2)
		t.Logf("%s: %.4f of requests crossed regions (theory %.4f)", c.alg, frac, c.cross)
		if tol := 4.5 * math.Sqrt(c.cross*(1-c.cross)/calls); math.Abs(frac-c.cross) > tol {
			t.Errorf("%s: %.4f of requests crossed regions, want %.4f ± %.4f", c.alg, frac, c.cross, tol)
		}
	}
	o := runTOML(t, fmt.Sprintf(src, "least_latency", `
[[fault]]
region = "eu"
kind = "outage"
at = "100s"
duration = "100s"
`))
	f := o.Summary.Faults
	if len(f) != 1 || fmt.Sprint(f[0].Instances) != "[1 3]" || !f[0].Recovered {
		t.Fatalf("faults %+v: want eu's instances 1 and 3 down, and recovery", f)
	}
	// Only the calls sent in the ~2 s before the health check takes the eu
	// instances out fail: about 2 s × 100 eu requests/s × (5/6 local).
	t.Logf("outage of eu: %+v", o.Summary.Requests)
	if r := o.Summary.Requests; r.Failed+r.Rejected+r.TimedOut > 250 {
		t.Errorf("requests %+v: want at most ~250 failures (the health check's detection time)", r)
	}
}

// An async step's detached request crosses the network too: web in zone a
// fires audit in zone b and goes on at once (the client sees 1 ms of hops
// + 2 ms), while the audit's latency is its round trip, 2 × 2.5 ms, plus
// its 3 ms — and the hops are counted and billed.
func TestAsyncOverNetwork(t *testing.T) {
	t.Parallel()
	o := runTOML(t, `
[run]
duration = "100s"
[traffic.in]
to = "web"
rate = 10
arrivals = "uniform"
zone = "a"
[network]
latency = "const(0.5ms)"
zones = ["a", "b"]
cross_zone = "2ms"
egress_per_gb = 0.01
[service.web]
zones = ["a"]
steps = [ { cpu = "const(2ms)" }, { async = "audit" } ]
[service.audit]
zones = ["b"]
request_kb = 10
steps = [ { cpu = "const(3ms)" } ]
`)
	if l := o.Summary.Latency; l.Mean != 3 || l.Max != 3 {
		t.Errorf("latency mean %v max %v ms, want exactly 3", l.Mean, l.Max)
	}
	if a := o.Summary.Async; a == nil || a.Completed != 1000 || a.Latency.Mean != 8 || a.Latency.Max != 8 {
		t.Errorf("async %+v: want 1,000 audits of exactly 8 ms", a)
	}
	if n := o.Summary.Network; n.Hops != 4000 || n.CrossZoneHops != 2000 || n.CrossZoneGB != 0.01 {
		t.Errorf("network %+v: want 4,000 hops, 2,000 across zones carrying 0.01 GB", n)
	}
}

// A function runs in its region: a call from one of the region's zones is
// served in the caller's zone (near: 1 ms of hops), one from another region
// crosses to it (far: 2 × 40.5 ms), and the function's own calls leave from
// the zone it served the call in (far → db, both in eu: 1 ms). web's
// calls: 2 ms + (1 + 3) + (81 + 3 + 1 + 1) = 92 ms.
func TestFunctionRegion(t *testing.T) {
	t.Parallel()
	o := runTOML(t, `
[run]
duration = "100s"
[traffic.in]
to = "web"
rate = 10
arrivals = "uniform"
zone = "us-a"
[network]
latency = "const(0.5ms)"
cross_zone = "2ms"
[network.regions.us]
zones = ["us-a", "us-b"]
[network.regions.eu]
latency = { us = "40ms" }
[service.web]
zones = ["us-a"]
steps = [ { cpu = "const(2ms)" }, { call = "near" }, { call = "far" } ]
[function.near]
region = "us"
duration = "const(3ms)"
[function.far]
region = "eu"
steps = [ { cpu = "const(3ms)" }, { call = "db" } ]
[database.db]
zones = ["eu"]
read = "const(1ms)"
`)
	want := map[string]float64{"web": 1, "near": 1, "far": 81, "db": 1}
	for name, net := range want {
		ts := o.Summary.Components[name].TimeSplit
		if ts == nil || ts.Network == nil || *ts.Network != net {
			t.Errorf("%s: time split %+v, want %v ms of network", name, ts, net)
		}
	}
	if ts := o.Summary.Components["web"].TimeSplit; ts.Waiting != 90 {
		t.Errorf("web waits %v ms on its calls, want 90", ts.Waiting)
	}
	if n := o.Summary.Network; *n.CrossRegionHops != 2000 || n.CrossZoneHops != 0 {
		t.Errorf("network %+v: want only far's 1,000 calls across regions", n)
	}
}

// prefer_region is Envoy's priority levels with the caller's region first:
// a level's health is min(100, 140 × in rotation / instances), and the
// caller's region takes its health's percent of the calls. Clients in us,
// 5 api instances in us and 5 in eu; with 1 of us's down (health 112 →
// 100) every call stays in us; with 2 down (140 × 3/5 = 84) 16 % fail over
// to eu; with all 5 down, all of them.
func TestPreferRegion(t *testing.T) {
	t.Parallel()
	src := `
[run]
duration = "400s"
warmup = "10s"
[traffic.in]
to = "lb"
rate = 200
region = "us"
[network]
latency = "const(0.5ms)"
[network.regions.us]
[network.regions.eu]
latency = { us = "40ms" }
[balancer.lb]
to = "api"
algorithm = "least_connections"
prefer_region = true
health_check = { type = "tcp", interval = "1s", fall = 2, rise = 2 }
[service.api]
instances = 10
cores = 4
zones = ["us", "us", "us", "us", "us", "eu", "eu", "eu", "eu", "eu"]
steps = [ { cpu = "exp(5ms)" } ]
[[fault]]
target = "api"
kind = "crash"
instances = %d
at = "0s"
duration = "1h"
`
	for _, c := range []struct {
		down  int
		cross float64
	}{{1, 0}, {2, 0.16}, {5, 1}} {
		o := runTOML(t, fmt.Sprintf(src, c.down))
		n := o.Summary.Network
		frac := float64(*n.CrossRegionHops) / float64(n.Hops)
		calls := float64(n.Hops / 2)
		tol := 4.5*math.Sqrt(c.cross*(1-c.cross)/calls) + 1e-9
		t.Logf("%d of 5 down in us: %.4f of calls to eu (Envoy: %.2f)", c.down, frac, c.cross)
		if math.Abs(frac-c.cross) > tol {
			t.Errorf("%d of 5 down in us: %.4f of calls went to eu, want %.2f ± %.4f", c.down, frac, c.cross, tol)
		}
	}
}

// The global-api example tells its story: preferring the caller's region
// keeps every request on its side of the Atlantic, least latency alone
// sends about 3/14 across and round robin half; the loss of eu-west is
// ridden out inside the SLO.
func TestGlobalAPIExample(t *testing.T) {
	t.Parallel()
	src, _ := examples.Get("global-api")
	cross := func(o *experiments.Outcome) float64 { // the fraction of requests sent across (2 hops each)
		return float64(*o.Summary.Network.CrossRegionHops) / 2 / float64(o.Summary.Requests.Arrived)
	}
	pref := runTOML(t, string(src), "run.duration=4m")
	p2c := runTOML(t, string(src), "run.duration=4m", "balancer.edge.prefer_region=false")
	rr := runTOML(t, string(src), "run.duration=4m", "balancer.edge.prefer_region=false", "balancer.edge.algorithm=round_robin")
	if c := cross(pref); c != 0 {
		t.Errorf("prefer_region: %.4f of requests crossed regions, want none", c)
	}
	if c := cross(p2c); math.Abs(c-3.0/14) > 0.01 {
		t.Errorf("least latency: %.4f of requests crossed regions, want about 3/14", c)
	}
	if c := cross(rr); math.Abs(c-0.5) > 0.01 {
		t.Errorf("round robin: %.4f of requests crossed regions, want about 1/2", c)
	}
	if !(pref.Summary.Latency.Mean < p2c.Summary.Latency.Mean && p2c.Summary.Latency.Mean < rr.Summary.Latency.Mean) {
		t.Errorf("mean latency: prefer_region %.2f, least latency %.2f, round robin %.2f ms: want increasing", pref.Summary.Latency.Mean, p2c.Summary.Latency.Mean, rr.Summary.Latency.Mean)
	}
	full := runTOML(t, string(src))
	if s := full.Summary; !s.SLO.Met || len(s.Faults) != 2 || !s.Faults[0].Recovered {
		t.Errorf("SLO met %v, faults %+v: want the loss of eu-west ridden out", s.SLO.Met, s.Faults)
	}
}

// The bottleneck is the busiest resource of any kind: leaderboard-shards'
// hot replica (a database node, saturated), news-cache's Redis (a cache at
// 11 % whose requests would saturate it near 3,350/s, where web's cores
// would take far more), ticketing-onsale's web (its slots full).
func TestBottleneckExamples(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		example, name, kind string
		saturated           bool
	}{
		{"leaderboard-shards", "scores.s0.replica1", "database node", true},
		{"news-cache", "redis", "cache", false},
		// web's slots are full (its queue: ~200 calls an instance) though
		// its cores are at 26 %: it binds, not a busier-cored component.
		{"ticketing-onsale", "web", "service", true},
	} {
		src, _ := examples.Get(c.example)
		o := runTOML(t, string(src))
		b := o.Summary.Bottleneck
		if b == nil || b.Name != c.name || b.Kind != c.kind {
			t.Errorf("%s: bottleneck %+v, want %s (%s)", c.example, b, c.name, c.kind)
			continue
		}
		offered := float64(o.Summary.Requests.Arrived) / o.Summary.MeasuredS
		want := offered / b.Utilization
		if c.saturated { // what got through
			want = float64(o.Summary.Requests.Completed) / o.Summary.MeasuredS
		}
		if b.Saturated != c.saturated || math.Abs(b.CapacityRPS-want) > 0.1 {
			t.Errorf("%s: saturated %v, capacity %v req/s; want %v, %v", c.example, b.Saturated, b.CapacityRPS, c.saturated, want)
		}
	}
}

// The end-to-end split follows the path each answer took. With constant
// times it is exact: web (2 ms cpu, then a 1 ms sleep) calls db (1 ms) in
// another zone, from a client in web's zone — 3 ms cpu, 6 ms of network
// (two client hops of 0.5 ms, two to db, and 2 × 2 ms crossing zones),
// 1 ms other (the sleep), nothing waiting. Of a parallel step only the
// branch the step waited for last is on the path: all → the 10 ms
// branch, any → the 5 ms one.
func TestLatencySplit(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		toml string
		want experiments.LatencySplit
	}{
		{"chain over the network", `
[traffic.in]
to = "web"
rate = 10
arrivals = "uniform"
zone = "a"
[network]
latency = "const(0.5ms)"
zones = ["a", "b"]
cross_zone = "2ms"
[service.web]
zones = ["a"]
steps = [ { cpu = "const(2ms)" }, { call = "db" }, { sleep = "const(1ms)" } ]
[service.db]
zones = ["b"]
steps = [ { cpu = "const(1ms)" } ]
`, experiments.LatencySplit{CPU: 3, Network: 6, Other: 1}},
		{"parallel, all", `
[traffic.in]
to = "web"
rate = 10
arrivals = "uniform"
[service.web]
steps = [ { parallel = [ { call = "a" }, { call = "b" } ], wait = "all" } ]
[service.a]
steps = [ { cpu = "const(5ms)" } ]
[service.b]
steps = [ { cpu = "const(10ms)" } ]
`, experiments.LatencySplit{CPU: 10}},
		{"parallel, any", `
[traffic.in]
to = "web"
rate = 10
arrivals = "uniform"
[service.web]
steps = [ { parallel = [ { call = "a" }, { call = "b" } ], wait = "any" } ]
[service.a]
steps = [ { cpu = "const(5ms)" } ]
[service.b]
steps = [ { cpu = "const(10ms)" } ]
`, experiments.LatencySplit{CPU: 5}},
	} {
		o := runTOML(t, "[run]\nduration = \"100s\"\n"+c.toml)
		got := o.Summary.LatencySplit
		if got == nil || got.Slowest == nil {
			t.Fatalf("%s: no split, or no slowest", c.name)
		}
		// Every request takes the same time: the slowest 1 % is all of
		// them, split the same way.
		sl := *got.Slowest
		if sl.Share != 1 || sl.Mean != o.Summary.Latency.Mean || sl.Wait != c.want.Wait || sl.CPU != c.want.CPU || sl.Network != c.want.Network || sl.Other != c.want.Other {
			t.Errorf("%s: slowest %+v, want all requests split as %+v", c.name, sl, c.want)
		}
		got.Slowest = nil
		if *got != c.want {
			t.Errorf("%s: split %+v, want %+v (latency %v ms)", c.name, got, c.want, o.Summary.Latency.Mean)
		}
	}
}

// In a tandem of two M/M/1 stations every request waits at both: its
// end-to-end wait is the sum of the two stations' core waits (an identity
// of the bookkeeping; each station's wait is held to queueing theory by
// TestTandem), and its cpu the 5 + 4 ms of service (to 5 standard errors
// of 200k draws).
func TestLatencySplitTandem(t *testing.T) {
	t.Parallel()
	o := runTOML(t, `
[run]
duration = "2000s"
[traffic.in]
to = "web"
rate = 100
[service.web]
steps = [ { cpu = "exp(5ms)" }, { call = "db" } ]
[service.db]
steps = [ { cpu = "exp(4ms)" } ]
`)
	sp := o.Summary.LatencySplit
	if sp == nil {
		t.Fatal("no latency split")
	}
	web, db := o.Summary.Components["web"].TimeSplit, o.Summary.Components["db"].TimeSplit
	if sum := web.CoreWait + db.CoreWait; math.Abs(sp.Wait-sum) > 0.002*sum {
		t.Errorf("end-to-end wait %.3f ms, the stations' waits add to %.3f", sp.Wait, sum)
	}
	within(t, "end-to-end cpu (ms)", sp.CPU, 9, 5*math.Sqrt(25+16)/math.Sqrt(200_000)/9)
	if sp.Network != 0 || math.Abs(sp.Other) > 0.002 {
		t.Errorf("network %v, other %v ms: want 0", sp.Network, sp.Other)
	}
	if d := sp.Wait + sp.CPU + sp.Network + sp.Other - o.Summary.Latency.Mean; math.Abs(d) > 0.005 {
		t.Errorf("the split adds to %.3f ms, the mean latency is %.3f", sp.Wait+sp.CPU+sp.Network+sp.Other, o.Summary.Latency.Mean)
	}
	// The slowest: at least 1 % of the requests, at most the 1 % plus one
	// bucket (12.5 % of a latency wide) beyond the p99; their split adds
	// to their mean, and it is mostly waiting (M/M/1's tail is queueing).
	sl := sp.Slowest
	if sl == nil || sl.Share < 0.01 || sl.FromMS > o.Summary.Latency.P99 || sl.FromMS < o.Summary.Latency.P99/1.13 || sl.Mean < sl.FromMS {
		t.Fatalf("slowest %+v with p99 %v ms", sl, o.Summary.Latency.P99)
	}
	if d := sl.Wait + sl.CPU + sl.Network + sl.Other - sl.Mean; math.Abs(d) > 0.005 || sl.Wait < sl.CPU {
		t.Errorf("slowest split %+v: does not add to its mean %.3f, or is not mostly waiting", sl, sl.Mean)
	}
}
