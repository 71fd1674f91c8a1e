package calibrate

import (
	"cmp"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Model is what the traces taught: services, their endpoints' steps, the
// network, the root traffic, and what was dropped.
type Model struct {
	Services []*Service // sorted by name
	Traffic  []*Traffic // by requests, most first
	// Network is the one-way latency of a hop, (client − server span) / 2
	// pooled over every edge; nil when no call had both spans.
	Network *Fit
	Edges   []Edge
	Drops   Drops
	// Roots are the root requests; Span the time from the first to the
	// last root's start, ns.
	Roots         int64
	Span          int64
	RootStarts    []int64     // sorted, relative to the first
	RootEndpoints []*Endpoint // of each root
	RootsLost     int64
	ArrivalCV     float64 // of the roots' inter-arrival times
	ZeroLength    int64   // spans of zero duration (kept)
	SelfTimeCPU   bool    // self time written as cpu steps (else sleep)
	emit          emitState
	Truncated     int64 // files that ended in the middle of a value
}

// Service is one service.name.
type Service struct {
	Name, Traced string // scenario name, and as traced
	Endpoints    []*Endpoint
	// Load is the self time its spans took per second of the traced
	// period: the cores it kept busy if self time is all cpu.
	Load float64
}

// Endpoint is one server span name of a service.
type Endpoint struct {
	Name, Traced      string
	Service           *Service
	Spans, Errors     int64
	OwnErrors         int64
	Steps             []Step
	SelfMean, SelfP99 float64 // observed total self time per span, ns
	FitSelfMean       float64 // the fitted segments' means, weighted by how often each runs
	Duration          float64 // observed mean span duration, ns
	Irregular         int64
	Unsampled         int // self-time segments with no span to sample them
	ep                *endpoint
}

// StepKind is what a learned step does.
type StepKind int8

const (
	SelfTime StepKind = iota // a cpu or sleep segment
	Call
	Async
	External // a call nobody traced the server of: a sleep
	Parallel
)

// Step is one learned step.
type Step struct {
	Kind     StepKind
	Fit      Fit       // SelfTime, External
	Target   *Endpoint // Call, Async
	P        float64   // the share of the endpoint's spans that run it
	Spans    int64     // how many did
	Branches []Step    // Parallel
	Name     string    // External: the client span's name
}

// Traffic is a root endpoint's share of the requests.
type Traffic struct {
	To    *Endpoint
	Roots int64
	Rate  float64 // per second
}

// Edge is the network latency of one caller → callee edge.
type Edge struct {
	From, To *Endpoint
	N        int64
	Mean     float64 // one way, ns
}

// Model builds the learned model. It can be called once, after the last
// trace.
func (l *Learner) Model(selfTimeCPU bool) *Model {
	m := &Model{Drops: l.Drops, ZeroLength: l.zero, SelfTimeCPU: selfTimeCPU, RootsLost: l.rootsLost}
	byEp := map[*endpoint]*Endpoint{}
	services := map[string]*Service{}
	for _, e := range l.order {
		s := services[e.service]
		if s == nil {
			s = &Service{Traced: e.service}
			services[e.service] = s
			m.Services = append(m.Services, s)
		}
		ep := &Endpoint{Traced: e.name, Service: s, Spans: e.spans, Errors: e.errors, OwnErrors: e.ownErrors, ep: e,
			SelfMean: e.self.mean(), Duration: e.dur.mean()}
		s.Endpoints = append(s.Endpoints, ep)
		byEp[e] = ep
	}
	names(m.Services)
	roots := slices.Clone(l.roots)
	slices.SortStableFunc(roots, func(a, b rootRec) int { return cmp.Compare(a.at, b.at) })
	m.Roots = int64(len(roots)) + l.rootsLost
	if len(roots) > 1 {
		m.Span = roots[len(roots)-1].at - roots[0].at
		var st stat
		for i := 1; i < len(roots); i++ {
			st.add(roots[i].at - roots[i-1].at)
		}
		if mu := st.mean(); mu > 0 && st.n > 1 {
			v := (st.sq - st.sum*st.sum/float64(st.n)) / float64(st.n-1)
			m.ArrivalCV = math.Sqrt(max(v, 0)) / mu
		}
	}
	for _, r := range roots {
		m.RootStarts = append(m.RootStarts, r.at-roots[0].at)
		m.RootEndpoints = append(m.RootEndpoints, byEp[r.ep])
	}
	for _, s := range m.Services {
		for _, ep := range s.Endpoints {
			ep.Steps = ep.learnSteps(byEp, &ep.Irregular, &ep.Unsampled)
			ep.FitSelfMean = selfMean(ep.Steps, 1)
			ep.SelfP99 = selfP99(ep.ep)
			if m.Span > 0 {
				s.Load += ep.SelfMean * float64(ep.Spans) / float64(m.Span)
			}
			m.Drops.Irregular += ep.Irregular
		}
	}
	for e, n := range l.rootEps {
		t := &Traffic{To: byEp[e], Roots: n}
		if m.Span > 0 && len(roots) > 1 {
			// n − 1 gaps between the first and the last of len(roots) roots.
			t.Rate = float64(len(roots)-1) / (float64(m.Span) / 1e9) * float64(n) / float64(len(roots))
		}
		m.Traffic = append(m.Traffic, t)
	}
	sort.Slice(m.Traffic, func(a, b int) bool {
		ta, tb := m.Traffic[a], m.Traffic[b]
		if ta.Roots != tb.Roots {
			return ta.Roots > tb.Roots
		}
		return ta.To.Service.Name+"."+ta.To.Name < tb.To.Service.Name+"."+tb.To.Name
	})
	if len(l.net.v) > 0 {
		xs := make([]float64, len(l.net.v))
		for i, v := range l.net.v {
			xs[i] = float64(v)
		}
		f := fitTimes(xs)
		f.N = int(l.net.seen)
		m.Network = &f
	}
	for k, st := range l.netEdges {
		m.Edges = append(m.Edges, Edge{From: byEp[k[0]], To: byEp[k[1]], N: st.n, Mean: st.mean()})
	}
	sort.Slice(m.Edges, func(a, b int) bool {
		ea, eb := m.Edges[a], m.Edges[b]
		return ea.From.path()+" "+ea.To.path() < eb.From.path()+" "+eb.To.path()
	})
	return m
}

func (e *Endpoint) path() string { return e.Service.Name + "." + e.Name }

func selfP99(e *endpoint) float64 {
	xs := make([]float64, len(e.shapes))
	for i, sh := range e.shapes {
		var t int64
		for _, g := range sh.gaps {
			t += g
		}
		xs[i] = float64(t)
	}
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	return quantile(xs, 0.99)
}

// selfMean is the mean self time the steps add per run, each weighted by
// the probability that it runs.
func selfMean(steps []Step, p float64) float64 {
	var t float64
	for _, s := range steps {
		if s.Kind == SelfTime {
			t += p * s.P * s.Fit.ModelMean()
		}
	}
	return t
}

// learnSteps turns an endpoint's spans into steps: its calls in the order
// they are made (by how often each comes before each other), overlapping
// calls grouped as parallel steps, and the self time between them, each
// segment fitted on the spans that made both calls around it.
func (ep *Endpoint) learnSteps(byEp map[*endpoint]*Endpoint, irregular *int64, unsampled *int) []Step {
	e := ep.ep
	nk := len(e.keys)
	co := make([][]int32, nk)
	before := make([][]int32, nk)
	same := make([][]int32, nk)
	for i := range nk {
		co[i], before[i], same[i] = make([]int32, nk), make([]int32, nk), make([]int32, nk)
	}
	for _, sh := range e.shapes {
		for a := range sh.keys {
			for b := a + 1; b < len(sh.keys); b++ {
				ka, kb := sh.keys[a], sh.keys[b]
				co[ka][kb]++
				co[kb][ka]++
				before[ka][kb]++ // a started first
				if sh.group[a] >= 0 && sh.group[a] == sh.group[b] {
					same[ka][kb]++
					same[kb][ka]++
				}
			}
		}
	}
	// Order: by the share of the other calls that come before each.
	score := make([]float64, nk)
	for a := range nk {
		for b := range nk {
			if a != b && co[a][b] > 0 {
				score[a] += float64(before[b][a]) / float64(co[a][b])
			}
		}
	}
	order := make([]int, nk)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(x, y int) bool { return score[order[x]] < score[order[y]]-1e-9 })
	// Synchronous elements: runs of calls mostly in one overlapping group.
	elem := make([]int, nk)
	var elems [][]int
	for _, k := range order {
		elem[k] = -1
		if e.keys[k].kind == kAsync {
			continue
		}
		if n := len(elems); n > 0 {
			last := elems[n-1]
			j := last[0]
			if co[k][j] > 0 && 2*same[k][j] > co[k][j] {
				elems[n-1] = append(last, k)
				elem[k] = n - 1
				continue
			}
		}
		elem[k] = len(elems)
		elems = append(elems, []int{k})
	}
	M := len(elems)
	segs := make([][]float64, M+1)
	extDurs := make([][]float64, nk)
	for _, sh := range e.shapes {
		for i, k := range sh.keys {
			if e.keys[k].kind == kExternal {
				extDurs[k] = append(extDurs[k], float64(sh.durs[i]))
			}
		}
		// The span's groups, as elements: they must rise one by one.
		var present []int
		ok := true
		for i, k := range sh.keys {
			g := int(sh.group[i])
			if g < 0 {
				continue
			}
			if g == len(present) {
				present = append(present, elem[k])
			} else if present[g] != elem[k] {
				ok = false
			}
		}
		for i := 1; i < len(present); i++ {
			ok = ok && present[i] > present[i-1]
		}
		if !ok {
			*irregular++
			continue
		}
		bounds := append(append([]int{-1}, present...), M)
		for j, gap := range sh.gaps {
			if bounds[j+1] == bounds[j]+1 {
				segs[bounds[j]+1] = append(segs[bounds[j]+1], float64(gap))
			}
		}
	}
	callStep := func(k int) Step {
		key := e.keys[k]
		st := Step{P: float64(key.spans) / float64(e.spans), Spans: key.spans}
		switch key.kind {
		case kCall:
			st.Kind, st.Target = Call, byEp[key.target]
		case kAsync:
			st.Kind, st.Target = Async, byEp[key.target]
		default:
			st.Kind, st.Name, st.Fit = External, key.ext, fitTimes(extDurs[k])
		}
		return st
	}
	segment := func(i int) (Step, bool) {
		if len(segs[i]) == 0 {
			*unsampled++
			return Step{}, false
		}
		f := fitTimes(segs[i])
		if f.Mean < 1000 { // under a microsecond: nothing to model
			return Step{}, false
		}
		return Step{Kind: SelfTime, Fit: f, P: 1, Spans: int64(f.N)}, true
	}
	var steps []Step
	if s, ok := segment(0); ok {
		steps = append(steps, s)
	}
	asyncAfter := func(i int) { // the async calls ordered between element i and i+1
		for x, k := range order {
			if e.keys[k].kind != kAsync {
				continue
			}
			// The element of the last synchronous call before it in order.
			at := -1
			for _, j := range order[:x] {
				if elem[j] >= 0 {
					at = elem[j]
				}
			}
			if at == i {
				steps = append(steps, callStep(k))
			}
		}
	}
	asyncAfter(-1)
	for i, members := range elems {
		if len(members) == 1 {
			steps = append(steps, callStep(members[0]))
		} else {
			par := Step{Kind: Parallel}
			for _, k := range members {
				b := callStep(k)
				par.Branches = append(par.Branches, b)
				if b.Spans > par.Spans {
					par.Spans, par.P = b.Spans, b.P
				}
			}
			steps = append(steps, par)
		}
		asyncAfter(i)
		if s, ok := segment(i + 1); ok {
			steps = append(steps, s)
		}
	}
	return steps
}

// names gives services and endpoints scenario names: letters, digits, '_'
// and '-', unique (a suffix where two traced names map to one).
func names(services []*Service) {
	sort.SliceStable(services, func(a, b int) bool { return services[a].Traced < services[b].Traced })
	used := map[string]bool{}
	for _, s := range services {
		s.Name = unique(sanitize(s.Traced, "service"), used)
		sort.SliceStable(s.Endpoints, func(a, b int) bool { return s.Endpoints[a].Traced < s.Endpoints[b].Traced })
		eused := map[string]bool{}
		for _, e := range s.Endpoints {
			e.Name = unique(sanitize(e.Traced, "endpoint"), eused)
		}
	}
	sort.SliceStable(services, func(a, b int) bool { return services[a].Name < services[b].Name })
}

func sanitize(s, fallback string) string {
	var b strings.Builder
	under := false
	for _, c := range s {
		ok := c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if ok {
			b.WriteRune(c)
			under = false
		} else if !under && b.Len() > 0 {
			b.WriteByte('_')
			under = true
		}
		if b.Len() >= 60 {
			break
		}
	}
	out := strings.Trim(b.String(), "_")
	if out == "" {
		return fallback
	}
	return out
}

func unique(n string, used map[string]bool) string {
	base := n
	for i := 2; used[n]; i++ {
		n = base + "_" + strconv.Itoa(i)
	}
	used[n] = true
	return n
}
