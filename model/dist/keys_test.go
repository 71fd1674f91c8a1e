package dist

import (
	"math"
	"strings"
	"testing"

	"github.com/capsim/capsim/sim"
)

// Zipf draws follow the exact pmf k^-s / H(n, s) for exponents below,
// at and above 1 (chi-square goodness of fit over the head keys plus the
// tail lumped together).
func TestZipfMatchesPMF(t *testing.T) {
	for _, c := range []struct {
		s float64
		n uint64
	}{{0.5, 1000}, {0.8, 1_000_000}, {1, 50_000}, {1.1, 50_000}, {2, 100}, {0, 10}} {
		z := NewZipf(c.s, c.n)
		var total float64
		for k := uint64(1); k <= min(c.n, 1<<16); k++ {
			total += z.Prob(k)
		}
		if c.n <= 1<<16 && math.Abs(total-1) > 1e-9 {
			t.Errorf("zipf(%v, %d): probabilities sum to %v", c.s, c.n, total)
		}
		// Sum chi-square over 4 independent streams (4 × up to 50 degrees
		// of freedom): one stream alone hits its 0.1 % tail once in a
		// thousand runs, which says nothing about the sampler.
		var chi2 float64
		dof := 0
		for seed := uint64(1); seed <= 4; seed++ {
			c2, cells := zipfChi2(t, z, c.n, sim.NewStream(seed, "zipf", z.String()))
			chi2 += c2
			dof += cells - 1
		}
		// The 99.9th percentile of chi-square with d degrees of freedom is
		// below d + 3.1·sqrt(2d) + 10 for d ≤ 200 (Wilson–Hilferty).
		if limit := float64(dof) + 3.1*math.Sqrt(2*float64(dof)) + 10; chi2 > limit {
			t.Errorf("zipf(s=%v, n=%d): chi-square %.1f with %d degrees of freedom (limit %.1f)", c.s, c.n, chi2, dof, limit)
		}
	}
}

// zipfChi2 draws 250k keys and returns the chi-square statistic over the 50
// most popular keys plus the rest lumped together, and the cell count.
func zipfChi2(t *testing.T, z *Zipf, n uint64, rng *sim.Stream) (float64, int) {
	const draws = 250_000
	const head = 50
	counts := make([]float64, head+1) // counts[head] = the tail
	for i := 0; i < draws; i++ {
		k := z.Key(rng)
		if k < 1 || k > n {
			t.Fatalf("key %d outside 1..%d", k, n)
		}
		if k <= head {
			counts[k-1]++
		} else {
			counts[head]++
		}
	}
	var chi2, headP float64
	cells := 0
	for k := 1; k <= head && uint64(k) <= n; k++ {
		e := draws * z.Prob(uint64(k))
		headP += z.Prob(uint64(k))
		chi2 += (counts[k-1] - e) * (counts[k-1] - e) / e
		cells++
	}
	if e := draws * (1 - headP); e > 5 {
		chi2 += (counts[head] - e) * (counts[head] - e) / e
		cells++
	}
	return chi2, cells
}

func TestHotSetAndUniformKeys(t *testing.T) {
	k, err := ParseKeys("hotset(fraction=0.1, share=0.9, n=1000)")
	if err != nil {
		t.Fatal(err)
	}
	rng := sim.NewStream(1, "hot", "set")
	hot := 0
	for i := 0; i < 100_000; i++ {
		if k.Key(rng) <= 100 {
			hot++
		}
	}
	if f := float64(hot) / 100_000; math.Abs(f-0.9) > 0.005 {
		t.Errorf("hot share %v, want 0.9", f)
	}
	u, _ := ParseKeys("uniform(n=10)")
	seen := map[uint64]int{}
	for i := 0; i < 10_000; i++ {
		seen[u.Key(rng)]++
	}
	if len(seen) != 10 || seen[0] != 0 || seen[11] != 0 {
		t.Errorf("uniform keys: %v", seen)
	}
}

func TestParseKeysErrors(t *testing.T) {
	for _, c := range []struct{ spec, want string }{
		{"zipf(s=-1, n=10)", "s must be a number from 0 to 20"},
		{"zipf(s=1)", "want zipf(s=…, n=…)"},
		{"zipf(s=1, n=0)", "n must be from 1"},
		{"zipf(s=1, n=1.5)", "whole number"},
		{"hotset(fraction=1, share=0.5, n=10)", "strictly between 0 and 1"},
		{"pareto(n=3)", "unknown key distribution"},
		{"zipf", "want name(arguments)"},
	} {
		_, err := ParseKeys(c.spec)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseKeys(%q) = %v, want %q", c.spec, err, c.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"exp(5ms)", "lognormal(median=1ms, p99=2ms)", "uniform(1ms,2ms)", "zipf(s=1, n=10)", "erlang(k=2, mean=1s)", "pareto(mean=1ms, alpha=1.5)", "(", ")", "a(b=)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rng := sim.NewStream(1, "fuzz", "x")
		if d, err := Parse(s, nil); err == nil {
			for i := 0; i < 10; i++ {
				if v := d.Sample(rng); v < 0 {
					t.Fatalf("%q sampled %v", s, v)
				}
			}
		}
		if k, err := ParseKeys(s); err == nil {
			for i := 0; i < 10; i++ {
				if v := k.Key(rng); v < 1 || v > k.N() {
					t.Fatalf("%q drew key %d of %d", s, v, k.N())
				}
			}
		}
	})
}
