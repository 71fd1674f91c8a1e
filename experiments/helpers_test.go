package experiments_test

import (
	"math"
	"testing"

	"github.com/capsim/capsim/examples"
	"github.com/capsim/capsim/experiments"
	"github.com/capsim/capsim/experiments/scenario"
	"github.com/capsim/capsim/model"
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
