package experiments_test

import (
	"math"
	"reflect"
	"testing"

	"github.com/capsim/capsim/experiments"
	"github.com/capsim/capsim/experiments/scenario"
)

func TestParseVaryAndPoints(t *testing.T) {
	a, err := experiments.ParseVary("service.web.instances=4..16:4")
	if err != nil || !reflect.DeepEqual(a.Values, []string{"4", "8", "12", "16"}) {
		t.Fatalf("%v %v", a, err)
	}
	b, err := experiments.ParseVary("cache.c.ttl=10s, 30s,60s")
	if err != nil || !reflect.DeepEqual(b.Values, []string{"10s", "30s", "60s"}) {
		t.Fatalf("%v %v", b, err)
	}
	pts := experiments.Points([]experiments.Vary{a, b})
	if len(pts) != 12 || !reflect.DeepEqual(pts[1].Values, []string{"4", "30s"}) || !reflect.DeepEqual(pts[11].Values, []string{"16", "60s"}) {
		t.Errorf("points %v", pts)
	}
	for _, bad := range []string{"x", "a=", "a=5..1", "a=1..2:0", "=1,2"} {
		if _, err := experiments.ParseVary(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// The knee of a hockey-stick curve is at its bend.
func TestKnee(t *testing.T) {
	var x, y []float64
	for i := 1; i <= 20; i++ {
		x = append(x, float64(i))
		y = append(y, math.Max(100-15*float64(i), 10)) // flat from i = 6
	}
	if k := experiments.Knee(x, y); x[k] != 6 {
		t.Errorf("knee at %v, want 6", x[k])
	}
}

func sweepLoader(src string) func([]string) (*scenario.Scenario, error) {
	return func(sets []string) (*scenario.Scenario, error) {
		return scenario.Parse("s.toml", []byte(src), sets, nil)
	}
}

// plan on M/M/c (λ = 500/s, exponential 10 ms service, SLO p99 ≤ 55 ms)
// returns the smallest c Erlang C says meets it — c = 6 gives a p99 of
// 61.3 ms, c = 7 gives 48.8 ms — evaluating O(log n) of the 32 points.
func TestPlanMMc(t *testing.T) {
	t.Parallel()
	src := oneStation(500, "500s", "1", `"unlimited"`, `"unlimited"`, "exp(10ms)") + "\n[slo]\np99 = \"55ms\"\n"
	for c, want := range map[int]float64{6: 61.3177, 7: 48.8409} {
		got := 1000 * bisect(func(x float64) float64 { return mmcResponseCDF(c, 500, 100, x) - 0.99 }, 0, 10)
		if math.Abs(got-want) > 0.01 {
			t.Fatalf("theory p99(c=%d) = %v", c, got)
		}
	}
	v, _ := experiments.ParseVary("service.s.cores=1..32")
	pts := experiments.Points([]experiments.Vary{v})
	res, err := experiments.Plan(pts, func(p experiments.Point) (*experiments.PointResult, error) {
		r, err := experiments.Sweep(sweepLoader(src), []experiments.Vary{v}, []experiments.Point{p}, 1, 1, experiments.Options{})
		if err != nil {
			return nil, err
		}
		return &r[0], nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Best == nil || res.Best.Point.Values[0] != "7" {
		t.Fatalf("plan chose %+v", res.Best)
	}
	if res.Evidence == nil || res.Evidence.Point.Values[0] != "6" || res.Evidence.Summary.SLO.Met {
		t.Errorf("evidence %+v", res.Evidence)
	}
	if max := int(math.Ceil(math.Log2(32))) + 2; res.Evaluated > max {
		t.Errorf("evaluated %d of 32 points, want at most %d", res.Evaluated, max)
	}
	t.Logf("c = %s meets p99 ≤ 55 ms (p99 %.1f ms); c = 6 fails (%.1f ms); %d of 32 points evaluated",
		res.Best.Point.Values[0], res.Best.Summary.Latency.P99, res.Evidence.Summary.Latency.P99, res.Evaluated)
}

// A sweep gives the same results whatever the number of workers, and its
// points share random numbers.
func TestSweepWorkers(t *testing.T) {
	t.Parallel()
	v, _ := experiments.ParseVary("service.web.instances=3..6")
	pts := experiments.Points([]experiments.Vary{v})
	run := func(workers int) []experiments.PointResult {
		r, err := experiments.Sweep(sweepLoader(shop), []experiments.Vary{v}, pts, 2, workers, experiments.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b := run(1), run(3)
	if !reflect.DeepEqual(a, b) {
		t.Error("sweep results depend on the number of workers")
	}
	if a[0].Summary.Requests.Arrived != a[3].Summary.Requests.Arrived {
		t.Error("points do not share their arrivals (common random numbers)")
	}
}

// compare pairs replications with common random numbers: a variant
// against itself differs by exactly 0, and one more instance shows a
// significant p99 drop.
func TestCompare(t *testing.T) {
	t.Parallel()
	runs := func(sets ...string) []*experiments.Outcome {
		sc, err := scenario.Parse("shop", []byte(shop), sets, nil)
		if err != nil {
			t.Fatal(err)
		}
		r, err := experiments.Replicate(sc, 5, 0, experiments.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return r.Runs
	}
	base := runs("service.web.instances=2", "traffic.users.rate=1000")
	for _, d := range experiments.Compare(base, runs("service.web.instances=2", "traffic.users.rate=1000")) {
		if d.Delta != 0 || d.CILow != 0 || d.CIHigh != 0 {
			t.Errorf("self-comparison %s: %+v", d.Name, d)
		}
	}
	for _, d := range experiments.Compare(base, runs("service.web.instances=3", "traffic.users.rate=1000")) {
		if d.Name == "latency_ms.p99" {
			t.Logf("p99: %v → %v ms, Δ %v [%v, %v]", d.A, d.B, d.Delta, d.CILow, d.CIHigh)
			if !(d.CIHigh < 0) {
				t.Errorf("one more instance: p99 change %+v not significantly negative", d)
			}
		}
	}
}

// Planning over two values bisects the last one for each setting of the
// first (a frontier search) and keeps the cheapest feasible point: with a
// price per instance, fewer bigger instances win.
func TestPlanFrontier(t *testing.T) {
	t.Parallel()
	src := `
[run]
duration = "300s"
[slo]
p99 = "100ms"
[traffic.in]
to = "web"
rate = 1000
[service.web]
price_per_hour = 0.1
steps = [ { cpu = "exp(10ms)" } ]
`
	cores, _ := experiments.ParseVary("service.web.cores=2,4,8")
	inst, _ := experiments.ParseVary("service.web.instances=1..20")
	vs := []experiments.Vary{cores, inst}
	res, err := experiments.PlanFrontier(vs, func(p experiments.Point) (*experiments.PointResult, error) {
		r, err := experiments.Sweep(sweepLoader(src), vs, []experiments.Point{p}, 1, 1, experiments.Options{})
		if err != nil {
			return nil, err
		}
		return &r[0], nil
	}, func(r *experiments.PointResult) float64 { return r.Summary.Cost.TotalUSD })
	if err != nil {
		t.Fatal(err)
	}
	if res.Best == nil || !reflect.DeepEqual(res.Best.Point.Values, []string{"8", "2"}) {
		t.Fatalf("best %+v", res.Best)
	}
	if res.Evaluated >= 30 {
		t.Errorf("evaluated %d of 60 points", res.Evaluated)
	}
}
