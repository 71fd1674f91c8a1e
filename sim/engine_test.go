package sim

import (
	"sort"
	"testing"
)

type recorder struct {
	e   *Engine
	got []int32 // Ref of each delivered event
	ops []int32
	at  []Time
}

func (r *recorder) Handle(ev *Event) {
	r.got = append(r.got, ev.Ref)
	r.ops = append(r.ops, ev.Op())
	r.at = append(r.at, r.e.Now())
}

// Events run in time order, and in insertion order at the same instant.
func TestEngineOrder(t *testing.T) {
	var e Engine
	r := &recorder{e: &e}
	e.SetHandler(r)
	s := NewStream(1, "order", "test")
	type ev struct {
		at Time
		op int32
	}
	var evs []ev
	for i := 0; i < 5000; i++ {
		evs = append(evs, ev{Time(s.IntN(50)), int32(i)})
	}
	for _, x := range evs {
		e.At(x.at, 7, x.op, 0)
	}
	e.RunUntil(Never - 1)
	if len(r.got) != len(evs) {
		t.Fatalf("delivered %d of %d events", len(r.got), len(evs))
	}
	for i := 1; i < len(r.got); i++ {
		a, b := evs[r.got[i-1]], evs[r.got[i]]
		if a.at > b.at || (a.at == b.at && r.got[i-1] > r.got[i]) {
			t.Fatalf("event %d (t=%v) delivered before %d (t=%v)", r.got[i-1], a.at, r.got[i], b.at)
		}
		if r.at[i] != evs[r.got[i]].at {
			t.Fatalf("clock %v at event for %v", r.at[i], evs[r.got[i]].at)
		}
	}
	if e.Events() != uint64(len(evs)) || e.Pending() != 0 {
		t.Errorf("events %d pending %d", e.Events(), e.Pending())
	}
}

func TestRunUntilStopsAndResumes(t *testing.T) {
	var e Engine
	r := &recorder{e: &e}
	e.SetHandler(r)
	e.At(5, 1, 0, 0)
	e.At(10, 2, 0, 0)
	e.At(11, 3, 0, 0)
	e.RunUntil(10)
	if len(r.got) != 2 || e.Now() != 10 {
		t.Fatalf("after RunUntil(10): %v at %v", r.got, e.Now())
	}
	e.RunUntil(100)
	if len(r.got) != 3 || e.Now() != 100 {
		t.Fatalf("after RunUntil(100): %v at %v", r.got, e.Now())
	}
}

func TestSchedulingInThePastPanics(t *testing.T) {
	var e Engine
	r := &recorder{e: &e}
	e.SetHandler(r)
	e.At(10, 0, 0, 0)
	e.RunUntil(10)
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	e.At(5, 0, 0, 0)
}

// Streams depend only on (seed, component, purpose).
func TestStreamsIndependent(t *testing.T) {
	a1 := NewStream(1, "web", "cpu")
	a2 := NewStream(1, "web", "cpu")
	b := NewStream(1, "web", "sleep")
	c := NewStream(2, "web", "cpu")
	d := NewStream(1, "we", "bcpu") // no ambiguity from concatenation
	same, diffB, diffC, diffD := true, 0, 0, 0
	for i := 0; i < 100; i++ {
		x := a1.Uint64()
		if x != a2.Uint64() {
			same = false
		}
		if x != b.Uint64() {
			diffB++
		}
		if x != c.Uint64() {
			diffC++
		}
		if x != d.Uint64() {
			diffD++
		}
	}
	if !same || diffB < 99 || diffC < 99 || diffD < 99 {
		t.Errorf("same=%v diff sleep=%d seed=%d name=%d", same, diffB, diffC, diffD)
	}
}

// Scheduling and delivering events does not allocate once the queue has
// grown.
func TestEngineNoAllocs(t *testing.T) {
	var e Engine
	e.SetHandler(nop{})
	for i := 0; i < 1000; i++ {
		e.At(Time(i), 0, 0, 0)
	}
	e.RunUntil(1000)
	allocs := testing.AllocsPerRun(100, func() {
		for i := 0; i < 1000; i++ {
			e.After(Time(i%37), 0, 0, 0)
		}
		e.RunUntil(e.Now() + 100)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per 1000 events", allocs)
	}
}

type nop struct{}

func (nop) Handle(*Event) {}

// Timers deliver in exactly the order the queue would: a run that sends a
// recurring stream through a timer matches one that queues it.
func TestTimersMatchQueue(t *testing.T) {
	run := func(useTimer bool) []int32 {
		var e Engine
		r := &recorder{e: &e}
		e.SetHandler(r)
		s := NewStream(9, "timers", "test")
		slot := -1
		if useTimer {
			slot = e.NewTimer()
		}
		next := func() {
			at := e.Now() + Time(s.IntN(3)) // frequent ties with queued events
			if slot >= 0 {
				e.SetTimer(slot, at, 1, -1, 0)
			} else {
				e.At(at, 1, -1, 0)
			}
		}
		q := NewStream(9, "timers", "queue")
		for i := 0; i < 200; i++ {
			e.At(Time(q.IntN(300)), 2, int32(i), 0)
		}
		next()
		for e.Now() < 400 && e.Step() {
			if r.ops[len(r.ops)-1] == 1 {
				next()
			}
		}
		return r.got
	}
	a, b := run(false), run(true)
	if len(a) != len(b) {
		t.Fatalf("%d events with the queue, %d with a timer", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("event %d: op %d with the queue, %d with a timer", i, a[i], b[i])
		}
	}
}

func TestEventOpRange(t *testing.T) {
	var e Engine
	r := &recorder{e: &e}
	e.SetHandler(r)
	e.At(1, 255, 3, 0)
	e.Step()
	if r.ops[0] != 255 || r.got[0] != 3 {
		t.Errorf("op %d ref %d", r.ops[0], r.got[0])
	}
	defer func() {
		if recover() == nil {
			t.Error("op 256 accepted")
		}
	}()
	e.At(2, 256, 0, 0)
}

// AtFirst events run before every other event at their instant.
func TestAtFirst(t *testing.T) {
	var e Engine
	r := &recorder{e: &e}
	e.SetHandler(r)
	e.At(10, 1, 1, 0)
	e.At(10, 1, 2, 0)
	e.AtFirst(10, 2, 3, 0)
	e.At(5, 1, 4, 0)
	e.RunUntil(10)
	want := []int32{4, 3, 1, 2}
	for i := range want {
		if r.got[i] != want[i] {
			t.Fatalf("order %v, want %v", r.got, want)
		}
	}
}

// The calendar queue delivers exactly the (time, key) order: checked
// against a sorted list over random pushes, peeks and pops with many ties,
// AtFirst-style keys, and delays from 0 to hours (within a slot, across the
// ring, and beyond it into the overflow).
func TestCalendarQueueOrder(t *testing.T) {
	s := NewStream(7, "calendar", "test")
	for round := 0; round < 20; round++ {
		var q calendarQueue
		var ref []Event
		var now Time
		var seq uint64
		for step := 0; step < 20000; step++ {
			if len(ref) > 0 && s.IntN(3) == 0 {
				if p := q.peek(); p == nil || *p != ref[0] {
					t.Fatalf("round %d step %d: peek %+v, want %+v", round, step, p, ref[0])
				}
				var got Event
				q.pop(&got)
				if got != ref[0] {
					t.Fatalf("round %d step %d: popped %+v, want %+v", round, step, got, ref[0])
				}
				ref = ref[1:]
				now = got.At
				continue
			}
			var d Time
			switch s.IntN(6) {
			case 0: // a tie with now
			case 1:
				d = Time(s.IntN(4))
			case 2:
				d = Time(s.ExpFloat64() * 1e5) // within a few slots
			case 3:
				d = Time(s.ExpFloat64() * 3e7) // across the fine wheel and just beyond
			case 4:
				// The coarse wheel and a little beyond, or near its
				// horizon, a few coarse slots either side.
				d = Time(s.ExpFloat64() * 2e10)
				if s.IntN(4) == 0 {
					d = Time(calSlots<<coarseShift<<calShift + (s.IntN(21)-10)<<(coarseShift+calShift) + s.IntN(1<<20))
				}
			default:
				d = Time(s.ExpFloat64() * 3.6e12) // the overflow
			}
			seq++
			key := seq << 8
			if s.IntN(50) == 0 {
				key = uint64(s.IntN(256)) // AtFirst: before everything at its instant
			}
			ev := Event{At: now + d, key: key, Ref: int32(step)}
			i := sort.Search(len(ref), func(i int) bool { return less(&ev, &ref[i]) })
			if i > 0 && ref[i-1].At == ev.At && ref[i-1].key == ev.key {
				continue // the engine never has two events with the same time and key
			}
			q.push(ev)
			ref = append(ref, Event{})
			copy(ref[i+1:], ref[i:])
			ref[i] = ev
			if q.Len() != len(ref) {
				t.Fatalf("Len %d, want %d", q.Len(), len(ref))
			}
		}
		for len(ref) > 0 { // drain
			var got Event
			q.pop(&got)
			if got != ref[0] {
				t.Fatalf("round %d drain: popped %+v, want %+v", round, got, ref[0])
			}
			ref = ref[1:]
		}
		if q.peek() != nil || q.Len() != 0 {
			t.Fatalf("round %d: not empty after draining", round)
		}
	}
}

// A wheel's next finds the same slot as a scan of the ring from base+1
// round to base, for sparse and dense wheels and every position of base in
// its word.
func TestWheelNext(t *testing.T) {
	s := NewStream(3, "calendar", "next")
	for round := 0; round < 20000; round++ {
		var w wheel
		base := int64(s.IntN(1 << 20))
		for n := s.IntN(4) * s.IntN(40); n > 0; n-- {
			// Anywhere but base's own slot; a third of them near the
			// start's word, on either side of start.
			i := (base + 1 + int64(s.IntN(calSlots-1))) & calMask
			if s.IntN(3) == 0 {
				i = (base + int64(s.IntN(130)) - 64) & calMask
				if i == base&calMask {
					continue
				}
			}
			w.used[i>>6] |= 1 << (i & 63)
			w.words |= 1 << (i >> 6)
		}
		want := int64(0)
		for d := int64(1); d < calSlots; d++ {
			if i := (base + d) & calMask; w.used[i>>6]&(1<<(i&63)) != 0 {
				want = d
				break
			}
		}
		if got := w.next(base); got != want {
			t.Fatalf("round %d, base %d: next %d, want %d", round, base, got, want)
		}
	}
}

// RunFor in installments delivers exactly what one RunUntil does, in the
// same order and at the same times, and reports reaching the end only
// when it has (the clock then set to the end, as RunUntil does).
func TestRunForEqualsRunUntil(t *testing.T) {
	run := func(installment int) *recorder {
		var e Engine
		r := &recorder{e: &e}
		e.SetHandler(r)
		s := NewStream(3, "runfor", "test")
		for i := 0; i < 2000; i++ {
			e.At(Time(s.IntN(1000)), 1, int32(i), 0)
		}
		if installment == 0 {
			e.RunUntil(500)
		} else {
			calls := 0
			for !e.RunFor(500, installment) {
				calls++
			}
			// Every call but the last delivers a full installment.
			if want := len(r.got) / installment; calls != want {
				t.Errorf("installments of %d: %d full installments for %d events, want %d", installment, calls, len(r.got), want)
			}
		}
		if e.Now() != 500 {
			t.Errorf("installments of %d: clock %v, want 500", installment, e.Now())
		}
		return r
	}
	want := run(0)
	for _, n := range []int{1, 7, 1 << 17} {
		got := run(n)
		if len(got.got) != len(want.got) {
			t.Fatalf("installments of %d: %d events, want %d", n, len(got.got), len(want.got))
		}
		for i := range want.got {
			if got.got[i] != want.got[i] || got.at[i] != want.at[i] {
				t.Fatalf("installments of %d: event %d is %d at %v, want %d at %v", n, i, got.got[i], got.at[i], want.got[i], want.at[i])
			}
		}
	}
}
