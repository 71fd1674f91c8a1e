package dist

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/capsim/capsim/sim"
)

// Keys is a distribution over keys 1..N (1 is the most popular where
// popularity is skewed).
type Keys interface {
	Key(s *sim.Stream) uint64
	// N is the number of distinct keys.
	N() uint64
	// Prob is the probability of key k.
	Prob(k uint64) float64
	String() string
}

// KeyNames lists the key distributions ParseKeys accepts.
var KeyNames = []string{"zipf", "uniform", "hotset"}

// Zipf draws key k with probability proportional to 1/k^s, for any s ≥ 0 and
// any n, in O(1) time and memory, by rejection-inversion (W. Hörmann and
// G. Derflinger, "Rejection-inversion to generate variates from monotone
// discrete distributions", ACM TOMACS 6(3), 1996), as in Apache Commons RNG.
// Unlike math/rand's Zipf it is exact for s ≤ 1, the range real popularity
// curves fall in.
type Zipf struct {
	s, n        float64
	hX1, hN, sc float64
	norm        float64 // generalised harmonic number H(n, s), for Prob
}

// NewZipf returns the Zipf distribution over 1..n with exponent s.
func NewZipf(s float64, n uint64) *Zipf {
	z := &Zipf{s: s, n: float64(n)}
	z.hX1 = z.hIntegral(1.5) - 1
	z.hN = z.hIntegral(z.n + 0.5)
	z.sc = 2 - z.hIntegralInverse(z.hIntegral(2.5)-z.h(2))
	var sum sim.Kahan
	if n <= 1<<16 {
		for k := n; k >= 1; k-- { // smallest terms first
			sum.Add(math.Pow(float64(k), -s))
		}
		z.norm = sum.Sum()
	} else {
		// Euler–Maclaurin tail beyond the first 2^16 terms (error < 1e-12).
		const m = 1 << 16
		for k := m; k >= 1; k-- {
			sum.Add(math.Pow(float64(k), -s))
		}
		a, b := float64(m), float64(n)
		var tail float64
		if s == 1 {
			tail = math.Log(b / a)
		} else {
			tail = (math.Pow(b, 1-s) - math.Pow(a, 1-s)) / (1 - s)
		}
		tail += (math.Pow(b, -s) - math.Pow(a, -s)) / 2
		z.norm = sum.Sum() + tail
	}
	return z
}

func (z *Zipf) Key(r *sim.Stream) uint64 {
	for {
		u := z.hN + float64(r.Float64()*(z.hX1-z.hN)) // float64(): never fused, same bits on every CPU
		x := z.hIntegralInverse(u)
		k := math.Floor(x + 0.5)
		if k < 1 {
			k = 1
		} else if k > z.n {
			k = z.n
		}
		if k-x <= z.sc || u >= z.hIntegral(k+0.5)-z.h(k) {
			return uint64(k)
		}
	}
}

func (z *Zipf) N() uint64 { return uint64(z.n) }
func (z *Zipf) Prob(k uint64) float64 {
	if k < 1 || float64(k) > z.n {
		return 0
	}
	return math.Pow(float64(k), -z.s) / z.norm
}
func (z *Zipf) String() string {
	return "zipf(s=" + fmtNum(z.s) + ", n=" + strconv.FormatUint(uint64(z.n), 10) + ")"
}

// h is the unnormalised density x^-s.
func (z *Zipf) h(x float64) float64 { return math.Exp(-z.s * math.Log(x)) }

// hIntegral is ∫ h, chosen so that it is continuous in s at s = 1.
func (z *Zipf) hIntegral(x float64) float64 {
	lx := math.Log(x)
	return helper2((1-z.s)*lx) * lx
}

func (z *Zipf) hIntegralInverse(x float64) float64 {
	t := x * (1 - z.s)
	if t < -1 {
		t = -1 // numerical guard, as in the reference implementation
	}
	return math.Exp(helper1(t) * x)
}

// helper1 is log1p(x)/x, accurate near 0.
func helper1(x float64) float64 {
	if math.Abs(x) > 1e-8 {
		return math.Log1p(x) / x
	}
	return 1 - float64(x*(0.5-float64(x*(1.0/3-float64(0.25*x)))))
}

// helper2 is expm1(x)/x, accurate near 0.
func helper2(x float64) float64 {
	if math.Abs(x) > 1e-8 {
		return math.Expm1(x) / x
	}
	return 1 + float64(x*0.5*(1+float64(x*(1.0/3)*(1+float64(0.25*x)))))
}

// UniformKeys draws keys 1..n with equal probability.
type UniformKeys struct{ n uint64 }

func (u UniformKeys) Key(r *sim.Stream) uint64 { return 1 + r.Uint64N(u.n) }
func (u UniformKeys) N() uint64                { return u.n }
func (u UniformKeys) Prob(k uint64) float64 {
	if k < 1 || k > u.n {
		return 0
	}
	return 1 / float64(u.n)
}
func (u UniformKeys) String() string { return "uniform(n=" + strconv.FormatUint(u.n, 10) + ")" }

// HotSet sends a share of requests to the first fraction of the keys (the hot
// set), uniformly, and the rest uniformly to the other keys.
type HotSet struct {
	fraction, share float64
	n, hot          uint64
}

func (h HotSet) Key(r *sim.Stream) uint64 {
	if r.Float64() < h.share {
		return 1 + r.Uint64N(h.hot)
	}
	return h.hot + 1 + r.Uint64N(h.n-h.hot)
}
func (h HotSet) N() uint64 { return h.n }
func (h HotSet) Prob(k uint64) float64 {
	switch {
	case k < 1 || k > h.n:
		return 0
	case k <= h.hot:
		return h.share / float64(h.hot)
	}
	return (1 - h.share) / float64(h.n-h.hot)
}
func (h HotSet) String() string {
	return "hotset(fraction=" + fmtNum(h.fraction) + ", share=" + fmtNum(h.share) + ", n=" + strconv.FormatUint(h.n, 10) + ")"
}

// maxKeys bounds n so that every key fits exactly in a float64.
const maxKeys = 1 << 52

func countArg(args map[string]string, k string) (uint64, error) {
	v := strings.ReplaceAll(strings.TrimSpace(args[k]), "_", "")
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(v, 64) // 1e6
		if ferr != nil || f != math.Trunc(f) || f < 0 || f > maxKeys {
			return 0, fmt.Errorf("%s must be a whole number ≥ 1, got %q", k, args[k])
		}
		n = uint64(f)
	}
	if n < 1 || n > maxKeys {
		return 0, fmt.Errorf("%s must be from 1 to 2^52, got %q", k, args[k])
	}
	return n, nil
}

func fracArg(args map[string]string, k string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(args[k]), 64)
	if err != nil || !(v > 0 && v < 1) {
		return 0, fmt.Errorf("%s must be a number strictly between 0 and 1, got %q", k, args[k])
	}
	return v, nil
}

// ParseKeys parses a key distribution.
func ParseKeys(s string) (Keys, error) {
	c, err := parseCall(s)
	if err != nil {
		return nil, fmt.Errorf("%q: %v; allowed: zipf(s=…, n=…), uniform(n=…), hotset(fraction=…, share=…, n=…)", s, err)
	}
	k, err := buildKeys(c)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", c.name, err)
	}
	return k, nil
}

func buildKeys(c call) (Keys, error) {
	switch c.name {
	case "zipf":
		a, err := c.bind([]string{"s", "n"})
		if err != nil {
			return nil, err
		}
		sv, err := strconv.ParseFloat(strings.TrimSpace(a["s"]), 64)
		if err != nil || sv < 0 || sv > 20 || math.IsNaN(sv) {
			return nil, fmt.Errorf("s must be a number from 0 to 20, got %q", a["s"])
		}
		n, err := countArg(a, "n")
		if err != nil {
			return nil, err
		}
		return NewZipf(sv, n), nil
	case "uniform":
		a, err := c.bind([]string{"n"})
		if err != nil {
			return nil, err
		}
		n, err := countArg(a, "n")
		if err != nil {
			return nil, err
		}
		return UniformKeys{n}, nil
	case "hotset":
		a, err := c.bind([]string{"fraction", "share", "n"})
		if err != nil {
			return nil, err
		}
		f, err := fracArg(a, "fraction")
		if err != nil {
			return nil, err
		}
		sh, err := fracArg(a, "share")
		if err != nil {
			return nil, err
		}
		n, err := countArg(a, "n")
		if err != nil {
			return nil, err
		}
		hot := uint64(math.Ceil(f * float64(n)))
		if hot < 1 || hot >= n {
			return nil, fmt.Errorf("fraction %s of n=%d keys leaves no hot or no cold keys", a["fraction"], n)
		}
		return HotSet{fraction: f, share: sh, n: n, hot: hot}, nil
	}
	return nil, fmt.Errorf("unknown key distribution; allowed: %s", strings.Join(KeyNames, ", "))
}
