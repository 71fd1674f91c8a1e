package dist

import (
	"math"
	"sort"
	"strconv"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/capsim/capsim/sim"
)

// Dist is a distribution of non-negative durations.
type Dist interface {
	// Sample draws one value from s.
	Sample(s *sim.Stream) sim.Time
	// Mean is the expected value in nanoseconds.
	Mean() float64
	// SecondMoment is E[X²] in ns², used by queueing approximations.
	SecondMoment() float64
	// String is the canonical text form, which Parse accepts.
	String() string
}

// toTime converts a sample in nanoseconds to Time, clamping at 0 and at the
// largest representable time.
func toTime(ns float64) sim.Time {
	if !(ns > 0) { // also catches NaN
		return 0
	}
	if ns >= math.MaxInt64/2 {
		return math.MaxInt64 / 2
	}
	return sim.Time(ns + 0.5)
}

// Const always returns the same value.
type Const struct{ V sim.Time }

func (d Const) Sample(*sim.Stream) sim.Time { return d.V }
func (d Const) Mean() float64               { return float64(d.V) }
func (d Const) SecondMoment() float64       { return float64(d.V) * float64(d.V) }
func (d Const) String() string              { return "const(" + fmtDur(float64(d.V)) + ")" }

// Exp is exponential with the given mean.
type Exp struct{ d distuv.Exponential }

// NewExp returns an exponential distribution with mean m nanoseconds.
func NewExp(m float64) Exp { return Exp{distuv.Exponential{Rate: 1 / m}} }

func (d Exp) Sample(s *sim.Stream) sim.Time {
	x := d.d
	x.Src = s
	return toTime(x.Rand())
}
func (d Exp) Mean() float64         { return 1 / d.d.Rate }
func (d Exp) SecondMoment() float64 { return 2 / (d.d.Rate * d.d.Rate) }
func (d Exp) String() string        { return "exp(" + fmtDur(d.Mean()) + ")" }

// Uniform is uniform on [Min, Max].
type Uniform struct{ d distuv.Uniform }

func (d Uniform) Sample(s *sim.Stream) sim.Time {
	x := d.d
	x.Src = s
	return toTime(x.Rand())
}
func (d Uniform) Mean() float64 { return (d.d.Min + d.d.Max) / 2 }
func (d Uniform) SecondMoment() float64 {
	a, b := d.d.Min, d.d.Max
	return (a*a + a*b + b*b) / 3
}
func (d Uniform) String() string {
	return "uniform(" + fmtDur(d.d.Min) + ", " + fmtDur(d.d.Max) + ")"
}

// Normal is a normal distribution truncated at 0: negative draws are drawn
// again, so the shape above 0 is kept (not piled up at 0).
type Normal struct{ d distuv.Normal }

func (d Normal) Sample(s *sim.Stream) sim.Time {
	x := d.d
	x.Src = s
	for range 64 {
		if v := x.Rand(); v >= 0 {
			return toTime(v)
		}
	}
	return 0
}

// Mean and SecondMoment of the truncated normal.
func (d Normal) Mean() float64 {
	mu, sd := d.d.Mu, d.d.Sigma
	a := -mu / sd
	z := 1 - stdNormalCDF(a)
	return mu + sd*stdNormalPDF(a)/z
}
func (d Normal) SecondMoment() float64 {
	mu, sd := d.d.Mu, d.d.Sigma
	a := -mu / sd
	z := 1 - stdNormalCDF(a)
	lambda := stdNormalPDF(a) / z
	variance := sd * sd * (1 + a*lambda - lambda*lambda)
	m := d.Mean()
	return variance + m*m
}
func (d Normal) String() string {
	return "normal(mean=" + fmtDur(d.d.Mu) + ", sd=" + fmtDur(d.d.Sigma) + ")"
}

func stdNormalPDF(x float64) float64 { return math.Exp(-x*x/2) / math.Sqrt(2*math.Pi) }
func stdNormalCDF(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

// LogNormal is log-normal; its text form is given by mean and sd.
type LogNormal struct{ d distuv.LogNormal }

// z99 is the 0.99 quantile of the standard normal distribution.
const z99 = 2.3263478740408408

// NewLogNormalMeanSD returns the log-normal with the given mean and standard
// deviation (nanoseconds).
func NewLogNormalMeanSD(mean, sd float64) LogNormal {
	s2 := math.Log(1 + sd*sd/(mean*mean))
	return LogNormal{distuv.LogNormal{Mu: math.Log(mean) - s2/2, Sigma: math.Sqrt(s2)}}
}

// NewLogNormalMedianP99 returns the log-normal with the given median and 99th
// percentile (nanoseconds, p99 > median).
func NewLogNormalMedianP99(median, p99 float64) LogNormal {
	mu := math.Log(median)
	return LogNormal{distuv.LogNormal{Mu: mu, Sigma: (math.Log(p99) - mu) / z99}}
}

func (d LogNormal) Sample(s *sim.Stream) sim.Time {
	x := d.d
	x.Src = s
	return toTime(x.Rand())
}
func (d LogNormal) Mean() float64 { return math.Exp(d.d.Mu + d.d.Sigma*d.d.Sigma/2) }
func (d LogNormal) SecondMoment() float64 {
	return math.Exp(2*d.d.Mu + 2*d.d.Sigma*d.d.Sigma)
}
func (d LogNormal) String() string {
	m := d.Mean()
	sd := math.Sqrt(d.SecondMoment() - m*m)
	return "lognormal(mean=" + fmtDur(m) + ", sd=" + fmtDur(sd) + ")"
}

// Gamma is a gamma distribution (Erlang when the shape is an integer).
type Gamma struct {
	d      distuv.Gamma
	erlang bool
}

// NewGamma returns the gamma distribution with the given mean (ns) and
// coefficient of variation.
func NewGamma(mean, cv float64) Gamma {
	k := 1 / (cv * cv)
	return Gamma{d: distuv.Gamma{Alpha: k, Beta: k / mean}}
}

// NewErlang returns the Erlang-k distribution with the given mean (ns).
func NewErlang(k int, mean float64) Gamma {
	return Gamma{d: distuv.Gamma{Alpha: float64(k), Beta: float64(k) / mean}, erlang: true}
}

func (d Gamma) Sample(s *sim.Stream) sim.Time {
	x := d.d
	x.Src = s
	return toTime(x.Rand())
}
func (d Gamma) Mean() float64 { return d.d.Alpha / d.d.Beta }
func (d Gamma) SecondMoment() float64 {
	return d.d.Alpha * (d.d.Alpha + 1) / (d.d.Beta * d.d.Beta)
}
func (d Gamma) String() string {
	if d.erlang {
		return "erlang(k=" + strconv.Itoa(int(d.d.Alpha)) + ", mean=" + fmtDur(d.Mean()) + ")"
	}
	return "gamma(mean=" + fmtDur(d.Mean()) + ", cv=" + fmtNum(1/math.Sqrt(d.d.Alpha)) + ")"
}

// Pareto is the Pareto (type I) distribution with scale Xm and shape Alpha.
type Pareto struct{ d distuv.Pareto }

func (d Pareto) Sample(s *sim.Stream) sim.Time {
	x := d.d
	x.Src = s
	return toTime(x.Rand())
}
func (d Pareto) Mean() float64 {
	if d.d.Alpha <= 1 {
		return math.Inf(1)
	}
	return d.d.Alpha * d.d.Xm / (d.d.Alpha - 1)
}
func (d Pareto) SecondMoment() float64 {
	if d.d.Alpha <= 2 {
		return math.Inf(1)
	}
	return d.d.Alpha * d.d.Xm * d.d.Xm / (d.d.Alpha - 2)
}
func (d Pareto) String() string {
	return "pareto(xm=" + fmtDur(d.d.Xm) + ", alpha=" + fmtNum(d.d.Alpha) + ")"
}

// Empirical draws from the piecewise-linear quantile function through a set
// of observed values (so it interpolates between observations rather than
// repeating them).
type Empirical struct {
	name   string
	sorted []float64 // ns, ascending, at least one value
	mean   float64
	m2     float64
}

// NewEmpirical returns the empirical distribution of values (ns); name is
// the file it came from, for String.
func NewEmpirical(name string, values []float64) Empirical {
	v := append([]float64(nil), values...)
	sort.Float64s(v)
	var s, s2 sim.Kahan
	if len(v) == 1 {
		return Empirical{name: name, sorted: v, mean: v[0], m2: v[0] * v[0]}
	}
	// Moments of the piecewise-linear quantile function: an equal-weight
	// mixture of uniforms on [v(i), v(i+1)].
	for i := 0; i+1 < len(v); i++ {
		a, b := v[i], v[i+1]
		s.Add((a + b) / 2)
		s2.Add((a*a + a*b + b*b) / 3)
	}
	n := float64(len(v) - 1)
	return Empirical{name: name, sorted: v, mean: s.Sum() / n, m2: s2.Sum() / n}
}

func (d Empirical) Sample(s *sim.Stream) sim.Time {
	n := len(d.sorted)
	if n == 1 {
		return toTime(d.sorted[0])
	}
	pos := s.Float64() * float64(n-1)
	i := int(pos)
	f := pos - float64(i)
	return toTime(d.sorted[i] + float64(f*(d.sorted[i+1]-d.sorted[i])))
}

// Mean and SecondMoment are those of the interpolated distribution.
func (d Empirical) Mean() float64         { return d.mean }
func (d Empirical) SecondMoment() float64 { return d.m2 }
func (d Empirical) String() string        { return "empirical(" + d.name + ")" }

// fmtDur formats nanoseconds as a compact Go-style duration.
func fmtDur(ns float64) string {
	switch {
	case ns == 0:
		return "0s"
	case ns >= 1e9:
		return fmtNum(ns/1e9) + "s"
	case ns >= 1e6:
		return fmtNum(ns/1e6) + "ms"
	case ns >= 1e3:
		return fmtNum(ns/1e3) + "us"
	}
	return fmtNum(ns) + "ns"
}

func fmtNum(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }

// Shifted is a distribution plus a constant (shift= in the text form):
// a fixed part of a service time before its variable part, as a timer's
// wake-up or a handler's own overhead.
type Shifted struct {
	Shift sim.Time
	D     Dist
}

func (d Shifted) Sample(s *sim.Stream) sim.Time {
	x := d.D.Sample(s)
	if x > math.MaxInt64/2-d.Shift {
		return math.MaxInt64 / 2
	}
	return d.Shift + x
}

func (d Shifted) Mean() float64 { return float64(d.Shift) + d.D.Mean() }

// SecondMoment is E[(c+X)²] = c² + 2c·E[X] + E[X²].
func (d Shifted) SecondMoment() float64 {
	c := float64(d.Shift)
	return c*c + 2*c*d.D.Mean() + d.D.SecondMoment()
}

func (d Shifted) String() string {
	in := d.D.String()
	return in[:len(in)-1] + ", shift=" + fmtDur(float64(d.Shift)) + ")"
}
