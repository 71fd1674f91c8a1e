package model

import (
	"fmt"
	"slices"
	"strings"
)

// Graph is a Config's call graph, resolved once: which component and
// endpoint every call, async step, parallel branch and traffic source
// reaches. model.New builds its run from it; the scenario checker reports
// its problems and the plausibility warnings use its load estimate, so all
// three agree on every rule.
type Graph struct {
	cfg   *Config
	index map[string]int32 // component name → index in cfg.Components
	eps   [][]EndpointConfig
	// res[c][e][k] is the resolution of step k of endpoint e of component c.
	res [][][]resolved
	// consumers[q] is where queue q's messages go (its consumer component
	// and endpoint); zero for other components.
	consumers []resolved
	// entries[t] are traffic source t's endpoints at its target's station
	// (one per mix entry, session step, or the single endpoint).
	entries [][]int32
	// Problems are everything that cannot be wired, in Config order.
	Problems []Problem
}

// resolved is where a call-like step goes.
type resolved struct {
	tgt, ep  int32 // component called, endpoint at the station it leads to
	ok       bool  // resolved without a problem
	branches []resolved
}

// Place says where in a Config something is.
type Place struct {
	Component string // the component's label ("service.web"); "" for a traffic source
	Traffic   string // the traffic source's name
	Endpoint  string // the endpoint holding the step
	Step      int    // the step's index in the endpoint, or -1
	Branch    int    // the branch of a parallel step, or -1
	Key       string // the key at that place ("call", "to", "endpoint", "if", "mix.NAME", "session[2].endpoint")
}

// Problem is something in a Config that cannot be wired.
type Problem struct {
	Place
	Msg string
	// Unknown is the name that named no component, if that is the problem
	// (for "did you mean" suggestions).
	Unknown string
}

func (p Problem) Error() string { return p.Msg }

// NewGraph resolves cfg's call graph. It opens no file and builds nothing
// that must be closed; see Graph.Problems for what it could not resolve.
func NewGraph(cfg *Config) *Graph {
	g := &Graph{cfg: cfg, index: map[string]int32{}}
	for i, c := range cfg.Components {
		if _, dup := g.index[c.ComponentName()]; !dup {
			g.index[c.ComponentName()] = int32(i)
		}
		g.eps = append(g.eps, c.EndpointConfigs())
	}
	g.checkForwards()
	g.resolveConsumers()
	g.resolveSteps()
	if len(g.Problems) == 0 {
		g.checkCycles()
	}
	g.resolveTraffic()
	return g
}

func (g *Graph) problem(p Place, format string, args ...any) {
	g.Problems = append(g.Problems, Problem{Place: p, Msg: fmt.Sprintf(format, args...)})
}

func (g *Graph) unknown(p Place, name string) {
	var names []string
	for _, c := range g.cfg.Components {
		names = append(names, c.ComponentName())
	}
	slices.Sort(names)
	msg := fmt.Sprintf("no component named %q", name)
	if len(names) > 0 {
		msg += "; components: " + strings.Join(names, ", ")
	}
	g.Problems = append(g.Problems, Problem{Place: p, Msg: msg, Unknown: name})
}

// Index is the index of the component named name in Config.Components.
func (g *Graph) Index(name string) (int, bool) {
	i, ok := g.index[name]
	return int(i), ok
}

// Station is the index of the component that does the work for calls to
// component i: i itself, or what the balancer i forwards to.
func (g *Graph) Station(i int) int {
	for range 8 { // balancers in front of balancers are refused; bound it anyway
		f := g.cfg.Components[i].Forward()
		if f == "" {
			return i
		}
		j, ok := g.index[f]
		if !ok {
			return i
		}
		i = int(j)
	}
	return i
}

func (g *Graph) checkForwards() {
	for _, c := range g.cfg.Components {
		f := c.Forward()
		if f == "" && c.Kind() == KindBalancer {
			g.problem(Place{Component: Label(c), Step: -1, Branch: -1, Key: "to"}, "missing: name the component behind the balancer")
			continue
		}
		if f == "" {
			continue
		}
		p := Place{Component: Label(c), Step: -1, Branch: -1, Key: "to"}
		j, ok := g.index[f]
		if !ok {
			g.unknown(p, f)
			continue
		}
		if t := g.cfg.Components[j]; t.Forward() != "" || t.FleetConfig() == nil || t.Kind() == KindFunction {
			g.problem(p, "%q is a %s; a %s sends to a component that does the work (a service, cache or database; a function is called directly: it has no instances to balance over)", f, t.Kind(), c.Kind())
		}
	}
}

// Endpoint resolves which endpoint of the station behind component comp a
// call for name reaches: the named one; with no name, the component's
// default (a cache's get; a database's read, or write for a writing call),
// else the one named like the caller's endpoint (callerEP), else the only
// one.
func (g *Graph) Endpoint(comp int, name, callerEP string, write bool) (int, error) {
	st := g.Station(comp)
	c := g.cfg.Components[st]
	eps := g.eps[st]
	find := func(n string) int {
		for i := range eps {
			if eps[i].Name == n {
				return i
			}
		}
		return -1
	}
	var names []string
	for _, e := range eps {
		names = append(names, e.Name)
	}
	if len(eps) == 0 {
		if c.Kind() == KindQueue {
			return 0, fmt.Errorf("%s takes messages, not calls: publish to it with { publish = %q }", Label(c), c.ComponentName())
		}
		return 0, fmt.Errorf("%s takes no requests: a node pool is where services' pods run (nodepool = %q in a service)", Label(c), c.ComponentName())
	}
	if name == "" {
		name = c.DefaultEndpoint(write)
	}
	if name != "" {
		if i := find(name); i >= 0 {
			return i, nil
		}
		if len(eps) == 1 && eps[0].Name == "default" {
			return 0, fmt.Errorf("%s has no endpoint %q (it has one unnamed endpoint: drop endpoint = … or declare [%s.endpoint.%s])", Label(c), name, Label(c), name)
		}
		return 0, fmt.Errorf("%s has no endpoint %q (it has %s)", Label(c), name, strings.Join(names, ", "))
	}
	if i := find(callerEP); i >= 0 {
		return i, nil
	}
	if len(eps) == 1 {
		return 0, nil
	}
	return 0, fmt.Errorf("%s has several endpoints (%s): name one with endpoint = …", Label(c), strings.Join(names, ", "))
}

func (g *Graph) resolveSteps() {
	g.res = make([][][]resolved, len(g.cfg.Components))
	for ci, c := range g.cfg.Components {
		label := Label(c)
		g.res[ci] = make([][]resolved, len(g.eps[ci]))
		for e, ep := range g.eps[ci] {
			g.res[ci][e] = make([]resolved, len(ep.Steps))
			looked := false    // a cache lookup came earlier in the endpoint
			continues := false // a call that goes on after an error came earlier
			for k := range ep.Steps {
				st := &ep.Steps[k]
				p := Place{Component: label, Endpoint: ep.Name, Step: k, Branch: -1}
				switch {
				case st.If == IfError && !continues:
					p.Key = "if"
					g.problem(p, "no call with on_error = \"continue\" comes before this step: a fallback runs after such a call fails")
				case st.If != Always && st.If != IfError && !looked && c.Kind() != KindCache:
					p.Key = "if"
					g.problem(p, "no cache lookup comes before this step in the endpoint: add { call = \"CACHE\" } before it")
				}
				if st.Kind == StepCall && st.ContinueOnError {
					continues = true
				}
				switch st.Kind {
				case StepCall, StepAsync:
					p.Key = "call"
					if st.Kind == StepAsync {
						p.Key = "async"
					}
					r, ok := g.resolveCall(p, st, ep.Name)
					g.res[ci][e][k] = r
					if ok && st.Kind == StepCall && g.isLookup(r) {
						looked = true
					}
				case StepPublish:
					p.Key = "publish"
					j, ok := g.index[st.Target]
					switch {
					case !ok:
						g.unknown(p, st.Target)
					case g.cfg.Components[j].Kind() != KindQueue:
						g.problem(p, "%s is not a queue: publish to a [queue.NAME]", Label(g.cfg.Components[j]))
					default:
						g.res[ci][e][k] = resolved{tgt: j, ok: true}
					}
				case StepParallel:
					r := resolved{}
					for b := range st.Branches {
						bp := p
						bp.Branch, bp.Key = b, "call"
						br, ok := g.resolveCall(bp, &st.Branches[b], ep.Name)
						r.branches = append(r.branches, br)
						if ok && g.isLookup(br) {
							looked = true
						}
					}
					g.res[ci][e][k] = r
				}
			}
		}
	}
}

// resolveConsumers finds each queue's consumer and endpoint.
func (g *Graph) resolveConsumers() {
	g.consumers = make([]resolved, len(g.cfg.Components))
	for i, c := range g.cfg.Components {
		q, ok := c.(*QueueConfig)
		if !ok {
			continue
		}
		p := Place{Component: Label(c), Step: -1, Branch: -1, Key: "consumer"}
		j, ok := g.index[q.Consumer]
		switch {
		case !ok:
			g.unknown(p, q.Consumer)
			continue
		case g.cfg.Components[j].FleetConfig() == nil || g.cfg.Components[j].Forward() != "":
			g.problem(p, "%s cannot consume: a queue's consumer is a service whose instances form the consumer group, or a function", Label(g.cfg.Components[j]))
			continue
		}
		e, err := g.Endpoint(int(j), q.Endpoint, "", false)
		if err != nil {
			p.Key = "endpoint"
			g.problem(p, "%v", err)
			continue
		}
		g.consumers[i] = resolved{tgt: j, ep: int32(e), ok: true}
	}
}

// isLookup says whether a resolved call is a cache get.
func (g *Graph) isLookup(r resolved) bool {
	st := g.Station(int(r.tgt))
	return g.cfg.Components[st].Kind() == KindCache && r.ep == 0
}

func (g *Graph) resolveCall(p Place, st *Step, callerEP string) (resolved, bool) {
	j, ok := g.index[st.Target]
	if !ok {
		g.unknown(p, st.Target)
		return resolved{}, false
	}
	if g.cfg.Components[j].Kind() == KindQueue {
		g.problem(p, "%s is a queue: send it messages with { publish = %q }", Label(g.cfg.Components[j]), st.Target)
		return resolved{}, false
	}
	e, err := g.Endpoint(int(j), st.Endpoint, callerEP, st.Write)
	if err != nil {
		g.problem(p, "%v", err)
		return resolved{}, false
	}
	return resolved{tgt: j, ep: int32(e), ok: true}, true
}

// checkCycles refuses call graphs with cycles: a request would call itself
// forever. Async steps count: a detached request that calls back starts
// another, without end.
func (g *Graph) checkCycles() {
	n := len(g.cfg.Components)
	edges := make([][]int32, n)
	add := func(from int, to int32) {
		if !slices.Contains(edges[from], to) {
			edges[from] = append(edges[from], to)
		}
	}
	for ci, c := range g.cfg.Components {
		if f := c.Forward(); f != "" {
			add(ci, g.index[f])
		}
		if r := g.consumers[ci]; r.ok {
			add(ci, r.tgt)
		}
		for e := range g.res[ci] {
			for k, r := range g.res[ci][e] {
				switch g.eps[ci][e].Steps[k].Kind {
				case StepCall, StepAsync, StepPublish:
					if r.ok {
						add(ci, r.tgt)
					}
				case StepParallel:
					for _, b := range r.branches {
						add(ci, b.tgt)
					}
				}
			}
		}
	}
	state := make([]int8, n) // 1 visiting, 2 done
	var stack []int32
	var visit func(i int32) bool
	visit = func(i int32) bool {
		switch state[i] {
		case 1:
			at := slices.Index(stack, i)
			var names []string
			for _, j := range append(stack[at:], i) {
				names = append(names, Label(g.cfg.Components[j]))
			}
			last := g.cfg.Components[stack[len(stack)-1]]
			g.problem(Place{Component: Label(last), Step: -1, Branch: -1}, "calls form a cycle: %s", strings.Join(names, " → "))
			return true
		case 2:
			return false
		}
		state[i] = 1
		stack = append(stack, i)
		for _, j := range edges[i] {
			if visit(j) {
				return true
			}
		}
		stack = stack[:len(stack)-1]
		state[i] = 2
		return false
	}
	for i := range n { // components are sorted by name
		if visit(int32(i)) {
			return
		}
	}
}

// EntryEndpoints are the endpoint names a traffic source sends to, with
// the requests each receives per arrival: a mix divides an arrival among
// its endpoints; a session sends one request to each of its steps'.
func EntryEndpoints(tr *TrafficConfig) (names []string, shares []float64) {
	switch {
	case len(tr.Session) > 0:
		for _, st := range tr.Session {
			names = append(names, st.Endpoint)
			shares = append(shares, 1)
		}
	case len(tr.Mix) > 0:
		var total float64
		for _, m := range tr.Mix {
			total += m.Weight
		}
		for _, m := range tr.Mix {
			names = append(names, m.Endpoint)
			shares = append(shares, m.Weight/total)
		}
	default:
		names, shares = []string{tr.Endpoint}, []float64{1}
	}
	return names, shares
}

func (g *Graph) resolveTraffic() {
	for _, tr := range g.cfg.Traffic {
		p := Place{Traffic: tr.Name, Step: -1, Branch: -1, Key: "to"}
		j, ok := g.index[tr.To]
		if !ok {
			if tr.To != "" {
				g.unknown(p, tr.To)
			}
			g.entries = append(g.entries, nil)
			continue
		}
		names, _ := EntryEndpoints(&tr)
		var eps []int32
		for i, n := range names {
			switch {
			case len(tr.Session) > 0:
				p.Key = fmt.Sprintf("session[%d].endpoint", i)
			case len(tr.Mix) > 0:
				p.Key = "mix." + n
			default:
				p.Key = "endpoint"
			}
			e, err := g.Endpoint(int(j), n, n, false)
			if err != nil {
				g.problem(p, "%v", err)
			}
			eps = append(eps, int32(e))
		}
		g.entries = append(g.entries, eps)
	}
}

// step builds the run-time form of step k of endpoint e of component c.
func (g *Graph) step(c int32, e, k int, st *Step) step {
	p := st.P
	if p <= 0 || p > 1 {
		p = 1
	}
	out := step{kind: st.Kind, d: st.Dist, p: p, cond: st.If, write: st.Write, timeout: st.Timeout,
		retries: st.Retries, retryOn: st.RetryOn.mask(), backoffBase: st.Backoff, capped: st.BackoffMax, jitter: st.Jitter,
		continueOnError: st.ContinueOnError}
	if st.Breaker != nil {
		out.breaker = newBreaker(st.Breaker)
	}
	if st.Budget != nil {
		out.budget = newBudget(st.Budget)
	}
	r := g.res[c][e][k]
	out.tgt, out.ep = r.tgt, r.ep
	for b := range st.Branches {
		bs := &st.Branches[b]
		out.branches = append(out.branches, step{kind: StepCall, p: 1, write: bs.Write, timeout: bs.Timeout, tgt: r.branches[b].tgt, ep: r.branches[b].ep})
	}
	if st.Kind == StepParallel {
		out.wait = int32(len(st.Branches))
		if st.Wait > 0 && st.Wait < len(st.Branches) {
			out.wait = int32(st.Wait)
		}
	}
	return out
}
