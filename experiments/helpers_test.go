package experiments_test

import (
	"math"
	"testing"

	"github.com/capsim/capsim/examples"
	"github.com/capsim/capsim/experiments"
	"github.com/capsim/capsim/experiments/scenario"
	"github.com/capsim/capsim/model"
	"gonum.org/v1/gonum/stat/distuv"
)

// runTOML parses and runs a scenario, and checks the invariants every run
// must satisfy.
func runTOML(t *testing.T, src string, overrides ...string) *experiments.Outcome {
	t.Helper()
	sc, err := scenario.Parse("test.toml", []byte(src), overrides, nil)
	return runChecked(t, sc, err)
}

// runChecked runs a parsed scenario (failing the test on a parse or run
// error) and checks the invariants.
func runChecked(t *testing.T, sc *scenario.Scenario, parseErr error) *experiments.Outcome {
	t.Helper()
	if parseErr != nil {
		t.Fatalf("parse: %v", parseErr)
	}
	o, err := experiments.Run(sc, experiments.Options{})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	checkInvariants(t, o)
	return o
}

// checkInvariants asserts what every run must satisfy (Outcome.InvariantError),
// and the steady-state forms of Little's law and the response time law
// where they apply.
func checkInvariants(t *testing.T, o *experiments.Outcome) {
	t.Helper()
	if err := o.InvariantError(); err != nil {
		t.Error(err)
	}
	r := o.Result
	T := r.Measured.Seconds()
	for _, c := range r.Components {
		// Little's law as L = λW, when the run ends (nearly) empty, with λ
		// the departure rate and W the mean time in the component of
		// departed calls.
		if c.Departures >= 10000 && c.Present*1000 < c.Departures {
			lambda := float64(c.Departures) / T
			L, W := c.InSystemMean, c.MeanSojourn.Seconds()
			if d := math.Abs(L - lambda*W); d > 0.02*L+0.01 {
				t.Errorf("%s: Little's law: L = %.4f but λW = %.4f (λ = %.1f/s, W = %.6fs)", c.Name, L, lambda*W, lambda, W)
			}
		}
	}
	for i, tr := range r.Traffic {
		// The interactive response time law on every closed-model source
		// with a constant number of VUs whose requests all succeeded:
		// R = N/X − Z. (With ramps, each VU that retires ends on a request,
		// not a think, and the law is off by those missing thinks.)
		vu, _ := o.Config.Traffic[i].Arrivals.(*model.VUProcess)
		if tr.VUs > 0 && vu != nil && len(vu.Stages) == 0 && tr.Requests.Completed > 1000 && tr.Requests.Completed == tr.Requests.Arrived-tr.Requests.InFlight {
			x := float64(tr.Requests.Completed) / r.Measured.Seconds()
			checkResponseTimeLaw(t, x, tr.Latency.Mean.Seconds(), tr.VUs, tr.MeanThink.Seconds())
		}
	}
}

// within fails unless got is within rel (relative) of want.
func within(t *testing.T, what string, got, want, rel float64) {
	t.Helper()
	if math.Abs(got-want) > rel*math.Abs(want) {
		t.Errorf("%s = %.4f, want %.4f ± %.1f %% (off by %.2f %%)", what, got, want, 100*rel, 100*(got-want)/want)
	} else {
		t.Logf("%s = %.4f, theory %.4f (%+.2f %%)", what, got, want, 100*(got-want)/want)
	}
}

// bisect finds x in [lo, hi] with f(x) = 0 for increasing f.
func bisect(f func(float64) float64, lo, hi float64) float64 {
	for range 200 {
		mid := (lo + hi) / 2
		if f(mid) < 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// erlangC is the probability of waiting in M/M/c with offered load a = λ/μ.
func erlangC(c int, a float64) float64 {
	b := erlangB(c, a)
	rho := a / float64(c)
	return b / (1 - rho*(1-b))
}

// erlangB is the Erlang B blocking probability, by the stable recursion
// B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1)).
func erlangB(c int, a float64) float64 {
	b := 1.0
	for k := 1; k <= c; k++ {
		b = a * b / (float64(k) + a*b)
	}
	return b
}

func examplesGet(name string) ([]byte, bool) { return examples.Get(name) }

// Theory checks. A fidelity test runs its scenario with several independent
// seeds and compares the mean over them of each statistic with theory. The
// tolerance is the sampling error: the standard error of that mean (from the
// spread between seeds, so autocorrelation within a run cannot hide in it)
// times Student's t quantile for a two-sided 10⁻⁴ (4.69 with 24 seeds; 7.9
// with 8), so chance alone turns a check red once in 10,000 runs. The run
// lengths are chosen so that the tolerance is about 1–1.5 % (docs/validation.md
// lists them), so a 2 % bias turns it red; a check whose tolerance exceeds 3 %
// fails as unable to see such a bias (its data was cut).

// seedRuns runs src with n independent seeds (replications, in parallel)
// and checks the invariants of each run.
func seedRuns(t *testing.T, src string, n int) []*experiments.Outcome {
	t.Helper()
	sc, err := scenario.Parse("test.toml", []byte(src), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := experiments.Replicate(sc, n, 0, experiments.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range r.Runs {
		checkInvariants(t, o)
	}
	return r.Runs
}

// agreesOver checks the mean over runs of stat against want.
func agreesOver(t *testing.T, runs []*experiments.Outcome, what string, stat func(*experiments.Outcome) float64, want float64) {
	t.Helper()
	var mean float64
	xs := make([]float64, len(runs))
	for i, o := range runs {
		xs[i] = stat(o)
		mean += xs[i]
	}
	n := float64(len(xs))
	mean /= n
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	se := math.Sqrt(ss / (n - 1) / n)
	tq := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: n - 1}.Quantile(1 - 0.5e-4)
	tol := tq * se
	if tol > 0.03*math.Abs(want) {
		t.Errorf("%s: tolerance %.4f (%.2f %%) exceeds 3 %% of %.4f: too little data to detect a 2 %% bias", what, tol, 100*tol/want, want)
	}
	if math.Abs(mean-want) > tol {
		t.Errorf("%s = %.4f ± %.4f (%.2f %%; %d seeds), want %.4f (off by %.2f %%)", what, mean, tol, 100*tol/want, len(xs), want, 100*(mean-want)/want)
	} else {
		t.Logf("%s = %.4f ± %.4f (%.2f %%; %d seeds), theory %.4f (%+.2f %%)", what, mean, tol, 100*tol/want, len(xs), want, 100*(mean-want)/want)
	}
}
