package policies

import (
	"testing"

	"github.com/capsim/capsim/sim"
)

type fleet struct {
	load   []int
	weight []float64
}

func (f fleet) Len() int       { return len(f.load) }
func (f fleet) Load(i int) int { return f.load[i] }
func (f fleet) Weight(i int) float64 {
	if f.weight == nil {
		return 1
	}
	return f.weight[i]
}

func (f fleet) ID(i int) int32     { return int32(i) }
func (f fleet) Index(id int32) int { return int(id) }
func (f fleet) Version() uint64    { return uint64(len(f.load)) }

// LeastLoaded by a scan: the reference the model's index must match.
func (f fleet) LeastLoaded(from int) int {
	n := len(f.load)
	best := -1
	for k := 0; k < n; k++ {
		i := (from + k) % n
		if best < 0 || f.load[i] < f.load[best] {
			best = i
		}
	}
	return best
}

func picks(name string, f fleet, n int) []int {
	newPicker, err := NewBalancer(name)
	if err != nil {
		panic(err)
	}
	p := newPicker()
	rng := sim.NewStream(1, "test", name)
	out := make([]int, n)
	for i := range out {
		out[i] = p.Pick(f, rng)
	}
	return out
}

func TestRoundRobinCycles(t *testing.T) {
	got := picks("round_robin", fleet{load: []int{9, 0, 5}}, 7)
	want := []int{0, 1, 2, 0, 1, 2, 0}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("picks %v, want %v", got, want)
		}
	}
}

func TestLeastConnections(t *testing.T) {
	cases := []struct {
		load []int
		want []int
	}{
		{[]int{3, 1, 2}, []int{1, 1, 1}},       // loads are not changed by picking here
		{[]int{0, 0, 0}, []int{0, 1, 2}},       // ties rotate
		{[]int{5, 0, 0, 7}, []int{1, 2, 1, 2}}, // ties among the least loaded rotate
	}
	for _, c := range cases {
		got := picks("least_connections", fleet{load: c.load}, len(c.want))
		for i := range c.want {
			if got[i] != c.want[i] {
				t.Errorf("loads %v: picks %v, want %v", c.load, got, c.want)
				break
			}
		}
	}
}

// power_of_two never picks the most loaded of n ≥ 2 instances when one is
// strictly the most loaded, and picks each of two equal ones about half the
// time.
func TestPowerOfTwo(t *testing.T) {
	for _, p := range picks("power_of_two", fleet{load: []int{1, 9, 2}}, 3000) {
		if p == 1 {
			t.Fatal("picked the most loaded instance")
		}
	}
	n0 := 0
	for _, p := range picks("power_of_two", fleet{load: []int{0, 0}}, 10000) {
		if p == 0 {
			n0++
		}
	}
	if n0 < 4800 || n0 > 5200 {
		t.Errorf("instance 0 picked %d of 10000 times between two equals", n0)
	}
}

func TestRandomIsUniform(t *testing.T) {
	counts := make([]int, 4)
	for _, p := range picks("random", fleet{load: make([]int, 4)}, 40000) {
		counts[p]++
	}
	for i, c := range counts {
		if c < 9600 || c > 10400 {
			t.Errorf("instance %d picked %d of 40000 times", i, c)
		}
	}
}

// Smooth weighted round-robin gives each instance its weight's share in
// every cycle of total-weight picks, spread out (nginx's example: weights
// 5, 1, 1 → a a b a c a a).
func TestWeighted(t *testing.T) {
	got := picks("weighted", fleet{load: make([]int, 3), weight: []float64{5, 1, 1}}, 7)
	want := []int{0, 0, 1, 0, 2, 0, 0}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("picks %v, want %v", got, want)
		}
	}
}

func TestUnknownBalancer(t *testing.T) {
	if _, err := NewBalancer("fastest"); err == nil {
		t.Error("no error for an unknown algorithm")
	}
}
