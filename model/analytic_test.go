package model_test

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/capsim/capsim/model"
	"github.com/capsim/capsim/model/dist"
	"github.com/capsim/capsim/sim"
)

// erlangCDirect is Erlang C from its textbook sum, independent of the
// recursion the model uses.
func erlangCDirect(c int, a float64) float64 {
	var sum float64
	term := 1.0
	for k := 0; k < c; k++ {
		if k > 0 {
			term *= a / float64(k)
		}
		sum += term
	}
	last := term * a / float64(c) // a^c / c!
	top := last * float64(c) / (float64(c) - a)
	return top / (sum + top)
}

func station(cores, concurrency, queue, instances int, work dist.Dist) *model.ServiceConfig {
	return &model.ServiceConfig{Name: "s", Fleet: model.Fleet{Instances: instances, Cores: cores, Concurrency: concurrency, Queue: queue, Algorithm: "random"},
		Endpoints: []model.EndpointConfig{{Name: "default", Steps: []model.Step{{Kind: model.StepCPU, Dist: work, P: 1}}}}}
}

func analyze(t *testing.T, rate float64, comps ...model.ComponentConfig) []model.Analytic {
	t.Helper()
	cfg := &model.Config{Duration: sim.Hour, Components: comps,
		Traffic: []model.TrafficConfig{{Name: "in", To: comps[0].ComponentName(), Arrivals: &model.RateProcess{Rate: rate}}}}
	g := model.NewGraph(cfg)
	if len(g.Problems) > 0 {
		t.Fatal(g.Problems)
	}
	return g.Analyze([][]float64{{rate}}, nil)
}

// The analytic models against textbook values computed independently:
// M/M/1 (mean 1/(μ−λ), p50 ln 2/(μ−λ), p99 ln 100/(μ−λ)), M/M/16 (Erlang C
// from its sum), M/D/1 (Pollaczek–Khinchine), Erlang B(5, 4) and M/M/2/5.
func TestAnalyticModels(t *testing.T) {
	const ms = 1e6
	exp := func(m float64) dist.Dist { d, _ := dist.Parse("exp("+ftoa(m)+"ms)", nil); return d }
	cnst := func(m float64) dist.Dist { d, _ := dist.Parse("const("+ftoa(m)+"ms)", nil); return d }
	c16 := erlangCDirect(16, 12.8)
	for _, c := range []struct {
		name           string
		rate           float64
		svc            *model.ServiceConfig
		model          string
		mean, p50, p99 float64 // ms; 0: not given
		util, rejected float64
	}{
		{"M/M/1", 160, station(1, model.Unlimited, model.Unlimited, 1, exp(5)), "M/M/1", 25, 1000 * math.Ln2 / 40, 1000 * math.Log(100) / 40, 0.8, 0},
		{"M/M/16", 1280, station(16, model.Unlimited, model.Unlimited, 1, exp(10)), "M/M/16", 1000 * (c16/(1600-1280) + 0.01), 0, 0, 0.8, 0},
		{"M/D/1", 80, station(1, model.Unlimited, model.Unlimited, 1, cnst(10)), "M/D/1 (Pollaczek–Khinchine)", 30, 0, 0, 0.8, 0},
		{"Erlang B", 400, station(5, 5, 0, 1, exp(10)), "Erlang B (M/M/5/5)", 10, 0, 0, 0.8 * (1 - 0.1991), 0.1991},
	} {
		a := analyze(t, c.rate, c.svc)[0]
		if a.Model != c.model {
			t.Errorf("%s: model %q (%s), want %q", c.name, a.Model, a.Reason, c.model)
			continue
		}
		near := func(what string, got, want, tol float64) {
			if math.Abs(got-want) > tol {
				t.Errorf("%s: %s %.6f, want %.6f", c.name, what, got, want)
			}
		}
		near("mean (ms)", a.Mean/ms, c.mean, 1e-6)
		if c.p50 > 0 {
			near("p50 (ms)", a.P50/ms, c.p50, 1e-6)
			near("p99 (ms)", a.P99/ms, c.p99, 1e-6)
		}
		near("utilisation", a.Utilization, c.util, 1e-3)
		near("rejected", a.Rejected, c.rejected, 1e-4)
	}
}

// Where the work does not reduce to a station, the model says why.
func TestAnalyticReasons(t *testing.T) {
	exp, _ := dist.Parse("exp(5ms)", nil)
	auto := station(2, model.Unlimited, model.Unlimited, 2, exp)
	auto.Autoscale = &model.AutoscaleConfig{Min: 1, Max: 4}
	two := station(2, model.Unlimited, model.Unlimited, 1, exp)
	two.Endpoints[0].Steps = append(two.Endpoints[0].Steps, two.Endpoints[0].Steps[0])
	over := station(1, model.Unlimited, model.Unlimited, 1, exp)
	for _, c := range []struct {
		svc  *model.ServiceConfig
		rate float64
		want string
	}{{auto, 100, "autoscaled"}, {two, 100, "exactly one cpu step"}, {over, 400, "2.00× its capacity"}} {
		a := analyze(t, c.rate, c.svc)[0]
		if !strings.Contains(a.Reason, c.want) {
			t.Errorf("reason %q, want it to say %q", a.Reason, c.want)
		}
	}
}

func ftoa(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// Calls add their callee's mean, and sleeps theirs: web (M/M/1, 2 ms at
// 100/s) calls db (M/M/1, 4 ms) and sleeps 1 ms: 2/0.8 + 4/0.6 + 1 ms.
// Poisson departures feed db (Burke), so the sum is exact.
func TestAnalyticCalls(t *testing.T) {
	exp2, _ := dist.Parse("exp(2ms)", nil)
	exp4, _ := dist.Parse("exp(4ms)", nil)
	one, _ := dist.Parse("const(1ms)", nil)
	web := station(1, model.Unlimited, model.Unlimited, 1, exp2)
	web.Name = "web"
	web.Endpoints[0].Steps = append(web.Endpoints[0].Steps, model.Step{Kind: model.StepCall, Target: "db", P: 1, Timeout: sim.Second},
		model.Step{Kind: model.StepSleep, Dist: one, P: 1})
	db := station(1, model.Unlimited, model.Unlimited, 1, exp4)
	db.Name = "db"
	a := analyze(t, 100, web, db)
	if want := 2/0.8 + 4/0.6 + 1; math.Abs(a[0].Mean/1e6-want) > 1e-9 || math.Abs(a[1].Mean/1e6-4/0.6) > 1e-9 {
		t.Errorf("web %.6f ms, db %.6f ms; want %.6f and %.6f", a[0].Mean/1e6, a[1].Mean/1e6, want, 4/0.6)
	}
	if len(a[0].Notes) == 0 || !strings.Contains(a[0].Notes[0], "timeouts") {
		t.Errorf("web's notes %v: want the timeout noted", a[0].Notes)
	}
}

// A cache whose lookups hold no core is M/G/∞: a call to it takes the
// lookup's mean, once.
func TestAnalyticCacheWithoutCores(t *testing.T) {
	exp2, _ := dist.Parse("exp(2ms)", nil)
	half, _ := dist.Parse("const(0.5ms)", nil)
	web := station(1, model.Unlimited, model.Unlimited, 1, exp2)
	web.Name = "web"
	web.Endpoints[0].Steps = append(web.Endpoints[0].Steps, model.Step{Kind: model.StepCall, Target: "c", P: 1})
	c := &model.CacheConfig{Name: "c", Fleet: model.Fleet{Instances: 1, Cores: 1, Concurrency: model.Unlimited, Queue: model.Unlimited}, Lookup: half, HitRatio: 0.9}
	a := analyze(t, 100, web, c)
	if a[1].Model != "M/G/∞" || math.Abs(a[1].Mean/1e6-0.5) > 1e-9 || math.Abs(a[0].Mean/1e6-(2/0.8+0.5)) > 1e-9 {
		t.Errorf("cache %q %.6f ms, web %.6f ms; want M/G/∞ 0.5 ms and %.6f", a[1].Model, a[1].Mean/1e6, a[0].Mean/1e6, 2/0.8+0.5)
	}
}

// A database of 2 shards × (primary + replica), read from the replicas,
// under uniform keys: each replica takes half the reads, each primary half
// the writes — an M/M/4 each — and the component's mean weighs them. Here
// 800 reads and 200 writes a second of 5 ms: replicas at λ = 400 (ρ = 0.5),
// primaries at λ = 100.
func TestAnalyticDatabaseNodes(t *testing.T) {
	exp5, _ := dist.Parse("exp(5ms)", nil)
	db := &model.DatabaseConfig{Name: "db", Fleet: model.Fleet{Cores: 4, Concurrency: model.Unlimited, Queue: model.Unlimited},
		Read: exp5, Write: exp5, Shards: 2, Replicas: 1, ShardBy: "hash", ReadFrom: "replicas"}
	keys, _ := dist.ParseKeys("uniform(n=100000)")
	cfg := &model.Config{Duration: sim.Hour, Components: []model.ComponentConfig{db},
		Traffic: []model.TrafficConfig{
			{Name: "r", To: "db", Endpoint: "read", Keys: keys, Arrivals: &model.RateProcess{Rate: 800}},
			{Name: "w", To: "db", Endpoint: "write", Keys: keys, Arrivals: &model.RateProcess{Rate: 200}}}}
	g := model.NewGraph(cfg)
	if len(g.Problems) > 0 {
		t.Fatal(g.Problems)
	}
	a := g.Analyze([][]float64{{800}, {200}}, nil)[0]
	mmc := func(lambda float64) float64 { return 1000 * (erlangCDirect(4, lambda*0.005)/(4/0.005-lambda) + 0.005) }
	// Hashing 100,000 uniform keys over 2 shards splits them within a
	// fraction of a percent of half and half.
	want := (800*mmc(400) + 200*mmc(100)) / 1000
	if !strings.Contains(a.Model, "at each of 4 nodes") || math.Abs(a.Mean/1e6-want) > 0.01*want {
		t.Errorf("%s: mean %.4f ms, want %.4f", a.Model, a.Mean/1e6, want)
	}
	if math.Abs(a.Utilization-(1000*0.005)/16) > 1e-9 {
		t.Errorf("utilisation %v, want %v", a.Utilization, 5.0/16)
	}
}
