package keycache

import (
	"math"
	"testing"

	"github.com/capsim/capsim/model/dist"
	"github.com/capsim/capsim/sim"
)

// reference is an obviously correct (and slow) LRU/FIFO cache.
type reference struct {
	cap   int
	order []uint64 // most recent first
	lru   bool
}

func (r *reference) get(k uint64) bool {
	for i, x := range r.order {
		if x == k {
			if r.lru {
				copy(r.order[1:i+1], r.order[:i])
				r.order[0] = k
			}
			return true
		}
	}
	return false
}

func (r *reference) put(k uint64) {
	for i, x := range r.order {
		if x == k {
			if r.lru {
				copy(r.order[1:i+1], r.order[:i])
				r.order[0] = k
			}
			return
		}
	}
	if len(r.order) == r.cap {
		r.order = r.order[:r.cap-1]
	}
	r.order = append([]uint64{k}, r.order...)
}

func (r *reference) del(k uint64) {
	for i, x := range r.order {
		if x == k {
			r.order = append(r.order[:i], r.order[i+1:]...)
			return
		}
	}
}

// LRU and FIFO agree with the reference on a long random sequence of gets,
// puts and deletes (which also exercises the hash index's deletion).
func TestAgainstReference(t *testing.T) {
	for _, p := range []Policy{LRU, FIFO} {
		c := New(37, p, 0, nil)
		ref := &reference{cap: 37, lru: p == LRU}
		rng := sim.NewStream(1, "keycache", "ref")
		for i := 0; i < 200_000; i++ {
			k := uint64(rng.IntN(120))
			switch op := rng.IntN(10); {
			case op < 6:
				_, hit := c.Get(k, 0)
				if want := ref.get(k); hit != want {
					t.Fatalf("%v op %d: Get(%d) = %v, reference %v", p, i, k, hit, want)
				}
			case op < 9:
				c.Put(k, 0, 0)
				ref.put(k)
			default:
				c.Delete(k)
				ref.del(k)
			}
			if c.Len() != len(ref.order) {
				t.Fatalf("%v op %d: %d keys, reference %d", p, i, c.Len(), len(ref.order))
			}
		}
	}
}

// cheHitRatio is Che's approximation of an LRU cache's hit ratio under the
// independent reference model: the characteristic time T solves
// Σ (1 − e^(−pᵢT)) = C, and the hit ratio is Σ pᵢ (1 − e^(−pᵢT)).
// Reference: H. Che, Y. Tung, Z. Wang, "Hierarchical Web caching systems:
// modeling, design and experimental results", IEEE JSAC 20(7), 2002.
func cheHitRatio(p []float64, capacity int) float64 {
	occupancy := func(T float64) float64 {
		var s float64
		for _, x := range p {
			s += 1 - math.Exp(-x*T)
		}
		return s
	}
	lo, hi := 0.0, 1.0
	for occupancy(hi) < float64(capacity) {
		hi *= 2
	}
	for range 200 {
		mid := (lo + hi) / 2
		if occupancy(mid) < float64(capacity) {
			lo = mid
		} else {
			hi = mid
		}
	}
	var h float64
	for _, x := range p {
		h += x * (1 - math.Exp(-x*lo))
	}
	return h
}

// simulateIRM requests keys independently from keys, filling on a miss,
// and returns the hit ratio after a warm-up.
func simulateIRM(c *Cache, keys dist.Keys, rng *sim.Stream, warm, n int) float64 {
	hits := 0
	for i := 0; i < warm+n; i++ {
		k := keys.Key(rng)
		if _, hit := c.Get(k, 0); hit {
			if i >= warm {
				hits++
			}
		} else {
			c.Put(k, 0, 0)
		}
	}
	return float64(hits) / float64(n)
}

func zipfProbs(z *dist.Zipf) []float64 {
	p := make([]float64, z.N())
	for i := range p {
		p[i] = z.Prob(uint64(i + 1))
	}
	return p
}

// LRU under Zipf requests is within 1 percentage point of Che's
// approximation.
func TestLRUMatchesChe(t *testing.T) {
	for _, s := range []float64{0.6, 0.8, 1.0, 1.2} {
		for _, capacity := range []int{100, 1000} {
			z := dist.NewZipf(s, 10_000)
			c := New(capacity, LRU, 0, nil)
			got := simulateIRM(c, z, sim.NewStream(1, "che", "irm"), 200_000, 1_000_000)
			want := cheHitRatio(zipfProbs(z), capacity)
			if math.Abs(got-want) > 0.01 {
				t.Errorf("zipf s=%v, C=%d: hit ratio %.4f, Che %.4f", s, capacity, got, want)
			} else {
				t.Logf("zipf s=%v, C=%d: hit ratio %.4f, Che %.4f", s, capacity, got, want)
			}
		}
	}
}

// Under the independent reference model FIFO and random eviction have the
// same hit ratio (Gelenbe 1973), and both are below LRU; LFU, which keeps
// the most popular keys, is above it.
func TestFIFOEqualsRandomUnderIRM(t *testing.T) {
	z := dist.NewZipf(0.9, 10_000)
	ratio := map[Policy]float64{}
	for _, p := range []Policy{LRU, LFU, FIFO, Random} {
		c := New(500, p, 0, sim.NewStream(2, "evict", "random"))
		ratio[p] = simulateIRM(c, z, sim.NewStream(1, "irm", "requests"), 200_000, 1_000_000)
	}
	t.Logf("hit ratios: LRU %.4f LFU %.4f FIFO %.4f random %.4f", ratio[LRU], ratio[LFU], ratio[FIFO], ratio[Random])
	if math.Abs(ratio[FIFO]-ratio[Random]) > 0.005 {
		t.Errorf("FIFO %.4f and random %.4f differ", ratio[FIFO], ratio[Random])
	}
	if !(ratio[FIFO] < ratio[LRU] && ratio[LRU] < ratio[LFU]) {
		t.Errorf("want FIFO < LRU < LFU, got %.4f %.4f %.4f", ratio[FIFO], ratio[LRU], ratio[LFU])
	}
}

// A TTL cache large enough never to evict: with Poisson requests at rate
// λᵢ for key i and entries expiring T after their fill, key i hits with
// probability λᵢT/(1+λᵢT), so the hit ratio is Σ pᵢ λᵢT/(1+λᵢT).
// Reference: N. C. Fofack, P. Nain, G. Neglia, D. Towsley, "Analysis of
// TTL-based cache networks", VALUETOOLS 2012.
func TestTTLHitRatio(t *testing.T) {
	const n, rate = 1000, 200.0 // requests per second in total
	z := dist.NewZipf(0.8, n)
	for _, ttl := range []float64{0.5, 5, 30} {
		c := New(n, LRU, sim.FromSeconds(ttl), nil)
		rng := sim.NewStream(3, "ttl", "requests")
		now, hits, total := sim.Time(0), 0, 0
		for i := 0; i < 1_200_000; i++ {
			now += sim.FromSeconds(rng.ExpFloat64() / rate)
			k := z.Key(rng)
			_, hit := c.Get(k, now)
			if !hit {
				c.Put(k, now, now)
			}
			if i >= 200_000 {
				total++
				if hit {
					hits++
				}
			}
		}
		var want float64
		for i := uint64(1); i <= n; i++ {
			p := z.Prob(i)
			lt := p * rate * ttl
			want += p * lt / (1 + lt)
		}
		got := float64(hits) / float64(total)
		if math.Abs(got-want) > 0.01 {
			t.Errorf("TTL %vs: hit ratio %.4f, theory %.4f", ttl, got, want)
		} else {
			t.Logf("TTL %vs: hit ratio %.4f, theory %.4f", ttl, got, want)
		}
	}
}

func TestNoAllocs(t *testing.T) {
	z := dist.NewZipf(1, 100_000)
	for _, p := range []Policy{LRU, LFU, FIFO, Random} {
		c := New(1000, p, sim.Second, sim.NewStream(1, "a", "b"))
		rng := sim.NewStream(1, "alloc", "x")
		now := sim.Time(0)
		if a := testing.AllocsPerRun(10_000, func() {
			now += sim.Millisecond
			k := z.Key(rng)
			if _, hit := c.Get(k, now); !hit {
				c.Put(k, now, now)
			}
		}); a != 0 {
			t.Errorf("policy %d: %v allocations per request", p, a)
		}
	}
}

// BenchmarkLookup is a get (and a fill on a miss) under Zipf keys.
func BenchmarkLookup(b *testing.B) {
	for _, p := range []Policy{LRU, LFU, FIFO, Random} {
		b.Run(Policies[p], func(b *testing.B) {
			z := dist.NewZipf(0.9, 1_000_000)
			c := New(100_000, p, 0, sim.NewStream(1, "a", "b"))
			rng := sim.NewStream(1, "bench", "x")
			keys := make([]uint64, 1<<16)
			for i := range keys {
				keys[i] = z.Key(rng)
			}
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				k := keys[i&(1<<16-1)]
				i++
				if _, hit := c.Get(k, 0); !hit {
					c.Put(k, 0, 0)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
		})
	}
}

// An unbounded cache holds every key put until it expires: it grows past
// its first arrays, finds every key after growing (with every policy), and
// drops expired entries before growing again.
func TestUnbounded(t *testing.T) {
	for _, p := range []Policy{LRU, LFU, FIFO, Random} {
		c := New(0, p, 10*sim.Second, sim.NewStream(1, "u", "u"))
		for k := uint64(1); k <= 5000; k++ {
			c.Put(k, sim.Time(k), 0)
		}
		if c.Len() != 5000 || c.Evictions != 0 || c.Cap() < 5000 {
			t.Fatalf("policy %d: %d keys held, %d evictions, room %d", p, c.Len(), c.Evictions, c.Cap())
		}
		for k := uint64(1); k <= 5000; k++ {
			if v, hit := c.Get(k, sim.Second); !hit || v != sim.Time(k) {
				t.Fatalf("policy %d: key %d lost after growing", p, k)
			}
		}
		room := c.Cap()
		// Once they have expired, new keys take their room instead of
		// growing the arrays.
		for k := uint64(10_001); k <= 15_000; k++ {
			c.Put(k, 0, 20*sim.Second)
		}
		if c.Cap() != room || c.Len() > 5000+room/2 {
			t.Errorf("policy %d: room %d → %d, %d keys held", p, room, c.Cap(), c.Len())
		}
		if _, hit := c.Get(1, 20*sim.Second); hit {
			t.Errorf("policy %d: an expired key hit", p)
		}
	}
}
