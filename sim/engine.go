package sim

import "fmt"

// Engine runs events in time order and delivers each to its Handler. The
// zero value is at time 0; set the handler before scheduling.
type Engine struct {
	now     Time
	seq     uint64
	events  uint64
	h       Handler
	q       calendarQueue
	cur     Event
	timers  []Event // see SetTimer; At == Never when idle
	stopped bool
}

// Stop ends the run: RunUntil returns after the event being handled, and
// delivers nothing more.
func (e *Engine) Stop() { e.stopped = true }

// Stopped reports whether Stop was called.
func (e *Engine) Stopped() bool { return e.stopped }

// MaxTimers is how many timers an engine keeps outside its queue.
const MaxTimers = 8

// SetHandler sets the handler every event is delivered to. A simulation has
// one handler, which dispatches on Event.Op (as a state machine's Step does).
func (e *Engine) SetHandler(h Handler) { e.h = h }

// Now is the current simulated time.
func (e *Engine) Now() Time { return e.now }

// Events is the number of events delivered so far.
func (e *Engine) Events() uint64 { return e.events }

// Pending is the number of events scheduled but not yet delivered.
func (e *Engine) Pending() int {
	n := e.q.Len()
	for _, t := range e.timers {
		if t.At != Never {
			n++
		}
	}
	return n
}

// At schedules an event at time t, which must not be in the past.
func (e *Engine) At(t Time, op, ref int32, gen uint32) {
	if t < e.now {
		panic(fmt.Sprintf("sim: event scheduled at %v, before now (%v)", t, e.now))
	}
	e.q.push(Event{At: t, key: e.nextKey(op), Ref: ref, Gen: gen})
}

// nextKey numbers a new event; ops must fit in 8 bits.
func (e *Engine) nextKey(op int32) uint64 {
	if uint32(op) > 0xff {
		panic(fmt.Sprintf("sim: event op %d outside 0..255", op))
	}
	e.seq++
	return e.seq<<8 | uint64(op)
}

// AtFirst schedules an event at time t that runs before every other event
// at t, whenever those were scheduled (for bookkeeping at boundaries, such
// as closing a statistics window: whatever happens at the boundary belongs
// to the next window). Such events run in op order among themselves.
func (e *Engine) AtFirst(t Time, op, ref int32, gen uint32) {
	if t < e.now {
		panic(fmt.Sprintf("sim: event scheduled at %v, before now (%v)", t, e.now))
	}
	if uint32(op) > 0xff {
		panic(fmt.Sprintf("sim: event op %d outside 0..255", op))
	}
	e.q.push(Event{At: t, key: uint64(op), Ref: ref, Gen: gen})
}

// After schedules an event d after now.
func (e *Engine) After(d Time, op, ref int32, gen uint32) {
	e.At(e.now+d, op, ref, gen)
}

// NewTimer returns a timer slot, or -1 when all MaxTimers are taken.
//
// A timer holds at most one pending event outside the queue, for recurring
// event streams such as a traffic source's arrivals: the engine compares
// the few timers with the head of the queue instead of pushing and popping
// every arrival. Timer events carry insertion numbers like queued events, so
// the delivery order (and every result) is exactly what the queue alone
// would give; only the cost differs.
func (e *Engine) NewTimer() int {
	if len(e.timers) >= MaxTimers {
		return -1
	}
	e.timers = append(e.timers, Event{At: Never})
	return len(e.timers) - 1
}

// SetTimer schedules timer slot's event at t (not in the past), replacing
// any event it held.
func (e *Engine) SetTimer(slot int, t Time, op, ref int32, gen uint32) {
	if t < e.now {
		panic(fmt.Sprintf("sim: timer set at %v, before now (%v)", t, e.now))
	}
	e.timers[slot] = Event{At: t, key: e.nextKey(op), Ref: ref, Gen: gen}
}

// next moves the earliest pending event due at or before end into e.cur
// and reports whether there was one.
func (e *Engine) next(end Time) bool {
	best := e.q.peek()
	slot := -1
	for i := range e.timers {
		if t := &e.timers[i]; t.At != Never && (best == nil || less(t, best)) {
			best, slot = t, i
		}
	}
	if best == nil || best.At > end {
		return false
	}
	if slot >= 0 {
		e.cur = *best
		best.At = Never
	} else {
		e.q.pop(&e.cur)
	}
	e.now = e.cur.At
	e.events++
	return true
}

// RunUntil delivers every event due at or before end, in (time, insertion)
// order, then sets the clock to end. Events due later stay pending, so a run
// can be continued.
func (e *Engine) RunUntil(end Time) {
	for !e.stopped && e.next(end) {
		e.h.Handle(&e.cur)
	}
	if end > e.now && !e.stopped {
		e.now = end
	}
}

// RunFor is RunUntil in installments: it delivers at most n events due at
// or before end and reports whether it got to end (then the clock is set
// to end, as RunUntil does). Stopping and going on gives the same run as
// one RunUntil: the caller can look at the wall clock, or a cancellation,
// between installments — the engine never does.
func (e *Engine) RunFor(end Time, n int) bool {
	for ; n > 0; n-- {
		if e.stopped || !e.next(end) {
			if end > e.now && !e.stopped {
				e.now = end
			}
			return true
		}
		e.h.Handle(&e.cur)
	}
	return false
}

// Step delivers the next event, if any, and reports whether it did.
func (e *Engine) Step() bool {
	if !e.next(Never) {
		return false
	}
	e.h.Handle(&e.cur)
	return true
}
