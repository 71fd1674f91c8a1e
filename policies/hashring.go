package policies

import (
	"sort"

	"github.com/capsim/capsim/model"
	"github.com/capsim/capsim/sim"
)

// DefaultVirtualNodes is how many points each instance has on the ring
// (ketama uses 100–200 per server; Envoy's ring_hash a minimum ring of
// 1,024 entries).
const DefaultVirtualNodes = 100

// ConsistentHash routes by the request's key on a hash ring (Karger et al.;
// Envoy's ring_hash, nginx's hash … consistent): each instance owns
// VirtualNodes points, and a key goes to the instance owning the first
// point at or after its hash. The same key always reaches the same
// instance while it lives (sticky sessions, and their hot spots); adding
// an instance moves only the keys it takes over, about 1/(n+1) of them.
// Requests without a key go to a random instance.
type ConsistentHash struct {
	VirtualNodes int
	ring         []ringPoint
	version      uint64
	built        bool
}

type ringPoint struct {
	h  uint64
	id int32
}

// NewConsistentHash returns a ring with v points per instance.
func NewConsistentHash(v int) *ConsistentHash { return &ConsistentHash{VirtualNodes: v} }

// Pick is for callers without a key: a random instance.
func (p *ConsistentHash) Pick(b model.Backends, rng *sim.Stream) int { return rng.IntN(b.Len()) }

// PickKey returns the position of the instance that owns key.
func (p *ConsistentHash) PickKey(b model.Backends, key uint64, rng *sim.Stream) int {
	if key == 0 {
		return rng.IntN(b.Len())
	}
	if !p.built || p.version != b.Version() {
		p.rebuild(b)
	}
	h := sim.Mix64(key ^ 0x6a09e667f3bcc909)
	i := sort.Search(len(p.ring), func(i int) bool { return p.ring[i].h >= h })
	if i == len(p.ring) {
		i = 0 // around the ring
	}
	return b.Index(p.ring[i].id)
}

// rebuild places VirtualNodes points per live instance, by its identity
// (not its position), so an instance keeps its points as others come and
// go.
func (p *ConsistentHash) rebuild(b model.Backends) {
	p.ring = p.ring[:0]
	for i := 0; i < b.Len(); i++ {
		id := b.ID(i)
		for v := 0; v < p.VirtualNodes; v++ {
			p.ring = append(p.ring, ringPoint{h: sim.Mix64(uint64(id)<<32 | uint64(v) + 0x9e3779b97f4a7c15), id: id})
		}
	}
	sort.Slice(p.ring, func(i, j int) bool {
		if p.ring[i].h != p.ring[j].h {
			return p.ring[i].h < p.ring[j].h
		}
		return p.ring[i].id < p.ring[j].id
	})
	p.version, p.built = b.Version(), true
}
