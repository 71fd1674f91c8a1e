package sim

// Event is one scheduled occurrence. The engine delivers it to H.Handle at
// time At. Op, Ref and Gen are opaque to the engine: the handler uses them to
// say what happens (Op), to whom (Ref, typically a slab index) and to detect
// events that became stale since they were scheduled (Gen).
type Event struct {
	At  Time
	seq uint64 // insertion order: FIFO among events at the same instant
	H   Handler
	Op  int32
	Ref int32
	Gen uint32
}

// Handler reacts to events. Implementations must not block or start
// goroutines; they schedule further events on the engine they belong to.
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
	return a.seq < b.seq
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
func (q *eventQueue) pop(out *Event) {
	items := q.items
	*out = items[0]
	n := len(items) - 1
	last := items[n]
	items[n] = Event{} // drop the Handler reference for the GC
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
		end := c + 4
		if end > n {
			end = n
		}
		for j := c + 1; j < end; j++ {
			if less(&items[j], &items[m]) {
				m = j
			}
		}
		if !less(&items[m], &last) {
			break
		}
		items[i] = items[m]
		i = m
	}
	items[i] = last
}
