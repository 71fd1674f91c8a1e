package sim

import "math/bits"

// Calendar geometry: slots of 2^calShift ns (16.4 µs) in a ring of
// calSlots (a horizon of 67 ms). Most events a simulation schedules (cpu
// bursts, network and broker latencies, cache lookups) fall within it;
// later ones (timeouts, think times, start delays, windows) wait in an
// overflow heap.
const (
	calShift = 14
	calSlots = 4096
	calMask  = calSlots - 1
)

// calendarQueue is the engine's event queue: a calendar queue (Brown,
// "Calendar queues", CACM 1988) with a fixed slot width, a heap for the
// current slot and one for events beyond the ring. A push into a future
// slot is an O(1) link into that slot's list; a pop takes the minimum of a
// heap holding only the current slot's few events instead of all pending
// ones. The order is exactly (At, key), as a single heap would give: the
// current heap holds every event due in or before the current slot, the
// ring only later slots, the overflow only slots beyond those the ring held
// when it was pushed, and the next slot is the nearest of the ring's and
// the overflow's.
type calendarQueue struct {
	n    int
	base int64      // absolute slot (At >> calShift) of the current heap
	cur  eventQueue // events due in slot base or earlier
	far  eventQueue // events at or beyond base + calSlots when pushed
	// The ring: per slot a linked list of nodes, and a bitmap of the
	// non-empty slots. Links are node index + 1, so that 0 ends a list and
	// the zero value is an empty queue.
	head  [calSlots]int32
	used  [calSlots / 64]uint64
	words uint64 // bit w set when used[w] != 0: finds the next slot in O(1)
	nodes []calNode
	free  int32 // free list of nodes
}

type calNode struct {
	ev   Event
	next int32
}

func (q *calendarQueue) Len() int { return q.n }

func (q *calendarQueue) push(ev Event) {
	q.n++
	a := int64(ev.At) >> calShift
	switch {
	case a <= q.base:
		q.cur.push(ev)
	case a < q.base+calSlots:
		i := a & calMask
		k := q.free
		if k > 0 {
			q.free = q.nodes[k-1].next
		} else {
			q.nodes = append(q.nodes, calNode{})
			k = int32(len(q.nodes))
		}
		q.nodes[k-1] = calNode{ev: ev, next: q.head[i]}
		q.head[i] = k
		q.used[i>>6] |= 1 << (i & 63)
		q.words |= 1 << (i >> 6)
	default:
		q.far.push(ev)
	}
}

// peek returns the earliest event, or nil; the pointer is valid until the
// next push or pop.
func (q *calendarQueue) peek() *Event {
	if q.cur.Len() == 0 && !q.advance() {
		return nil
	}
	return &q.cur.items[0]
}

// pop removes the earliest event into *out. The queue must not be empty.
func (q *calendarQueue) pop(out *Event) {
	if q.cur.Len() == 0 {
		q.advance()
	}
	q.cur.pop(out)
	q.n--
}

// advance moves to the nearest non-empty slot, of the ring or of the
// overflow, and gathers its events into the current heap. It reports
// false when the queue is empty.
func (q *calendarQueue) advance() bool {
	if q.n == 0 {
		return false
	}
	ring := int64(-1)
	if d := q.nextUsed(); d > 0 {
		ring = q.base + d
	}
	next := ring
	if q.far.Len() > 0 {
		if a := int64(q.far.items[0].At) >> calShift; next < 0 || a < next {
			next = a
		}
	}
	q.base = next
	if ring == next {
		i := next & calMask
		for k := q.head[i]; k > 0; {
			nd := &q.nodes[k-1]
			q.cur.push(nd.ev)
			nxt := nd.next
			nd.next = q.free
			q.free = k
			k = nxt
		}
		q.head[i] = 0
		q.used[i>>6] &^= 1 << (i & 63)
		if q.used[i>>6] == 0 {
			q.words &^= 1 << (i >> 6)
		}
	}
	for q.far.Len() > 0 && int64(q.far.items[0].At)>>calShift == next {
		var ev Event
		q.far.pop(&ev)
		q.cur.push(ev)
	}
	return true
}

// nextUsed is the distance (1 … calSlots−1) from base to the nearest
// non-empty ring slot after it, or 0 when the ring is empty. A sparse ring
// (a few events spread over thousands of slots, as a lightly loaded run
// has) costs no scan: words says which bitmap words hold a slot, so the
// answer is in the start's word, in a later word, or (wrapping round) in
// an earlier word or the start's word before start.
func (q *calendarQueue) nextUsed() int64 {
	start := (q.base + 1) & calMask
	w := start >> 6
	var i int64
	switch later := q.words &^ (2<<w - 1); { // words after w
	case q.used[w]&^(1<<(start&63)-1) != 0: // at or after start, in its word
		i = w<<6 | int64(bits.TrailingZeros64(q.used[w]&^(1<<(start&63)-1)))
	case later != 0:
		k := int64(bits.TrailingZeros64(later))
		i = k<<6 | int64(bits.TrailingZeros64(q.used[k]))
	case q.words != 0: // wrapped round: the earliest word holding a slot
		k := int64(bits.TrailingZeros64(q.words))
		i = k<<6 | int64(bits.TrailingZeros64(q.used[k]))
	default:
		return 0
	}
	return (i - q.base) & calMask
}
