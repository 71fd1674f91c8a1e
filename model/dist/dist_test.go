package dist

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/capsim/capsim/sim"
)

// Sample means and second moments match the closed forms each type reports
// (and the parameters written in the string).
func TestMoments(t *testing.T) {
	files := map[string][]byte{"lat.csv": []byte("latency_ms\n1\n2\n3\n4\n10\n")}
	open := func(n string) ([]byte, error) {
		if b, ok := files[n]; ok {
			return b, nil
		}
		return nil, errors.New("no such file")
	}
	cases := []struct {
		spec     string
		mean, sd float64 // ms; sd < 0: not checked
	}{
		{"const(2ms)", 2, 0},
		{"7ms", 7, 0},
		{"exp(5ms)", 5, 5},
		{"uniform(1ms, 3ms)", 2, 2 / math.Sqrt(12)},
		{"normal(mean=10ms, sd=2ms)", 10.000002973, 1.999992566}, // truncated at 0: 5 sd below the mean
		{"lognormal(mean=20ms, sd=30ms)", 20, 30},
		{"lognormal(median=20ms, p99=250ms)", -1, -1},
		{"gamma(mean=10ms, cv=0.5)", 10, 5},
		{"erlang(k=3, mean=9ms)", 9, 9 / math.Sqrt(3)},
		{"pareto(xm=1ms, alpha=3.5)", 3.5 / 2.5, -1},
		{"pareto(mean=4ms, alpha=2.5)", 4, -1},
		{"empirical(lat.csv)", 3.625, -1}, // segment midpoints: (1.5+2.5+3.5+7)/4
	}
	for _, c := range cases {
		t.Run(c.spec, func(t *testing.T) {
			d, err := Parse(c.spec, open)
			if err != nil {
				t.Fatal(err)
			}
			if c.mean >= 0 && math.Abs(d.Mean()/1e6-c.mean) > 1e-9*c.mean+1e-12 {
				t.Errorf("Mean() = %v ms, want %v", d.Mean()/1e6, c.mean)
			}
			if c.sd >= 0 {
				sd := math.Sqrt(math.Max(d.SecondMoment()-d.Mean()*d.Mean(), 0)) / 1e6
				if math.Abs(sd-c.sd) > 1e-6*c.sd+1e-9 {
					t.Errorf("sd from SecondMoment() = %v ms, want %v", sd, c.sd)
				}
			}
			s := sim.NewStream(3, "dist", c.spec)
			const n = 400_000
			var sum, sum2 sim.Kahan
			for i := 0; i < n; i++ {
				x := float64(d.Sample(s))
				sum.Add(x)
				sum2.Add(x * x)
			}
			m := sum.Sum() / n
			want := d.Mean()
			// Allow 4 standard errors (heavy tails get their own bound).
			se := math.Sqrt(math.Max(d.SecondMoment()-want*want, 0)/n) * 4
			if strings.HasPrefix(c.spec, "pareto") {
				se = want * 0.02
			}
			if math.Abs(m-want) > se+1 {
				t.Errorf("sample mean %v ns, want %v ± %v", m, want, se)
			}
		})
	}
}

// The median/p99 form of lognormal puts the median and p99 where asked.
func TestLogNormalMedianP99(t *testing.T) {
	d, err := Parse("lognormal(median=20ms, p99=250ms)", nil)
	if err != nil {
		t.Fatal(err)
	}
	s := sim.NewStream(1, "ln", "q")
	below20, below250 := 0, 0
	const n = 200_000
	for i := 0; i < n; i++ {
		x := d.Sample(s)
		if x <= 20*sim.Millisecond {
			below20++
		}
		if x <= 250*sim.Millisecond {
			below250++
		}
	}
	if f := float64(below20) / n; math.Abs(f-0.5) > 0.005 {
		t.Errorf("P(X ≤ median) = %v", f)
	}
	if f := float64(below250) / n; math.Abs(f-0.99) > 0.001 {
		t.Errorf("P(X ≤ p99) = %v", f)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ spec, want string }{
		{"exp()", "want exp(mean=…)"},
		{"exp(-5ms)", "negative"},
		{"exp(5)", "has no unit"},
		{"expo(5ms)", "unknown distribution; allowed: const, exp"},
		{"uniform(3ms, 1ms)", "max (1ms) is below min (3ms)"},
		{"lognormal(median=20ms, p99=10ms)", "must be above the median"},
		{"lognormal(mean=20ms)", "want lognormal(mean=…, sd=…) or lognormal(median=…, p99=…)"},
		{"gamma(mean=1ms, cv=0)", "cv must be greater than 0"},
		{"erlang(k=0, mean=1ms)", "k must be a whole number"},
		{"pareto(mean=1ms, alpha=1)", "needs alpha > 1"},
		{"normal(mean=1ms, sd=2ms, x=1)", "want normal(mean=…, sd=…)"},
		{"empirical(x.csv)", "no file access"},
		{"fast", "is not a duration"},
		{"exp(5ms", "want name(arguments)"},
		{"exp(mean=1ms, mean=2ms)", "given twice"},
	}
	for _, c := range cases {
		_, err := Parse(c.spec, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q) error = %v, want it to contain %q", c.spec, err, c.want)
		}
	}
}

// The canonical String of a distribution parses back to the same one.
func TestStringRoundTrip(t *testing.T) {
	for _, spec := range []string{"const(2ms)", "exp(5ms)", "uniform(1ms, 3ms)", "normal(mean=10ms, sd=2ms)",
		"lognormal(mean=20ms, sd=30ms)", "gamma(mean=10ms, cv=0.5)", "erlang(k=3, mean=9ms)", "pareto(xm=1ms, alpha=2.5)", "exp(1ms, shift=600us)", "gamma(mean=2ms, cv=0.5, shift=1ms)"} {
		d, err := Parse(spec, nil)
		if err != nil {
			t.Fatal(err)
		}
		d2, err := Parse(d.String(), nil)
		if err != nil {
			t.Fatalf("%s → %s: %v", spec, d.String(), err)
		}
		if math.Abs(d2.Mean()-d.Mean()) > 1e-4*d.Mean() {
			t.Errorf("%s → %s: mean %v → %v", spec, d.String(), d.Mean(), d2.Mean())
		}
	}
}

// Sampling through gonum's distuv with our stream does not allocate.
func TestSampleNoAllocs(t *testing.T) {
	s := sim.NewStream(1, "alloc", "x")
	for _, spec := range []string{"exp(5ms)", "lognormal(median=3ms, p99=15ms)", "gamma(mean=10ms, cv=0.5)", "uniform(1ms, 2ms)", "normal(mean=10ms, sd=2ms)", "pareto(xm=1ms, alpha=2)"} {
		d, _ := Parse(spec, nil)
		if a := testing.AllocsPerRun(1000, func() { d.Sample(s) }); a != 0 {
			t.Errorf("%s: %v allocations per sample", spec, a)
		}
	}
}

// shift= adds a constant: every draw at least the shift, the mean and the
// second moment moved exactly (E[(c+X)²] = c² + 2cE[X] + E[X²]), the
// sample mean within four standard errors.
func TestShifted(t *testing.T) {
	d, err := Parse("exp(1ms, shift=0.5ms)", nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.Mean() != 1.5e6 || math.Abs(d.SecondMoment()-3.25e12) > 1 || d.String() != "exp(1ms, shift=500us)" {
		t.Fatalf("mean %v, E[X²] %v, %s", d.Mean(), d.SecondMoment(), d)
	}
	s := sim.NewStream(1, "shift", "x")
	const n = 200_000
	var sum float64
	for range n {
		x := d.Sample(s)
		if x < 500_000 {
			t.Fatalf("draw %v below the shift", x)
		}
		sum += float64(x)
	}
	if m := sum / n; math.Abs(m-1.5e6) > 4*1e6/math.Sqrt(n) {
		t.Errorf("sample mean %v, want 1.5 ms ± %v", m, 4*1e6/math.Sqrt(n))
	}
	for _, bad := range []string{"exp(1ms, shift=-1ms)", "exp(1ms, shift=fast)", "exp(shift=1ms)"} {
		if _, err := Parse(bad, nil); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
