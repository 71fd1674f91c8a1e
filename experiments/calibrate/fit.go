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
}

// candidate is a fitted distribution: its CDF and quantile.
type candidate struct {
	name string
	dist string
	cdf  func(x float64) float64
	q    func(p float64) float64
	mean float64
}

// fitTimes fits const, exp, gamma and lognormal to xs (ns) by maximum
// likelihood and keeps the one closest in Kolmogorov–Smirnov distance;
// ties go to the simpler. xs is sorted in place.
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
			ln := distuv.LogNormal{Mu: mu, Sigma: sigma}
			m := math.Exp(mu + sigma*sigma/2)
			sdl := m * math.Sqrt(math.Expm1(sigma*sigma))
			cands = append(cands, candidate{name: "lognormal", dist: fmt.Sprintf("lognormal(mean=%s, sd=%s)", dur(m), dur(sdl)),
				cdf: ln.CDF, q: ln.Quantile, mean: m})
		}
	}
	best := -1
	for i, c := range cands {
		d := ksDistance(xs, c.cdf)
		if best < 0 || d < f.KS-1e-9 {
			best, f.KS = i, d
		}
	}
	c := cands[best]
	f.Dist, f.Name, f.FitMean, f.FitP99 = c.dist, c.name, c.mean, c.q(0.99)
	return f
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
