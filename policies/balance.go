package policies

import (
	"fmt"
	"sort"
	"strings"

	"github.com/capsim/capsim/model"
	"github.com/capsim/capsim/sim"
)

// RoundRobin cycles through the instances in order.
type RoundRobin struct{ next int }

func (p *RoundRobin) Pick(b model.Backends, _ *sim.Stream) int {
	n := b.Len()
	if p.next >= n {
		p.next = 0
	}
	i := p.next
	p.next++
	return i
}

// Random picks an instance uniformly at random.
type Random struct{}

func (Random) Pick(b model.Backends, rng *sim.Stream) int { return rng.IntN(b.Len()) }

// LeastConnections picks the instance with the fewest requests (admitted
// plus waiting). Ties go to the first candidate after the previous pick, so
// an idle fleet is used round-robin rather than always from instance 0 (as
// nginx's least_conn does). The backends keep their loads indexed, so a
// pick costs O(log n) in the fleet size, as haproxy's leastconn tree does.
type LeastConnections struct{ next int }

func (p *LeastConnections) Pick(b model.Backends, _ *sim.Stream) int {
	if p.next >= b.Len() {
		p.next = 0
	}
	best := b.LeastLoaded(p.next)
	p.next = best + 1
	return best
}

// PowerOfTwo samples two distinct instances at random and picks the one with
// fewer requests (Mitzenmacher's "power of two choices"); a tie goes to the
// first sampled.
type PowerOfTwo struct{}

func (PowerOfTwo) Pick(b model.Backends, rng *sim.Stream) int {
	n := b.Len()
	if n == 1 {
		return 0
	}
	i := rng.IntN(n)
	j := rng.IntN(n - 1)
	if j >= i {
		j++
	}
	if b.Load(j) < b.Load(i) {
		return j
	}
	return i
}

// Weighted is smooth weighted round-robin (nginx's algorithm): over any run
// of W picks, instance i is picked weight_i/W of the time, evenly spread.
type Weighted struct{ current []float64 }

func (p *Weighted) Pick(b model.Backends, _ *sim.Stream) int {
	n := b.Len()
	if len(p.current) != n {
		p.current = make([]float64, n)
	}
	var total float64
	best := 0
	for i := 0; i < n; i++ {
		w := b.Weight(i)
		p.current[i] += w
		total += w
		if p.current[i] > p.current[best] {
			best = i
		}
	}
	p.current[best] -= total
	return best
}

var balancers = map[string]func() model.Picker{
	"round_robin":       func() model.Picker { return &RoundRobin{} },
	"random":            func() model.Picker { return Random{} },
	"least_connections": func() model.Picker { return &LeastConnections{} },
	"power_of_two":      func() model.Picker { return PowerOfTwo{} },
	"weighted":          func() model.Picker { return &Weighted{} },
	"consistent_hash":   func() model.Picker { return NewConsistentHash(DefaultVirtualNodes) },
	"least_latency":     func() model.Picker { return LeastLatency{} },
}

// BalancerNames lists the load-balancing algorithms, sorted.
func BalancerNames() []string {
	var n []string
	for k := range balancers {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// NewBalancer returns the constructor of the named algorithm.
func NewBalancer(name string) (func() model.Picker, error) {
	if f, ok := balancers[name]; ok {
		return f, nil
	}
	return nil, fmt.Errorf("unknown algorithm %q; allowed: %s", name, strings.Join(BalancerNames(), ", "))
}

// LeastLatency is the guide's "least-latency rule" as Finagle and Linkerd
// balance: the power of two choices, comparing each instance's cost — its
// peak EWMA of response times (10 s decay, raised at once by a slower
// response) times its requests in progress + 1. An instance with no
// response yet costs nothing, so new instances are tried at once.
type LeastLatency struct{}

func (LeastLatency) UsesLatency() {}

func (LeastLatency) Pick(b model.Backends, rng *sim.Stream) int {
	n := b.Len()
	if n == 1 {
		return 0
	}
	i := rng.IntN(n)
	j := rng.IntN(n - 1)
	if j >= i {
		j++
	}
	lb, ok := b.(model.LatencyBackends)
	if !ok {
		return i
	}
	if lb.EWMA(j)*float64(b.Load(j)+1) < lb.EWMA(i)*float64(b.Load(i)+1) {
		return j
	}
	return i
}
