// Package keycache is a key-level cache with LRU, LFU, FIFO or random
// eviction and an optional time-to-live, for simulating caches whose hit
// ratio follows from the workload. It stores keys and versions only (no
// values). A cache of fixed capacity keeps its entries in arrays sized
// once: memory is O(capacity), and Get, Put and Delete allocate nothing. An
// unbounded cache (capacity 0: a TTL-only cache, as Redis without
// maxmemory) never evicts; it drops expired entries and grows its arrays
// when full, so its memory follows the keys it holds. LRU, FIFO and random
// are O(1); LFU is O(log capacity).
package keycache

import (
	"fmt"
	"strings"

	"github.com/capsim/capsim/sim"
)

// Policy is an eviction policy.
type Policy int

const (
	LRU    Policy = iota // evict the least recently used
	LFU                  // evict the least frequently used (ties: least recently used)
	FIFO                 // evict the oldest fill
	Random               // evict a uniformly random entry
)

// Policies lists the eviction policy names.
var Policies = []string{"lru", "lfu", "fifo", "random"}

// ParsePolicy returns the named policy.
func ParsePolicy(name string) (Policy, error) {
	for i, n := range Policies {
		if n == name {
			return Policy(i), nil
		}
	}
	return 0, fmt.Errorf("unknown eviction %q; allowed: %s", name, strings.Join(Policies, ", "))
}

const none = -1

// Cache is a key-level cache. The zero value is not usable; call New.
type Cache struct {
	policy Policy
	ttl    sim.Time // 0: entries do not expire
	rng    *sim.Stream

	// Entries live in slots 0..n-1.
	keys    []uint64
	version []sim.Time // the version of the value (for staleness)
	expires []sim.Time
	n       int

	// Recency (LRU) or fill order (FIFO): a doubly linked list of slots,
	// head = most recent.
	prev, next []int32
	head, tail int32

	// LFU: a min-heap of slots by (count, last use).
	count   []uint64
	lastUse []uint64
	heap    []int32
	heapPos []int32
	tick    uint64

	// Open-addressing hash index from key to slot (linear probing,
	// backward-shift deletion: no tombstones, so no rehashing ever).
	tkeys  []uint64 // key+1; 0 = empty
	tslots []int32
	mask   uint64

	unbounded bool // grow instead of evicting

	Evictions, Expirations int64
}

// New returns an empty cache holding up to capacity keys, or any number of
// keys when capacity is 0 (unbounded: entries leave only when they expire
// or are deleted). rng is used by random eviction only.
func New(capacity int, p Policy, ttl sim.Time, rng *sim.Stream) *Cache {
	if capacity <= 0 {
		c := newCache(1024, p, ttl, rng)
		c.unbounded = true
		return c
	}
	return newCache(capacity, p, ttl, rng)
}

func newCache(capacity int, p Policy, ttl sim.Time, rng *sim.Stream) *Cache {
	size := 1
	for size < 2*capacity {
		size <<= 1
	}
	c := &Cache{policy: p, ttl: ttl, rng: rng,
		keys: make([]uint64, capacity), version: make([]sim.Time, capacity), expires: make([]sim.Time, capacity),
		tkeys: make([]uint64, size), tslots: make([]int32, size), mask: uint64(size - 1),
		head: none, tail: none}
	switch p {
	case LRU, FIFO:
		c.prev, c.next = make([]int32, capacity), make([]int32, capacity)
	case LFU:
		c.count, c.lastUse = make([]uint64, capacity), make([]uint64, capacity)
		c.heap, c.heapPos = make([]int32, 0, capacity), make([]int32, capacity)
	}
	return c
}

// Len is the number of keys held.
func (c *Cache) Len() int { return c.n }

// Cap is the capacity (for an unbounded cache, the room it has grown to).
func (c *Cache) Cap() int { return len(c.keys) }

// Unbounded reports whether the cache grows instead of evicting.
func (c *Cache) Unbounded() bool { return c.unbounded }

func (c *Cache) find(k uint64) (pos uint64, slot int32) {
	for i := sim.Mix64(k) & c.mask; ; i = (i + 1) & c.mask {
		switch c.tkeys[i] {
		case 0:
			return i, none
		case k + 1:
			return i, c.tslots[i]
		}
	}
}

func (c *Cache) tableDelete(pos uint64) {
	// Backward-shift deletion keeps every probe chain intact.
	for {
		c.tkeys[pos] = 0
		j := pos
		for {
			j = (j + 1) & c.mask
			if c.tkeys[j] == 0 {
				return
			}
			home := sim.Mix64(c.tkeys[j]-1) & c.mask
			// Move j into the hole if its home is not in (pos, j].
			if (j > pos && (home <= pos || home > j)) || (j < pos && home <= pos && home > j) {
				c.tkeys[pos], c.tslots[pos] = c.tkeys[j], c.tslots[j]
				pos = j
				break
			}
		}
	}
}

// Get looks k up at time now. On a hit it returns the value's version and
// counts the use; an expired entry is removed and reported as a miss.
func (c *Cache) Get(k uint64, now sim.Time) (version sim.Time, hit bool) {
	pos, s := c.find(k)
	if s == none {
		return 0, false
	}
	if c.ttl > 0 && now >= c.expires[s] {
		c.Expirations++
		c.remove(pos, s)
		return 0, false
	}
	c.touch(s)
	return c.version[s], true
}

// Put stores k with the given version at time now (a fill or an update),
// evicting an entry if the cache is full.
func (c *Cache) Put(k uint64, version, now sim.Time) {
	pos, s := c.find(k)
	if s == none {
		if c.n == len(c.keys) {
			if c.unbounded {
				c.makeRoom(now)
			} else {
				c.evict()
			}
			pos, _ = c.find(k) // the table changed
		}
		s = int32(c.n)
		c.n++
		c.keys[s] = k
		c.tkeys[pos], c.tslots[pos] = k+1, s
		c.insert(s)
	} else {
		c.touch(s) // FIFO keeps the first fill's place
	}
	c.version[s] = version
	c.expires[s] = now + c.ttl
}

// Delete removes k if present (invalidation).
func (c *Cache) Delete(k uint64) {
	if pos, s := c.find(k); s != none {
		c.remove(pos, s)
	}
}

// makeRoom frees or adds room in a full unbounded cache: it drops the
// expired entries, and doubles the arrays unless that freed half of them
// (so that each entry is scanned O(1) times on average).
func (c *Cache) makeRoom(now sim.Time) {
	if c.ttl > 0 {
		for s := int32(c.n - 1); s >= 0; s-- {
			if int(s) < c.n && now >= c.expires[s] {
				pos, _ := c.find(c.keys[s])
				c.Expirations++
				c.remove(pos, s)
			}
		}
	}
	if c.n > len(c.keys)/2 {
		c.grow()
	}
}

// grow doubles the capacity of an unbounded cache, keeping every entry in
// its slot.
func (c *Cache) grow() {
	old := c.n
	g := newCache(2*len(c.keys), c.policy, c.ttl, c.rng)
	copy(g.keys, c.keys[:old])
	copy(g.version, c.version[:old])
	copy(g.expires, c.expires[:old])
	switch c.policy {
	case LRU, FIFO:
		copy(g.prev, c.prev[:old])
		copy(g.next, c.next[:old])
	case LFU:
		copy(g.count, c.count[:old])
		copy(g.lastUse, c.lastUse[:old])
		copy(g.heapPos, c.heapPos[:old])
		g.heap = append(g.heap, c.heap...)
	}
	g.head, g.tail, g.tick, g.n = c.head, c.tail, c.tick, old
	for s := 0; s < old; s++ {
		pos, _ := g.find(g.keys[s])
		g.tkeys[pos], g.tslots[pos] = g.keys[s]+1, int32(s)
	}
	g.unbounded, g.Evictions, g.Expirations = true, c.Evictions, c.Expirations
	*c = *g
}

func (c *Cache) evict() {
	var s int32
	switch c.policy {
	case LRU, FIFO:
		s = c.tail
	case LFU:
		s = c.heap[0]
	case Random:
		s = int32(c.rng.IntN(c.n))
	}
	pos, _ := c.find(c.keys[s])
	c.Evictions++
	c.remove(pos, s)
}

// remove deletes slot s (whose table position is pos) and moves the last
// slot into its place, keeping slots dense.
func (c *Cache) remove(pos uint64, s int32) {
	c.tableDelete(pos)
	c.detach(s)
	last := int32(c.n - 1)
	if s != last {
		lpos, _ := c.find(c.keys[last])
		c.tslots[lpos] = s
		c.keys[s], c.version[s], c.expires[s] = c.keys[last], c.version[last], c.expires[last]
		c.move(last, s)
	}
	c.n--
}

func (c *Cache) insert(s int32) {
	switch c.policy {
	case LRU, FIFO:
		c.pushFront(s)
	case LFU:
		c.tick++
		c.count[s], c.lastUse[s] = 1, c.tick
		c.heapPos[s] = int32(len(c.heap))
		c.heap = append(c.heap, s)
		c.up(int(c.heapPos[s]))
	}
}

func (c *Cache) touch(s int32) {
	switch c.policy {
	case LRU:
		c.unlink(s)
		c.pushFront(s)
	case LFU:
		c.tick++
		c.count[s]++
		c.lastUse[s] = c.tick
		c.down(int(c.heapPos[s]))
	}
}

func (c *Cache) detach(s int32) {
	switch c.policy {
	case LRU, FIFO:
		c.unlink(s)
	case LFU:
		i := int(c.heapPos[s])
		last := len(c.heap) - 1
		c.swap(i, last)
		c.heap = c.heap[:last]
		if i < last {
			c.down(i)
			c.up(i)
		}
	}
}

// move relocates the bookkeeping of slot from to slot to (already detached).
func (c *Cache) move(from, to int32) {
	switch c.policy {
	case LRU, FIFO:
		p, n := c.prev[from], c.next[from]
		c.prev[to], c.next[to] = p, n
		if p != none {
			c.next[p] = to
		} else {
			c.head = to
		}
		if n != none {
			c.prev[n] = to
		} else {
			c.tail = to
		}
	case LFU:
		c.count[to], c.lastUse[to] = c.count[from], c.lastUse[from]
		c.heapPos[to] = c.heapPos[from]
		c.heap[c.heapPos[to]] = to
	}
}

func (c *Cache) pushFront(s int32) {
	c.prev[s], c.next[s] = none, c.head
	if c.head != none {
		c.prev[c.head] = s
	}
	c.head = s
	if c.tail == none {
		c.tail = s
	}
}

func (c *Cache) unlink(s int32) {
	p, n := c.prev[s], c.next[s]
	if p != none {
		c.next[p] = n
	} else {
		c.head = n
	}
	if n != none {
		c.prev[n] = p
	} else {
		c.tail = p
	}
}

func (c *Cache) less(a, b int32) bool {
	if c.count[a] != c.count[b] {
		return c.count[a] < c.count[b]
	}
	return c.lastUse[a] < c.lastUse[b]
}

func (c *Cache) swap(i, j int) {
	c.heap[i], c.heap[j] = c.heap[j], c.heap[i]
	c.heapPos[c.heap[i]], c.heapPos[c.heap[j]] = int32(i), int32(j)
}

func (c *Cache) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !c.less(c.heap[i], c.heap[p]) {
			return
		}
		c.swap(i, p)
		i = p
	}
}

func (c *Cache) down(i int) {
	n := len(c.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && c.less(c.heap[r], c.heap[l]) {
			m = r
		}
		if !c.less(c.heap[m], c.heap[i]) {
			return
		}
		c.swap(i, m)
		i = m
	}
}
