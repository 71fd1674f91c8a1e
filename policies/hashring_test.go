package policies

import (
	"math"
	"testing"

	"github.com/capsim/capsim/sim"
)

// members is a set of live instances by identity, for the ring.
type members struct{ ids []int32 }

func (m members) Len() int            { return len(m.ids) }
func (m members) Load(int) int        { return 0 }
func (m members) Weight(int) float64  { return 1 }
func (m members) LeastLoaded(int) int { return 0 }
func (m members) ID(i int) int32      { return m.ids[i] }
func (m members) Version() uint64     { return uint64(len(m.ids)) }
func (m members) Index(id int32) int {
	for i, x := range m.ids {
		if x == id {
			return i
		}
	}
	return -1
}

func ring(n int) members {
	m := members{}
	for i := 0; i < n; i++ {
		m.ids = append(m.ids, int32(i))
	}
	return m
}

// With uniform keys each of n instances gets about 1/n of them; the worst
// instance's deviation shrinks as the virtual nodes grow (its share's
// relative spread is about 1/√virtual_nodes).
func TestConsistentHashBalance(t *testing.T) {
	const n, keys = 10, 200_000
	rng := sim.NewStream(1, "ring", "keys")
	ks := make([]uint64, keys)
	for i := range ks {
		ks[i] = rng.Uint64() | 1
	}
	prev := math.Inf(1)
	for _, v := range []int{10, 100, 1000} {
		p, m := NewConsistentHash(v), ring(n)
		count := make([]int, n)
		for _, k := range ks {
			count[m.ids[p.PickKey(m, k, nil)]]++
		}
		worst := 0.0
		for _, c := range count {
			worst = math.Max(worst, math.Abs(float64(c)*n/keys-1))
		}
		t.Logf("%4d virtual nodes: worst instance off its 1/n share by %.1f %%", v, 100*worst)
		if worst > 4/math.Sqrt(float64(v)) || worst >= prev {
			t.Errorf("%d virtual nodes: worst deviation %.3f (bound %.3f, previous %.3f)", v, worst, 4/math.Sqrt(float64(v)), prev)
		}
		prev = worst
	}
}

// Adding an instance moves only the keys it takes over: about 1/(n+1) of
// them, all to the new instance.
func TestConsistentHashAddInstance(t *testing.T) {
	const n, keys = 10, 100_000
	pa, pb := NewConsistentHash(1000), NewConsistentHash(1000) // one ring each, as before and after the change
	before, after := ring(n), ring(n+1)
	rng := sim.NewStream(2, "ring", "keys")
	moved := 0
	for i := 0; i < keys; i++ {
		k := rng.Uint64() | 1
		a := before.ids[pa.PickKey(before, k, nil)]
		b := after.ids[pb.PickKey(after, k, nil)]
		if a != b {
			moved++
			if b != int32(n) {
				t.Fatalf("key %d moved from %d to %d, not to the new instance", k, a, b)
			}
		}
	}
	frac := float64(moved) / keys
	t.Logf("%.4f of the keys moved to the 11th instance (1/11 = %.4f)", frac, 1.0/(n+1))
	if want := 1.0 / (n + 1); math.Abs(frac-want) > 0.15*want {
		t.Errorf("%.4f of the keys moved, want about 1/(n+1) = %.4f", frac, want)
	}
}

// Zipf keys: all the hottest key's requests land on one instance, which
// therefore carries at least that key's share of the load.
func TestConsistentHashHotKey(t *testing.T) {
	const n, reqs = 8, 100_000
	p, m := NewConsistentHash(DefaultVirtualNodes), ring(n)
	z := rngZipf(1.1, 1000)
	rng := sim.NewStream(3, "ring", "zipf")
	count := make([]int, n)
	hot := int32(-1)
	hotReqs := 0
	for i := 0; i < reqs; i++ {
		k := z(rng)
		id := m.ids[p.PickKey(m, k, nil)]
		count[id]++
		if k == 1 {
			if hot >= 0 && id != hot {
				t.Fatalf("the hottest key went to %d and %d", hot, id)
			}
			hot = id
			hotReqs++
		}
	}
	if count[hot] < hotReqs || float64(count[hot])/reqs < 1.5/n {
		t.Errorf("the hot key's instance took %d of %d requests (the key alone %d): want well above 1/%d", count[hot], reqs, hotReqs, n)
	}
}

// rngZipf draws keys 1..n with P(k) ∝ k^−s by inversion of the CDF.
func rngZipf(s float64, n int) func(*sim.Stream) uint64 {
	cdf := make([]float64, n)
	sum := 0.0
	for k := 1; k <= n; k++ {
		sum += math.Pow(float64(k), -s)
		cdf[k-1] = sum
	}
	return func(r *sim.Stream) uint64 {
		u := r.Float64() * sum
		lo, hi := 0, n-1
		for lo < hi {
			mid := (lo + hi) / 2
			if cdf[mid] < u {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		return uint64(lo + 1)
	}
}
