package calibrate

import (
	"math/rand/v2"
	"sort"

	"github.com/capsim/capsim/experiments/spans"
)

// reservoirSize is how many spans of each endpoint (and network samples)
// the learner keeps for fitting: uniform samples of all it saw (Vitter's
// algorithm R), so memory does not grow with the file.
const reservoirSize = 20000

// maxRoots bounds the root start times kept for the rate and --replay.
const maxRoots = 20_000_000

// Bounds on what one trace may ask of the learner (a trace beyond them is
// dropped and counted as too large): the depth of its span tree, the
// calls one span makes, the endpoints all traces add up to, and the call
// positions one endpoint has.
const (
	maxDepth     = 1000
	maxCalls     = 256
	maxEndpoints = 5000
	maxKeys      = 512
)

// Drops counts what the learner could not use, and why.
type Drops struct {
	Traces, Spans int64 // traces and spans used
	// Incomplete traces have no root span (it was not captured, or came
	// after the assembler's window); their spans are dropped.
	Incomplete, IncompleteSpans int64
	// Orphans are spans whose parent is not in the trace, or that a cycle
	// of parent ids cuts off from the root: dropped with their subtree.
	Orphans int64
	// Duplicates are spans whose id was seen already in the trace.
	Duplicates int64
	// Negative: spans that end before they start; their trace is dropped.
	Negative, NegativeTraces int64
	// NoService: spans without a service name; their trace is dropped.
	NoService, NoServiceTraces int64
	// Skewed children start before their parent or end after it (clock
	// skew): clipped to the parent.
	Skewed int64
	// SeveralRoots: traces with more than one root; each root is learned.
	SeveralRoots int64
	// TooLarge: traces deeper than 1,000 spans, with a span of more than
	// 256 calls, or that would take the endpoints past 5,000; dropped.
	TooLarge, TooLargeSpans int64
	// Irregular: spans whose calls came in an order or grouping the
	// endpoint's learned steps do not have: counted in the probabilities,
	// left out of the self-time segments.
	Irregular int64
}

// Learner learns endpoints from finished traces.
type Learner struct {
	eps   map[string]*endpoint
	order []*endpoint // first-seen order
	rng   *rand.Rand
	Drops Drops

	roots     []rootRec // root requests
	rootsLost int64     // beyond maxRoots
	rootEps   map[*endpoint]int64
	net       reservoir // one-way network latency samples: (client − server) / 2
	netEdges  map[[2]*endpoint]*stat
	zero      int64 // zero-length spans (kept)
}

// NewLearner makes an empty learner.
func NewLearner() *Learner {
	return &Learner{eps: map[string]*endpoint{}, rng: rand.New(rand.NewPCG(0x63617073, 0x696d)), rootEps: map[*endpoint]int64{},
		netEdges: map[[2]*endpoint]*stat{}}
}

type rootRec struct {
	at int64 // start, ns
	ep *endpoint
}

type keyKind int8

const (
	kCall     keyKind = iota // a synchronous call to an endpoint
	kAsync                   // fire and forget (FOLLOWS_FROM, or a producer → consumer)
	kExternal                // a CLIENT span nobody traced the server of: waited on
)

// key is one call position of an endpoint: the occ-th call of its kind to
// target in a span.
type key struct {
	kind   keyKind
	target *endpoint // kCall, kAsync
	ext    string    // kExternal: the client span's name
	occ    int
	spans  int64 // spans of the endpoint with this call
}

type endpoint struct {
	service, name string
	spans, errors int64
	ownErrors     int64 // errors not explained by a failed call
	keys          []*key
	keyIdx        map[keyID]int32
	shapes        []shape // the reservoir
	seen          int64
	self          stat // total self time per span
	dur           stat
}

type keyID struct {
	kind   keyKind
	target *endpoint
	ext    string
	occ    int
}

// shape is one span of an endpoint as the fit needs it: its calls in start
// order, the synchronous group of each (overlapping calls form a group; -1
// for async), and the self time before each group and after the last.
type shape struct {
	keys  []int32
	group []int16
	durs  []int64 // each call's time as the caller saw it
	gaps  []int64
}

type stat struct {
	n        int64
	sum, sq  float64
	min, max int64
}

func (s *stat) add(v int64) {
	if s.n == 0 || v < s.min {
		s.min = v
	}
	if s.n == 0 || v > s.max {
		s.max = v
	}
	s.n++
	s.sum += float64(v)
	s.sq += float64(v) * float64(v)
}

func (s *stat) mean() float64 {
	if s.n == 0 {
		return 0
	}
	return s.sum / float64(s.n)
}

type reservoir struct {
	seen int64
	v    []int64
}

func (r *reservoir) add(rng *rand.Rand, x int64) {
	r.seen++
	if len(r.v) < reservoirSize {
		r.v = append(r.v, x)
		return
	}
	if j := rng.Int64N(r.seen); j < reservoirSize {
		r.v[j] = x
	}
}

func (l *Learner) endpoint(service, name string) *endpoint {
	k := service + "\x00" + name
	e := l.eps[k]
	if e == nil {
		e = &endpoint{service: service, name: name, keyIdx: map[keyID]int32{}}
		l.eps[k] = e
		l.order = append(l.order, e)
	}
	return e
}

// isEntry says whether a span starts an endpoint's work: a server or
// consumer span, or a root that is not itself a client.
func isEntry(s *spans.Span, root bool) bool {
	switch s.Kind {
	case spans.Server, spans.Consumer:
		return true
	case spans.Internal, spans.Unspecified:
		return root
	}
	return false
}

// AddTrace learns from one finished trace.
func (l *Learner) AddTrace(tr []*spans.Span) {
	d := &l.Drops
	// Zipkin's shared server span carries its client's id: key it apart.
	byID := make(map[string]int, len(tr))
	for _, s := range tr {
		if s.Shared && s.Kind == spans.Server {
			s.ParentID, s.SpanID = s.SpanID, s.SpanID+"/server"
		}
	}
	var use []*spans.Span
	bad := false
	for _, s := range tr {
		if _, dup := byID[s.SpanID]; dup || s.SpanID == "" {
			d.Duplicates++
			continue
		}
		byID[s.SpanID] = len(use)
		use = append(use, s)
		if s.End < s.Start {
			d.Negative++
			bad = true
		}
		if s.Service == "" {
			d.NoService++
			if !bad {
				d.NoServiceTraces++
			}
			bad = true
		}
		if s.End == s.Start {
			l.zero++
		}
	}
	if bad {
		if d.Negative > 0 {
			d.NegativeTraces++
		}
		return
	}
	// Zipkin: a child of a shared span's id, in the server's service, is
	// the server's child.
	for _, s := range use {
		if i, ok := byID[s.ParentID+"/server"]; ok && use[i].Service == s.Service && s != use[i] {
			s.ParentID = use[i].SpanID
		}
	}
	children := make([][]int32, len(use))
	var roots []int
	for i, s := range use {
		if s.ParentID == "" {
			roots = append(roots, i)
			continue
		}
		p, ok := byID[s.ParentID]
		if !ok {
			continue // an orphan: counted below, as every span the roots do not reach
		}
		children[p] = append(children[p], int32(i))
	}
	if len(roots) == 0 {
		d.Incomplete++
		d.IncompleteSpans += int64(len(use))
		return
	}
	if len(roots) > 1 {
		d.SeveralRoots++
	}
	for _, c := range children { // start order, so calls come in the order made
		sort.SliceStable(c, func(a, b int) bool { return use[c[a]].Start < use[c[b]].Start })
	}
	reached := make([]bool, len(use))
	depth := make([]int32, len(use))
	stack := append([]int(nil), roots...)
	tooLarge := false
	newEps := map[string]bool{}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if reached[i] {
			continue
		}
		reached[i] = true
		s := use[i]
		if isEntry(s, s.ParentID == "") {
			if k := s.Service + "\x00" + s.Name; l.eps[k] == nil {
				newEps[k] = true
			}
		}
		if depth[i] > maxDepth || len(children[i]) > maxCalls {
			tooLarge = true
		}
		for _, c := range children[i] {
			depth[c] = depth[i] + 1
			stack = append(stack, int(c))
		}
	}
	if tooLarge || len(l.eps)+len(newEps) > maxEndpoints {
		d.TooLarge++
		d.TooLargeSpans += int64(len(use))
		return
	}
	n := 0
	for _, r := range reached {
		if r {
			n++
		}
	}
	d.Orphans += int64(len(use) - n)
	d.Traces++
	d.Spans += int64(n)
	w := &walk{l: l, use: use, children: children}
	for _, r := range roots {
		s := use[r]
		if !isEntry(s, true) {
			// A client root (a load generator's span): its server children
			// are the requests.
			for _, c := range children[r] {
				if cs := use[c]; isEntry(cs, false) {
					l.root(w.learn(int(c)), cs.Start)
				}
			}
			continue
		}
		l.root(w.learn(r), s.Start)
	}
}

func (l *Learner) root(e *endpoint, at int64) {
	l.rootEps[e]++
	if len(l.roots) < maxRoots {
		l.roots = append(l.roots, rootRec{at, e})
	} else {
		l.rootsLost++
	}
}

type walk struct {
	l        *Learner
	use      []*spans.Span
	children [][]int32
}

// callRec is one call an entry span made.
type callRec struct {
	id         keyID
	start, end int64
}

// learn learns entry span i (and, recursively, the entry spans it called)
// and returns its endpoint.
func (w *walk) learn(i int) *endpoint {
	s := w.use[i]
	l := w.l
	e := l.endpoint(s.Service, s.Name)
	e.spans++
	e.dur.add(s.End - s.Start)
	var calls []callRec
	failedCall := false
	var visit func(j int)
	visit = func(j int) {
		for _, c := range w.children[j] {
			cs := w.use[c]
			start, end := max(cs.Start, s.Start), min(cs.End, s.End)
			if start != cs.Start || end != cs.End {
				l.Drops.Skewed++
				end = max(end, start)
			}
			switch {
			case isEntry(cs, false) || cs.FollowsFrom && cs.Kind != spans.Client:
				// Called with no client span of its own (or a follower).
				t := w.learn(int(c))
				kind := kCall
				if cs.FollowsFrom || cs.Kind == spans.Consumer {
					kind = kAsync
				}
				calls = append(calls, callRec{keyID{kind: kind, target: t}, start, end})
				failedCall = failedCall || cs.Error && kind == kCall
			case cs.Kind == spans.Client || cs.Kind == spans.Producer:
				var server *spans.Span
				var target *endpoint
				for _, g := range w.children[c] {
					if gs := w.use[g]; isEntry(gs, false) {
						target, server = w.learn(int(g)), gs
						break
					}
				}
				switch {
				case target == nil && cs.Kind == spans.Producer:
					// A message nobody traced the consumer of: part of the self time.
				case target == nil:
					calls = append(calls, callRec{keyID{kind: kExternal, ext: cs.Name}, start, end})
				case cs.Kind == spans.Producer || cs.FollowsFrom || server.Kind == spans.Consumer:
					calls = append(calls, callRec{keyID{kind: kAsync, target: target}, start, start})
				default:
					calls = append(calls, callRec{keyID{kind: kCall, target: target}, start, end})
					if rt := (cs.End - cs.Start) - (server.End - server.Start); rt >= 0 {
						l.net.add(l.rng, rt/2)
						st := l.netEdges[[2]*endpoint{e, target}]
						if st == nil {
							st = &stat{}
							l.netEdges[[2]*endpoint{e, target}] = st
						}
						st.add(rt / 2)
					}
				}
				failedCall = failedCall || cs.Error
			default: // internal work of the endpoint: look inside it
				visit(int(c))
			}
		}
	}
	visit(i)
	if s.Error {
		e.errors++
		if !failedCall {
			e.ownErrors++
		}
	}
	e.add(l, s, calls)
	return e
}

// add records one span of endpoint e with its calls in start order.
func (e *endpoint) add(l *Learner, s *spans.Span, calls []callRec) {
	sort.SliceStable(calls, func(a, b int) bool { return calls[a].start < calls[b].start })
	occ := map[keyID]int{}
	var sh shape
	var inSpan []int32
	group, groupEnd, cursor := -1, int64(0), s.Start
	for _, c := range calls {
		id := c.id
		id.occ = occ[keyID{kind: id.kind, target: id.target, ext: id.ext}]
		occ[keyID{kind: id.kind, target: id.target, ext: id.ext}]++
		k, ok := e.keyIdx[id]
		if !ok && len(e.keys) >= maxKeys {
			l.Drops.Irregular++ // no room for another call position: left out
			continue
		}
		if !ok {
			k = int32(len(e.keys))
			e.keys = append(e.keys, &key{kind: id.kind, target: id.target, ext: id.ext, occ: id.occ})
			e.keyIdx[id] = k
		}
		inSpan = append(inSpan, k)
		sh.keys, sh.durs = append(sh.keys, k), append(sh.durs, c.end-c.start)
		if id.kind == kAsync {
			sh.group = append(sh.group, -1)
			continue
		}
		if group < 0 || c.start >= groupEnd { // a new group of overlapping calls
			group++
			sh.gaps = append(sh.gaps, max(c.start-cursor, 0))
			groupEnd = c.end
		} else {
			groupEnd = max(groupEnd, c.end)
		}
		sh.group = append(sh.group, int16(min(group, 32767)))
		cursor = max(cursor, groupEnd)
	}
	sh.gaps = append(sh.gaps, max(s.End-cursor, 0))
	var self int64
	for _, g := range sh.gaps {
		self += g
	}
	e.self.add(self)
	for _, k := range uniq(inSpan) {
		e.keys[k].spans++
	}
	e.seen++
	if len(e.shapes) < reservoirSize {
		e.shapes = append(e.shapes, sh)
	} else if j := l.rng.Int64N(e.seen); j < reservoirSize {
		e.shapes[j] = sh
	}
}

func uniq(k []int32) []int32 {
	out := k[:0:0]
	seen := map[int32]bool{}
	for _, x := range k {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
