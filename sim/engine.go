package sim

import "fmt"

// Engine runs events in time order. The zero value is ready to use at time 0.
type Engine struct {
	now    Time
	seq    uint64
	events uint64
	q      eventQueue
	cur    Event
}

// Now is the current simulated time.
func (e *Engine) Now() Time { return e.now }

// Events is the number of events delivered so far.
func (e *Engine) Events() uint64 { return e.events }

// Pending is the number of events scheduled but not yet delivered.
func (e *Engine) Pending() int { return e.q.Len() }

// At schedules an event for h at time t, which must not be in the past.
func (e *Engine) At(t Time, h Handler, op, ref int32, gen uint32) {
	if t < e.now {
		panic(fmt.Sprintf("sim: event scheduled at %v, before now (%v)", t, e.now))
	}
	e.seq++
	e.q.push(Event{At: t, seq: e.seq, H: h, Op: op, Ref: ref, Gen: gen})
}

// After schedules an event for h d after now.
func (e *Engine) After(d Time, h Handler, op, ref int32, gen uint32) {
	e.At(e.now+d, h, op, ref, gen)
}

// RunUntil delivers every event due at or before end, in (time, insertion)
// order, then sets the clock to end. Events due later stay queued, so a run
// can be continued.
func (e *Engine) RunUntil(end Time) {
	for e.q.Len() > 0 && e.q.items[0].At <= end {
		e.q.pop(&e.cur)
		e.now = e.cur.At
		e.events++
		e.cur.H.Handle(&e.cur)
	}
	if end > e.now {
		e.now = end
	}
}

// Step delivers the next event, if any, and reports whether it did.
func (e *Engine) Step() bool {
	if e.q.Len() == 0 {
		return false
	}
	e.q.pop(&e.cur)
	e.now = e.cur.At
	e.events++
	e.cur.H.Handle(&e.cur)
	return true
}
