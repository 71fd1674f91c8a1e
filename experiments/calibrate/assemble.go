package calibrate

import "github.com/capsim/capsim/experiments/spans"

// Assembler groups a stream of spans into traces. A trace is finished when
// Window spans have gone by without one of its own, or when the spans held
// would pass MaxHeld (the oldest trace then goes first), or at Flush; a
// span that arrives after its trace was finished starts a fragment without
// a root, which the learner counts as incomplete.
type Assembler struct {
	Window  int // default 100,000 spans
	MaxHeld int // default 400,000 spans

	done  func(tr []*spans.Span)
	open  map[string]*openTrace
	queue []queued // traces by the sequence number of their last span (stale entries skipped)
	head  int
	seq   int64
	held  int
	names map[string]string // interned service and span names
}

type openTrace struct {
	id    string
	spans []*spans.Span
	last  int64
}

type queued struct {
	tr  *openTrace
	seq int64
}

// NewAssembler hands each finished trace to done.
func NewAssembler(done func(trace []*spans.Span)) *Assembler {
	return &Assembler{Window: 100000, MaxHeld: 400000, done: done, open: map[string]*openTrace{}, names: map[string]string{}}
}

func (a *Assembler) intern(s string) string {
	if v, ok := a.names[s]; ok {
		return v
	}
	if len(a.names) < 100000 {
		a.names[s] = s
	}
	return s
}

// Add takes the next span of the stream.
func (a *Assembler) Add(s *spans.Span) {
	a.seq++
	s.Service, s.Name = a.intern(s.Service), a.intern(s.Name)
	t := a.open[s.TraceID]
	if t == nil {
		t = &openTrace{id: s.TraceID}
		a.open[s.TraceID] = t
	}
	t.spans = append(t.spans, s)
	t.last = a.seq
	a.held++
	a.queue = append(a.queue, queued{t, a.seq})
	for a.head < len(a.queue) {
		q := a.queue[a.head]
		if q.tr.last != q.seq { // the trace has had a span since
			a.head++
			continue
		}
		if a.seq-q.seq < int64(a.Window) && a.held <= a.MaxHeld {
			break
		}
		a.head++
		a.finish(q.tr)
	}
	if a.head > 4096 && a.head*2 > len(a.queue) { // compact
		a.queue = append(a.queue[:0], a.queue[a.head:]...)
		a.head = 0
	}
}

func (a *Assembler) finish(t *openTrace) {
	delete(a.open, t.id)
	a.held -= len(t.spans)
	a.done(t.spans)
}

// Flush finishes every open trace, in the order their last spans came.
func (a *Assembler) Flush() {
	for ; a.head < len(a.queue); a.head++ {
		q := a.queue[a.head]
		if q.tr.last == q.seq {
			a.finish(q.tr)
		}
	}
	a.queue, a.head = a.queue[:0], 0
}
