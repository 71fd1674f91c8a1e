package experiments_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/capsim/capsim/experiments"
)

// Every test here runs its system with 24 independent seeds and compares the
// mean over the seeds of each statistic with queueing theory, within its
// sampling error (see agreesOver): chance cannot turn a test red, while a
// 2 % bias does. Run lengths give tolerances of about 1–1.5 %.

// seeds is how many independent runs each theory check averages.
const seeds = 24

// oneStation is a single service fed by Poisson arrivals.
func oneStation(rate float64, duration, cores, concurrency, queue, cpu string) string {
	return fmt.Sprintf(`
[run]
duration = %q
window = "100s"
warmup = "100s"
[traffic.in]
to = "s"
rate = %v
[service.s]
cores = %s
concurrency = %s
queue = %s
steps = [ { cpu = %q } ]
`, duration, rate, cores, concurrency, queue, cpu)
}

// Statistics of a run, for agreesOver.
func mean(o *experiments.Outcome) float64 { return o.Summary.Latency.Mean }
func p50(o *experiments.Outcome) float64  { return o.Summary.Latency.P50 }
func p99(o *experiments.Outcome) float64  { return o.Summary.Latency.P99 }

// rejected is the fraction of requests with an outcome that were rejected.
func rejected(o *experiments.Outcome) float64 {
	r := o.Summary.Requests
	return float64(r.Rejected) / float64(r.Arrived-r.InFlight)
}

// M/M/1: T = 1/(μ−λ); response time is Exp(μ−λ), so p99 = ln(100)/(μ−λ).
// Reference: L. Kleinrock, Queueing Systems vol. 1, §3.2.
func TestMM1(t *testing.T) {
	t.Parallel()
	runs := seedRuns(t, oneStation(80, "20000s", "1", `"unlimited"`, `"unlimited"`, "exp(10ms)"), seeds)
	mu, lambda := 100.0, 80.0
	agreesOver(t, runs, "M/M/1 mean (ms)", mean, 1000/(mu-lambda))
	agreesOver(t, runs, "M/M/1 p50 (ms)", p50, 1000*math.Log(2)/(mu-lambda))
	agreesOver(t, runs, "M/M/1 p99 (ms)", p99, 1000*math.Log(100)/(mu-lambda))
	agreesOver(t, runs, "utilisation", func(o *experiments.Outcome) float64 { return *o.Summary.Components["s"].Utilization }, lambda/mu)
	// The utilisation law puts the saturation point at μ.
	agreesOver(t, runs, "capacity (req/s)", func(o *experiments.Outcome) float64 { return o.Summary.Bottleneck.CapacityRPS }, mu)
	analyticIs(t, runs[0], "M/M/1", 1000/(mu-lambda))
}

// analyticIs checks the summary's analytic model of component s.
func analyticIs(t *testing.T, o *experiments.Outcome, model string, meanMS float64) {
	t.Helper()
	a := o.Summary.Components["s"].Analytic
	if a == nil || a.Model != model || !a.Exact || a.Latency == nil || math.Abs(a.Latency.Mean-meanMS) > 0.0005 {
		t.Errorf("analytic %+v, want exact %s with mean %.3f ms", a, model, meanMS)
	}
}

// mmcResponseCDF is P(T ≤ t) for M/M/c FCFS: T = W + S, where W = 0 with
// probability 1−C and Exp(cμ−λ) otherwise, and S is Exp(μ).
func mmcResponseCDF(c int, lambda, mu, t float64) float64 {
	C := erlangC(c, lambda/mu)
	a := float64(c)*mu - lambda
	var tailWS float64 // P(W' + S > t) for W' ~ Exp(a)
	if math.Abs(a-mu) < 1e-12 {
		tailWS = (1 + mu*t) * math.Exp(-mu*t)
	} else {
		tailWS = (a*math.Exp(-mu*t) - mu*math.Exp(-a*t)) / (a - mu)
	}
	return 1 - ((1-C)*math.Exp(-mu*t) + C*tailWS)
}

// M/M/c: mean T = C(c, a)/(cμ−λ) + 1/μ (Erlang C); percentiles from the
// response-time distribution above. Reference: Kleinrock vol. 1, §3.5;
// Gross & Harris, Fundamentals of Queueing Theory, §2.3.
func TestMMc(t *testing.T) {
	t.Parallel()
	const c, mu, lambda = 4, 100.0, 320.0
	runs := seedRuns(t, oneStation(lambda, "1500s", "4", `"unlimited"`, `"unlimited"`, "exp(10ms)"), seeds)
	agreesOver(t, runs, "M/M/4 mean (ms)", mean, 1000*(erlangC(c, lambda/mu)/(c*mu-lambda)+1/mu))
	analyticIs(t, runs[0], "M/M/4", 1000*(erlangC(c, lambda/mu)/(c*mu-lambda)+1/mu))
	// Where the time goes: waiting for a core is W, on a core is S.
	split := func(o *experiments.Outcome) *experiments.TimeSplit { return o.Summary.Components["s"].TimeSplit }
	agreesOver(t, runs, "M/M/4 wait for a core (ms)", func(o *experiments.Outcome) float64 { return split(o).CoreWait }, 1000*erlangC(c, lambda/mu)/(c*mu-lambda))
	agreesOver(t, runs, "M/M/4 on a core (ms)", func(o *experiments.Outcome) float64 { return split(o).CPU }, 1000/mu)
	for _, o := range runs {
		if s := split(o); s.SlotWait != 0 || math.Abs(s.Waiting) > 0.002 { // ms rounded to µs
			t.Fatalf("unlimited concurrency, no calls: %+v, want no slot wait and no waiting", s)
		}
	}
	for _, q := range []struct {
		name string
		p    float64
		stat func(*experiments.Outcome) float64
	}{{"p50", 0.5, p50}, {"p99", 0.99, p99}} {
		want := bisect(func(x float64) float64 { return mmcResponseCDF(c, lambda, mu, x) - q.p }, 0, 10)
		agreesOver(t, runs, "M/M/4 "+q.name+" (ms)", q.stat, 1000*want)
	}
}

// M/M/4 again, with concurrency = 4 on 4 cores: the wait moves from the
// cores to the concurrency slots, and its mean is still Erlang C's W.
func TestMMcSlotWait(t *testing.T) {
	t.Parallel()
	const c, mu, lambda = 4, 100.0, 320.0
	runs := seedRuns(t, oneStation(lambda, "1500s", "4", "4", `"unlimited"`, "exp(10ms)"), seeds)
	split := func(o *experiments.Outcome) *experiments.TimeSplit { return o.Summary.Components["s"].TimeSplit }
	agreesOver(t, runs, "M/M/4 wait for a slot (ms)", func(o *experiments.Outcome) float64 { return split(o).SlotWait }, 1000*erlangC(c, lambda/mu)/(c*mu-lambda))
	for _, o := range runs {
		if s := split(o); s.CoreWait != 0 {
			t.Fatalf("as many slots as cores: %+v, want no wait for a core", s)
		}
	}
}

// M/D/1 and M/G/1: Pollaczek–Khinchine, W = λE[S²]/(2(1−ρ)), T = W + E[S].
// Reference: Kleinrock vol. 1, §5.7.
func TestPollaczekKhinchine(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, cpu string
		lambda    float64
		es, es2   float64 // seconds, seconds²
		duration  string
	}{
		{"M/D/1", "const(10ms)", 80, 0.010, 0.0001, "2200s"},
		{"M/E2/1", "erlang(k=2, mean=10ms)", 80, 0.010, 1.5 * 0.0001, "4400s"},
		{"M/G/1 gamma cv=1.5", "gamma(mean=10ms, cv=1.5)", 70, 0.010, (1 + 2.25) * 0.0001, "4400s"},
		{"M/U/1", "uniform(5ms, 15ms)", 80, 0.010, (0.005*0.005 + 0.005*0.015 + 0.015*0.015) / 3, "2200s"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			runs := seedRuns(t, oneStation(c.lambda, c.duration, "1", `"unlimited"`, `"unlimited"`, c.cpu), seeds)
			rho := c.lambda * c.es
			T := c.lambda*c.es2/(2*(1-rho)) + c.es
			agreesOver(t, runs, c.name+" mean (ms)", mean, 1000*T)
		})
	}
}

// Erlang B: c servers, no waiting room; the blocked fraction is B(c, a),
// whatever the service-time distribution (insensitivity).
// Reference: Kleinrock vol. 1, §3.6 (M/M/m/m).
func TestErlangB(t *testing.T) {
	t.Parallel()
	for _, cpu := range []string{"exp(10ms)", "lognormal(mean=10ms, sd=15ms)"} {
		t.Run(cpu, func(t *testing.T) {
			runs := seedRuns(t, oneStation(400, "600s", "5", "5", "0", cpu), seeds)
			agreesOver(t, runs, "Erlang B(5, 4)", rejected, erlangB(5, 4))
		})
	}
}

// M/M/c/K: c = 2 servers, K = 5 in the system; p_n = p0·aⁿ/n! (n ≤ c),
// p0·a^c/c!·ρ^(n−c) (c < n ≤ K); a request is rejected with probability p_K.
// Reference: Gross & Harris §2.5.
func TestMMcK(t *testing.T) {
	t.Parallel()
	const c, K, lambda, mu = 2, 5, 180.0, 100.0
	runs := seedRuns(t, oneStation(lambda, "600s", "2", "2", "3", "exp(10ms)"), seeds)
	a, rho := lambda/mu, lambda/mu/c
	p := make([]float64, K+1)
	var sum float64
	for n := 0; n <= K; n++ {
		if n <= c {
			p[n] = math.Pow(a, float64(n)) / math.Gamma(float64(n+1))
		} else {
			p[n] = math.Pow(a, c) / math.Gamma(c+1) * math.Pow(rho, float64(n-c))
		}
		sum += p[n]
	}
	agreesOver(t, runs, "M/M/2/5 rejection", rejected, p[K]/sum)
	// Mean response of admitted requests by Little: L/(λ(1−p_K)).
	var L float64
	for n := 0; n <= K; n++ {
		L += float64(n) * p[n] / sum
	}
	agreesOver(t, runs, "M/M/2/5 mean (ms)", mean, 1000*L/(lambda*(1-p[K]/sum)))
}

// A synchronous call chain web → app → db, each one exponential core, with
// the caller's core released while it waits: a tandem of M/M/1 stations
// (Jackson), T = Σ 1/(μᵢ−λ). Reference: Kleinrock vol. 1, §4.8; Jackson 1957.
func TestTandem(t *testing.T) {
	t.Parallel()
	runs := seedRuns(t, `
[run]
duration = "900s"
warmup = "100s"
[traffic.in]
to = "web"
rate = 100
[service.web]
steps = [ { cpu = "exp(4ms)" }, { call = "app" } ]
[service.app]
steps = [ { cpu = "exp(6ms)" }, { call = "db" } ]
[service.db]
steps = [ { cpu = "exp(5ms)" } ]
`, seeds)
	T := 1/(250.0-100) + 1/(1000.0/6-100) + 1/(200.0-100)
	agreesOver(t, runs, "tandem mean (ms)", mean, 1000*T)
	agreesOver(t, runs, "db alone (ms)", func(o *experiments.Outcome) float64 { return o.Summary.Components["db"].Latency.Mean }, 1000/(200.0-100))
	// The analytic model along the call graph gives the same sum.
	if a := runs[0].Summary.Analytic; a == nil || math.Abs(a.LatencyMeanMS-1000*T) > 0.0005 {
		t.Errorf("end-to-end analytic %+v, want %.3f ms", a, 1000*T)
	}
}

// balanced runs k single-core exponential instances behind a balancer.
func balanced(alg string, k int, lambda float64, duration string) string {
	return fmt.Sprintf(`
[run]
duration = %q
warmup = "100s"
[traffic.in]
to = "lb"
rate = %v
[balancer.lb]
to = "s"
algorithm = %q
[service.s]
instances = %d
steps = [ { cpu = "exp(10ms)" } ]
`, duration, lambda, alg, k)
}

// random over k single-core instances splits a Poisson stream into k
// independent Poisson streams: k × M/M/1 with λ/k each.
func TestRandomIsKMM1(t *testing.T) {
	t.Parallel()
	runs := seedRuns(t, balanced("random", 4, 320, "3200s"), seeds)
	agreesOver(t, runs, "random mean (ms)", mean, 1000/(100.0-80))
	agreesOver(t, runs, "random p99 (ms)", p99, 1000*math.Log(100)/(100.0-80))
}

// round_robin over k instances gives each one every k-th arrival of a
// Poisson stream: Erlang-k interarrivals, so each is E_k/M/1 (GI/M/1). With
// σ the root in (0, 1) of σ = A*(μ(1−σ)), A*(s) = (λ/(λ+s))^k the
// interarrival transform, the response time is Exp(μ(1−σ)).
// Reference: Kleinrock vol. 1, §6.4 (G/M/m).
func TestRoundRobinIsEkM1(t *testing.T) {
	t.Parallel()
	const k, lambda, mu = 4, 320.0, 100.0
	runs := seedRuns(t, balanced("round_robin", k, lambda, "4000s"), seeds)
	sigma := bisect(func(s float64) float64 { return s - math.Pow(lambda/(lambda+mu*(1-s)), k) }, 0, 0.999999)
	agreesOver(t, runs, "E4/M/1 mean (ms)", mean, 1000/(mu*(1-sigma)))
	agreesOver(t, runs, "E4/M/1 p99 (ms)", p99, 1000*math.Log(100)/(mu*(1-sigma)))
}

// At high load, balancers that see instance load beat those that do not:
// least_connections (join the shortest queue) < power_of_two < round_robin
// < random in mean latency. Reference: Mitzenmacher, "The power of two
// choices in randomized load balancing", IEEE TPDS 12(10), 2001; Winston,
// "Optimality of the shortest line discipline", J. Appl. Prob. 14, 1977.
func TestBalancerOrdering(t *testing.T) {
	t.Parallel()
	var prev float64
	for _, alg := range []string{"least_connections", "power_of_two", "round_robin", "random"} {
		o := runTOML(t, balanced(alg, 8, 720, "1500s"))
		m := o.Summary.Latency.Mean
		t.Logf("%-18s mean %.2f ms  p99 %.2f ms", alg, m, o.Summary.Latency.P99)
		if m <= prev {
			t.Errorf("%s mean %.2f ms is not above the previous algorithm's %.2f ms", alg, m, prev)
		}
		prev = m
	}
}
