package calibrate

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/stat/distuv"
)

// Fit is a distribution fitted to observed times (ns), the best of the
// candidates by Kolmogorov–Smirnov distance.
type Fit struct {
	Dist string  // in scenario syntax: "exp(1.2ms)", "lognormal(mean=…, sd=…)", …
	Name string  // const, exp, lognormal, gamma
	KS   float64 // sup |F_n − F| of the chosen one
	// What was observed.
	N                   int
	Mean, P50, P99, Max float64
	// Mean and P99 of the fitted distribution.
	FitMean, FitP99 float64
	// Misfit says no family fits: the best one's KS distance is beyond
	// the 0.1 % critical value (1.95/√n), or its p99 is further from the
	// observed p99 than 10 % and three standard errors. The scenario then
	// draws from the observed distribution (Quantiles) when it can write
	// it beside itself (Options.Samples). Real times often look so: a Go
	// time.Sleep on a 1 ms timer tick comes in steps.
	Misfit    bool
	Quantiles []float64 // the observed times at up to 1,000 evenly spaced ranks, ns
}

// candidate is a fitted distribution: its CDF and quantile.
type candidate struct {
	name string
	dist string
	cdf  func(x float64) float64
	q    func(p float64) float64
	mean float64
}

// fitTimes fits const, exp, a shifted exp, gamma and lognormal to xs (ns)
// (each keeping the observed mean: it is the load) and keeps the one with
// the smallest upper-tail Anderson–Darling statistic (ties go to the
// simpler); its Kolmogorov–Smirnov distance is reported. xs is sorted in
// place.
func fitTimes(xs []float64) Fit {
	slices.Sort(xs)
	n := len(xs)
	f := Fit{N: n}
	if n == 0 {
		return f
	}
	var sum float64
	for _, x := range xs {
		sum += x
	}
	mean := sum / float64(n)
	f.Mean, f.P50, f.P99, f.Max = mean, quantile(xs, 0.5), quantile(xs, 0.99), xs[n-1]
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	sd := 0.0
	if n > 1 {
		sd = math.Sqrt(ss / float64(n-1))
	}
	cands := []candidate{{
		name: "const", dist: "const(" + dur(mean) + ")", mean: mean,
		cdf: func(x float64) float64 {
			if x < mean {
				return 0
			}
			return 1
		},
		q: func(float64) float64 { return mean },
	}}
	if mean > 0 && sd > 0 {
		e := distuv.Exponential{Rate: 1 / mean}
		cands = append(cands, candidate{name: "exp", dist: "exp(" + dur(mean) + ")", cdf: e.CDF, q: e.Quantile, mean: mean})
	}
	// A shifted exponential: a fixed part (a timer's wake-up, a handler's
	// own work) before an exponential one, as real service times often
	// are (a Go time.Sleep wakes ~0.6 ms late on this machine). The shift
	// from the 1st percentile and the mean (q₀.₀₁ = shift + θ·ln(1/0.99),
	// mean = shift + θ), not the minimum, which a few short outliers would
	// pull to 0; tried only when the shift is at least 5 % of θ (a smaller
	// one changes little) and clear of the 1st percentile's sampling error.
	if n > 1 && sd > 0 {
		q01 := quantile(xs, 0.01)
		theta := (mean - q01) / (1 - math.Log(1/0.99))
		shift := mean - theta
		if theta > 0 && shift > 0.05*theta && shift > 3*theta/float64(n) {
			e := distuv.Exponential{Rate: 1 / theta}
			cands = append(cands, candidate{name: "shifted exp", dist: "exp(" + dur(theta) + ", shift=" + dur(shift) + ")", mean: shift + theta,
				cdf: func(x float64) float64 { return e.CDF(x - shift) },
				q:   func(p float64) float64 { return shift + e.Quantile(p) }})
		}
	}
	// The log-based fits need positive times: a zero (a span shorter than
	// the clock's resolution) counts as half the smallest positive one.
	floor := 1.0
	for _, x := range xs {
		if x > 0 {
			floor = x / 2
			break
		}
	}
	logOf := func(x float64) float64 { return math.Log(max(x, floor)) }
	if xs[n-1] > 0 && sd > 0 {
		// Gamma: the maximum-likelihood shape solves ln k − ψ(k) = s, s =
		// ln mean − mean ln x (Minka's start, then Newton).
		var lsum float64
		for _, x := range xs {
			lsum += logOf(x)
		}
		s := math.Log(mean) - lsum/float64(n)
		if s > 1e-12 {
			k := (3 - s + math.Sqrt((s-3)*(s-3)+24*s)) / (12 * s)
			for range 8 {
				g := math.Log(k) - mathext.Digamma(k) - s
				dg := 1/k - trigamma(k)
				if k2 := k - g/dg; k2 > 0 && !math.IsNaN(k2) {
					k = k2
				}
			}
			if k > 0 && !math.IsInf(k, 0) {
				g := distuv.Gamma{Alpha: k, Beta: k / mean}
				cands = append(cands, candidate{name: "gamma", dist: fmt.Sprintf("gamma(mean=%s, cv=%s)", dur(mean), num(1/math.Sqrt(k))),
					cdf: g.CDF, q: g.Quantile, mean: mean})
			}
		}
		mu := lsum / float64(n)
		var lss float64
		for _, x := range xs {
			lss += (logOf(x) - mu) * (logOf(x) - mu)
		}
		if sigma := math.Sqrt(lss / float64(n)); sigma > 0 {
			// σ from the logs, μ so that the mean is the observed one: a
			// model must keep the mean (it is the load), and the logs'
			// own mean would move it when the times are not log-normal.
			mu = math.Log(mean) - sigma*sigma/2
			ln := distuv.LogNormal{Mu: mu, Sigma: sigma}
			m := mean
			sdl := m * math.Sqrt(math.Expm1(sigma*sigma))
			cands = append(cands, candidate{name: "lognormal", dist: fmt.Sprintf("lognormal(mean=%s, sd=%s)", dur(m), dur(sdl)),
				cdf: ln.CDF, q: ln.Quantile, mean: m})
		}
	}
	best, bestAD := -1, 0.0
	for i, c := range cands {
		a := upperTailAD(xs, c.cdf)
		if best < 0 || a < bestAD-1e-9 {
			best, bestAD = i, a
		}
	}
	c := cands[best]
	f.KS = ksDistance(xs, c.cdf)
	f.Dist, f.Name, f.FitMean, f.FitP99 = c.dist, c.name, c.mean, c.q(0.99)
	if n >= 50 && c.name != "const" {
		// The p99's standard error: √(p(1−p)/n) over the density there,
		// from the spacing of the order statistics around it.
		se := math.Sqrt(0.99*0.01/float64(n)) * (quantile(xs, 0.995) - quantile(xs, 0.985)) / 0.01
		f.Misfit = f.KS > 1.95/math.Sqrt(float64(n)) || math.Abs(f.FitP99-f.P99) > math.Max(0.10*f.P99, 3*se)
	}
	if f.Misfit {
		k := min(n, 1000)
		f.Quantiles = make([]float64, k)
		for i := range k {
			f.Quantiles[i] = xs[min(n-1, int((float64(i)+0.5)*float64(n)/float64(k)))]
		}
	}
	return f
}

// ModelMean and ModelP99 are what the scenario's draws will have: the
// fitted distribution's, or the observed ones for a misfit.
func (f Fit) ModelMean() float64 {
	if f.Misfit {
		return f.Mean
	}
	return f.FitMean
}

func (f Fit) ModelP99() float64 {
	if f.Misfit {
		return f.P99
	}
	return f.FitP99
}

// upperTailAD is the upper-tail Anderson–Darling statistic (Ahmad,
// Sinclair and Spurr 1988) of sorted xs against cdf:
// A²ᵤ = n/2 − 2 Σ F(xᵢ) − Σ (2 − (2i−1)/n) ln(1 − F(xᵢ)). It weighs the
// right tail, where a latency's p99 lives and which the KS distance
// barely sees, and not the left one, so that a shifted candidate is not
// ruined by a few times below its shift. F is kept below 1 so that a
// candidate with no mass where a time was seen scores badly, not
// infinitely.
func upperTailAD(xs []float64, cdf func(float64) float64) float64 {
	n := float64(len(xs))
	a := n / 2
	for i, x := range xs {
		F := min(max(cdf(x), 0), 1-1e-12)
		a -= 2*F + (2-float64(2*i+1)/n)*math.Log(1-F)
	}
	return a
}

// ksDistance is sup |F_n(x) − F(x)| over sorted xs, both sides of each
// step of the empirical CDF (a const's jump counted at its point).
func ksDistance(xs []float64, cdf func(float64) float64) float64 {
	n := float64(len(xs))
	var d float64
	for i := 0; i < len(xs); {
		j := i
		for j < len(xs) && xs[j] == xs[i] {
			j++
		}
		F := cdf(xs[i])
		Fl := F
		if xs[i] > 0 {
			Fl = cdf(math.Nextafter(xs[i], math.Inf(-1)))
		}
		d = max(d, math.Abs(float64(j)/n-F), math.Abs(float64(i)/n-Fl))
		i = j
	}
	return d
}

// quantile of sorted xs (nearest rank).
func quantile(xs []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(xs)))) - 1
	return xs[max(0, min(i, len(xs)-1))]
}

// trigamma is ψ'(k): the recurrence up to 6, then the asymptotic series.
func trigamma(k float64) float64 {
	var r float64
	for ; k < 6; k++ {
		r += 1 / (k * k)
	}
	x2 := 1 / (k * k)
	return r + 1/k + x2/2 + (1/k)*x2*(1.0/6-x2*(1.0/30-x2/42))
}

// dur writes ns as a duration a scenario reads, to 4 significant digits.
func dur(ns float64) string {
	switch {
	case ns >= 1e9:
		return num(ns/1e9) + "s"
	case ns >= 1e6:
		return num(ns/1e6) + "ms"
	case ns >= 1e3:
		return num(ns/1e3) + "us"
	}
	return num(math.Round(ns)) + "ns"
}

// num writes x to 4 significant digits, without exponent or trailing zeros.
func num(x float64) string {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 4, 64), 64)
	return strconv.FormatFloat(r, 'f', -1, 64)
}
