package sim

// Event is one scheduled occurrence, delivered to the engine's Handler at
// time At. Op, Ref and Gen are opaque to the engine: the handler uses them to
// say what happens (Op, 0..255), to whom (Ref, typically a slab index) and
// to detect events that became stale since they were scheduled (Gen).
// Events are 24 bytes and hold no pointers, so the queue is cheap to move
// and invisible to the garbage collector.
type Event struct {
	At  Time
	key uint64 // insertion number << 8 | Op: FIFO among events at the same instant
	Ref int32
	Gen uint32
}

// Op is what the event is about, as given to Engine.At.
func (e *Event) Op() int32 { return int32(e.key & 0xff) }

// Handler reacts to events. Implementations must not block or start
// goroutines; they schedule further events on the engine.
type Handler interface {
	Handle(ev *Event)
}

// eventQueue is a 4-ary min-heap of events stored by value, ordered by
// (At, seq). A 4-ary heap halves the depth of a binary heap, and value storage
// means pushing and popping never allocate once the backing array has grown.
type eventQueue struct {
	items []Event
}

func (q *eventQueue) Len() int { return len(q.items) }

func less(a, b *Event) bool {
	if a.At != b.At {
		return a.At < b.At
	}
	return a.key < b.key
}

func (q *eventQueue) push(ev Event) {
	q.items = append(q.items, ev)
	items := q.items
	i := len(items) - 1
	for i > 0 {
		p := (i - 1) / 4
		if !less(&ev, &items[p]) {
			break
		}
		items[i] = items[p]
		i = p
	}
	items[i] = ev
}

// pop removes the earliest event into *out. The queue must not be empty.
//
// It uses bottom-up deletion: the hole left at the root sinks along the path
// of smallest children to a leaf without comparing against the displaced
// last element, which then rises from there. The last element usually
// belongs near the bottom, so this saves about one hard-to-predict
// comparison per level.
func (q *eventQueue) pop(out *Event) {
	items := q.items
	*out = items[0]
	n := len(items) - 1
	last := items[n]
	q.items = items[:n]
	if n == 0 {
		return
	}
	items = items[:n]
	i := 0
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		m := c
		if c+4 <= n {
			// Pick the smallest At with plain comparisons (which compile
			// to conditional moves, not unpredictable branches), then fix
			// up ties by insertion order, which are rare.
			mk := items[c].At
			if k := items[c+1].At; k < mk {
				m, mk = c+1, k
			}
			if k := items[c+2].At; k < mk {
				m, mk = c+2, k
			}
			if k := items[c+3].At; k < mk {
				m, mk = c+3, k
			}
			for j := c; j < c+4; j++ {
				if items[j].At == mk && items[j].key < items[m].key {
					m = j
				}
			}
		} else {
			for j := c + 1; j < n; j++ {
				if less(&items[j], &items[m]) {
					m = j
				}
			}
		}
		items[i] = items[m]
		i = m
	}
	for i > 0 {
		p := (i - 1) / 4
		if !less(&last, &items[p]) {
			break
		}
		items[i] = items[p]
		i = p
	}
	items[i] = last
}
