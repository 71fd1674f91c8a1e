package sim

import "math/bits"

// Calendar geometry: fine slots of 2^calShift ns (16.4 µs) in a wheel of
// calSlots (a horizon of 67 ms), where most events a simulation schedules
// fall (cpu bursts, network and broker latencies, cache lookups); coarse
// slots of 2^coarseShift fine slots (34 ms) in a second wheel of calSlots
// (a horizon of 137 s), where most of the rest fall (timeouts, think
// times, start delays, retry backoff); beyond, an overflow heap (windows,
// faults, long schedules).
const (
	calShift    = 14
	calSlots    = 4096
	calMask     = calSlots - 1
	coarseShift = 11 // half the fine wheel, so that an opened coarse slot fits in it
)

// calendarQueue is the engine's event queue: a calendar queue (Brown,
// "Calendar queues", CACM 1988) with fixed slot widths on two levels, as a
// hierarchical timing wheel (Varghese and Lauck, SOSP 1987) has, a heap
// for the current slot and one for events beyond both wheels. A push into
// a future slot is an O(1) link into that slot's list; a pop takes the
// minimum of a heap holding only the current slot's few events instead of
// all pending ones; an event in a coarse slot moves once, into the fine
// wheel, when the coarse slot comes round.
//
// The order is exactly (At, key), as a single heap would give: the current
// heap holds every event due in or before the current fine slot base, the
// fine wheel only the slots (base, base+calSlots), the coarse wheel only
// coarse slots after base's, the overflow anything; the next slot is the
// nearest of the three, and a coarse slot is opened into the fine wheel
// before base can reach it.
type calendarQueue struct {
	n      int
	base   int64      // absolute fine slot (At >> calShift) of the current heap
	cur    eventQueue // events due in slot base or earlier
	far    eventQueue // events beyond the coarse wheel when pushed
	fine   wheel      // by fine slot
	coarse wheel      // by coarse slot (fine slot >> coarseShift)
	nodes  []calNode
	free   int32 // free list of nodes
}

// wheel is a ring of calSlots lists of pooled nodes, with a bitmap of the
// non-empty slots and a summary word of the bitmap. Links are node index +
// 1, so that 0 ends a list and the zero value is empty.
type wheel struct {
	head  [calSlots]int32
	used  [calSlots / 64]uint64
	words uint64 // bit w set when used[w] != 0: finds the next slot in O(1)
}

type calNode struct {
	ev   Event
	next int32
}

func (q *calendarQueue) Len() int { return q.n }

func (q *calendarQueue) push(ev Event) {
	q.n++
	q.place(ev)
}

// place files ev where it belongs: the current heap, a wheel or the
// overflow.
func (q *calendarQueue) place(ev Event) {
	a := int64(ev.At) >> calShift
	switch {
	case a <= q.base:
		q.cur.push(ev)
	case a < q.base+calSlots:
		q.link(&q.fine, a, ev)
	case a>>coarseShift < q.base>>coarseShift+calSlots:
		q.link(&q.coarse, a>>coarseShift, ev)
	default:
		q.far.push(ev)
	}
}

// link adds ev to slot s of wheel w.
func (q *calendarQueue) link(w *wheel, s int64, ev Event) {
	i := s & calMask
	k := q.free
	if k > 0 {
		q.free = q.nodes[k-1].next
	} else {
		q.nodes = append(q.nodes, calNode{})
		k = int32(len(q.nodes))
	}
	q.nodes[k-1] = calNode{ev: ev, next: w.head[i]}
	w.head[i] = k
	w.used[i>>6] |= 1 << (i & 63)
	w.words |= 1 << (i >> 6)
}

// take empties slot s of wheel w and returns its list.
func (w *wheel) take(s int64) int32 {
	i := s & calMask
	k := w.head[i]
	w.head[i] = 0
	w.used[i>>6] &^= 1 << (i & 63)
	if w.used[i>>6] == 0 {
		w.words &^= 1 << (i >> 6)
	}
	return k
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

// advance moves to the nearest non-empty slot — of the fine wheel, the
// coarse wheel or the overflow — and gathers its events into the current
// heap; a coarse slot is first opened into the fine wheel. It reports
// false when the queue is empty.
func (q *calendarQueue) advance() bool {
	if q.n == 0 {
		return false
	}
	for {
		ring := int64(-1)
		if d := q.fine.next(q.base); d > 0 {
			ring = q.base + d
		}
		next := ring
		if q.far.Len() > 0 {
			if a := int64(q.far.items[0].At) >> calShift; next < 0 || a < next {
				next = a
			}
		}
		cb := q.base >> coarseShift
		if d := q.coarse.next(cb); d > 0 {
			if start := (cb + d) << coarseShift; next < 0 || start <= next {
				// Open the coarse slot: base moves to just before it, so
				// that its events fit in the fine wheel, and they move
				// there; then look again.
				q.base = start - 1
				for k := q.coarse.take(cb + d); k > 0; {
					nd := &q.nodes[k-1]
					ev, nxt := nd.ev, nd.next
					nd.next = q.free
					q.free = k
					q.place(ev)
					k = nxt
				}
				continue
			}
		}
		q.base = next
		if ring == next {
			for k := q.fine.take(next); k > 0; {
				nd := &q.nodes[k-1]
				q.cur.push(nd.ev)
				nxt := nd.next
				nd.next = q.free
				q.free = k
				k = nxt
			}
		}
		for q.far.Len() > 0 && int64(q.far.items[0].At)>>calShift == next {
			var ev Event
			q.far.pop(&ev)
			q.cur.push(ev)
		}
		return true
	}
}

// next is the distance (1 … calSlots−1) from slot base to the nearest
// non-empty slot after it, or 0 when the wheel is empty. A sparse wheel (a
// few events spread over thousands of slots, as a lightly loaded run has)
// costs no scan: words says which bitmap words hold a slot, so the answer
// is in the start's word, in a later word, or (wrapping round) in an
// earlier word or the start's word before start.
func (w *wheel) next(base int64) int64 {
	start := (base + 1) & calMask
	k := start >> 6
	var i int64
	switch later := w.words &^ (2<<k - 1); { // words after k
	case w.used[k]&^(1<<(start&63)-1) != 0: // at or after start, in its word
		i = k<<6 | int64(bits.TrailingZeros64(w.used[k]&^(1<<(start&63)-1)))
	case later != 0:
		j := int64(bits.TrailingZeros64(later))
		i = j<<6 | int64(bits.TrailingZeros64(w.used[j]))
	case w.words != 0: // wrapped round: the earliest word holding a slot
		j := int64(bits.TrailingZeros64(w.words))
		i = j<<6 | int64(bits.TrailingZeros64(w.used[j]))
	default:
		return 0
	}
	return (i - base) & calMask
}
