package model

import (
	"testing"

	"github.com/capsim/capsim/sim"
)

// The index answers exactly what a scan answers, through random load
// changes, appends and removals at the end (the only ways a ready list
// changes).
func TestLoadIndexMatchesScan(t *testing.T) {
	rng := sim.NewStream(1, "loadindex", "test")
	loads := []int{3, 1, 4, 1, 5}
	var x loadIndex
	x.build(len(loads), func(p int) int { return loads[p] })
	scan := func(from int) int {
		best := -1
		for k := range loads {
			i := (from + k) % len(loads)
			if best < 0 || loads[i] < loads[best] {
				best = i
			}
		}
		return best
	}
	for step := 0; step < 200_000; step++ {
		switch r := rng.IntN(100); {
		case r < 3 && len(loads) < 300: // append
			loads = append(loads, rng.IntN(10))
			if len(loads) > x.size {
				x.build(len(loads), func(p int) int { return loads[p] })
			} else {
				x.set(len(loads)-1, loads[len(loads)-1])
			}
		case r < 5 && len(loads) > 1: // remove the last
			loads = loads[:len(loads)-1]
			x.set(len(loads), emptyLeaf)
		default:
			p := rng.IntN(len(loads))
			loads[p] = max(0, loads[p]+rng.IntN(3)-1)
			x.set(p, loads[p])
		}
		from := rng.IntN(len(loads))
		if got, want := x.leastFrom(from), scan(from); got != want {
			t.Fatalf("step %d: leastFrom(%d) = %d, scan %d (loads %v)", step, from, got, want, loads)
		}
	}
}
