package calibrate

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Options shape the scenario written.
type Options struct {
	Sources []string // the trace files, named in the header
	// Replay names the CSV of the roots' start times (ReplayCSV), relative
	// to the scenario; then [traffic] replays it instead of a rate.
	Replay string
	// Fleets gives services their instances and cores (from a Kubernetes
	// manifest), by scenario name; the others get a stated assumption.
	Fleets map[string]Fleet
	// Samples names a folder beside the scenario for the observed
	// distributions of the times no family fits (Fit.Misfit), drawn with
	// empirical(FILE); "" keeps the best family, with a comment saying it
	// does not fit.
	Samples string
}

// Fleet is what a deployment says of a service: written as it is.
type Fleet struct {
	Source string   // where it came from, for the comment
	Lines  []string // TOML lines for the [service.NAME] table: instances, cores, …
	Tables []string // its sub-tables, whole ([service.NAME.autoscale] …)
}

// FleetsFrom takes each [service.NAME] table (and its sub-tables, such as
// autoscale) that capsim import kubernetes wrote, by name.
func FleetsFrom(imported []byte, source string) map[string]Fleet {
	out := map[string]Fleet{}
	var cur string // the service whose lines these are
	var sub *strings.Builder
	flush := func() {
		if sub != nil && cur != "" {
			f := out[cur]
			f.Tables = append(f.Tables, strings.TrimRight(sub.String(), "\n"))
			out[cur] = f
		}
		sub = nil
	}
	for _, line := range strings.Split(string(imported), "\n") {
		if strings.HasPrefix(line, "[") {
			flush()
			cur = ""
			head := strings.TrimSpace(strings.SplitN(line, "#", 2)[0])
			if !strings.HasPrefix(head, "[service.") || !strings.HasSuffix(head, "]") {
				continue
			}
			path := strings.TrimSuffix(strings.TrimPrefix(head, "[service."), "]")
			name, rest, nested := strings.Cut(path, ".")
			cur = name
			if nested && rest != "" {
				sub = &strings.Builder{}
				sub.WriteString(line + "\n")
			} else {
				f := out[name]
				f.Source = source + ", " + strings.TrimLeft(strings.TrimPrefix(line, head), " #")
				out[name] = f
			}
			continue
		}
		switch {
		case cur == "":
		case sub != nil:
			sub.WriteString(line + "\n")
		case strings.TrimSpace(line) == "" || strings.HasPrefix(line, "# steps"):
		default:
			f := out[cur]
			f.Lines = append(f.Lines, line)
			out[cur] = f
		}
	}
	flush()
	return out
}

// Scenario writes the model as a scenario that validates and runs as it
// is. Every learned number carries its evidence in a comment; every
// assumption says so.
func (m *Model) Scenario(o Options) []byte {
	src, _ := m.ScenarioFiles(o)
	return src
}

// ScenarioFiles is Scenario and the files it names (by path relative to
// the scenario: the observed distributions under o.Samples).
func (m *Model) ScenarioFiles(o Options) ([]byte, map[string][]byte) {
	m.emit = emitState{samples: o.Samples, files: map[string][]byte{}}
	var b bytes.Buffer
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	used := m.Drops.Spans
	p("# Learned by capsim import traces from %s:\n", strings.Join(o.Sources, ", "))
	p("# %d traces, %d spans used; %d root requests over %s.\n", m.Drops.Traces, used, m.Roots, dur(float64(m.Span)))
	if d := m.dropped(); d > 0 {
		p("# %d spans dropped (incomplete traces, orphans, duplicates, bad times, no service): see the fit table.\n", d)
	}
	p("# Self time is a span's duration minus the union of its calls' intervals, written as\n")
	if m.SelfTimeCPU {
		p("# cpu steps (--self-time cpu): it includes any waiting inside the service that the\n")
	} else {
		p("# sleep steps (--self-time sleep): it includes any waiting inside the service that the\n")
	}
	p("# traces do not separate, so calibrate from a run at low load (docs/calibration.md).\n")
	p("# Traces do not show instances, cores, concurrency, queues or prices: those marked\n# ASSUMED are guesses to replace with your deployment's (or import with --with).\n\n")
	p("name = \"traced\"\ndescription = %q\n\n", "learned from traces of "+strings.Join(o.Sources, ", "))
	duration := "10m"
	if o.Replay != "" {
		duration = dur(math.Ceil(float64(m.Span)/1e9+1) * 1e9)
	}
	p("[run]\nduration = %q", duration)
	if o.Replay == "" {
		p("          # ASSUMED: long enough for stable percentiles")
	} else {
		p("          # the traced period, replayed")
	}
	p("\nwindow = \"5s\"\n\n")
	m.writeTraffic(&b, o)
	if n := m.Network; n != nil && n.Mean >= 1000 {
		p("[network]\nlatency = %q   # one way, per hop: (client − server span) / 2 over %d calls; %s\n\n", n.Dist, n.N, evidence(*n))
		for _, e := range m.Edges {
			if n.Mean > 0 && (e.Mean > 2*n.Mean || e.Mean < n.Mean/2) && e.N >= 10 {
				p("# note: %s → %s is %s one way (%d calls), far from the pooled mean: capsim has one latency for every hop\n",
					e.From.path(), e.To.path(), dur(e.Mean), e.N)
			}
		}
		if len(m.Edges) > 0 && bytes.HasSuffix(b.Bytes(), []byte("calls: capsim has one latency for every hop\n")) {
			b.WriteByte('\n')
		}
	}
	for _, s := range m.Services {
		p("[service.%s]", s.Name)
		if s.Name != s.Traced {
			p("   # traced as %q", s.Traced)
		}
		b.WriteByte('\n')
		if f, ok := o.Fleets[s.Name]; ok {
			p("# instances and cores from %s\n", f.Source)
			for _, l := range f.Lines {
				p("%s\n", l)
			}
			for _, t := range f.Tables {
				p("\n%s\n", t)
			}
		} else {
			cores := max(4, int(math.Ceil(10*s.Load)))
			p("# ASSUMED: one instance, its cores sized so that the traced self time (%s cores busy on\n", num(s.Load))
			p("# average) keeps it at most 10 %% busy: no queueing to speak of at the traced rate, so the\n")
			p("# traced latencies are reproduced. Concurrency and queue: unlimited. Set the real ones\n# before predicting another load.\n")
			p("instances = 1\ncores = %d\n", cores)
		}
		b.WriteByte('\n')
		for _, e := range s.Endpoints {
			p("[service.%s.endpoint.%s]", s.Name, e.Name)
			if e.Name != e.Traced {
				p("   # traced as %q", e.Traced)
			}
			p("\n# %d spans: duration mean %s; self time mean %s, p99 %s observed, %s fitted",
				e.Spans, dur(e.Duration), dur(e.SelfMean), dur(e.SelfP99), dur(e.FitSelfMean))
			if e.Irregular > 0 {
				p("; %d spans called in another order, left out of the self-time fits", e.Irregular)
			}
			b.WriteString("\nsteps = [\n")
			if len(e.Steps) == 0 {
				p("  { cpu = \"0s\" },   # no self time of a microsecond or more\n")
			}
			for i, st := range e.Steps {
				m.writeStep(&b, e, st, i)
			}
			b.WriteString("]\n\n")
		}
	}
	for _, s := range m.Services {
		var own, spans int64
		for _, e := range s.Endpoints {
			own += e.OwnErrors
			spans += e.Spans
		}
		if own == 0 || spans == 0 {
			continue
		}
		p("[[fault]]   # %s answered %d of its %d spans with an error of its own (not a failed call's)\n", s.Name, own, spans)
		p("target = %q\nkind = \"error\"\nfraction = %s\nat = \"0s\"\nduration = %q\n\n", s.Name, strconv.FormatFloat(float64(own)/float64(spans), 'g', 4, 64), duration)
	}
	return bytes.TrimRight(b.Bytes(), "\n"), m.emit.files
}

func (m *Model) dropped() int64 {
	d := m.Drops
	return d.IncompleteSpans + d.Orphans + d.Duplicates + d.Negative + d.NoService + d.TooLargeSpans
}

// writeTraffic writes one [traffic] table per root service: a rate (or
// the replayed start times), and the endpoints' mix.
func (m *Model) writeTraffic(b *bytes.Buffer, o Options) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	var order []*Service
	by := map[*Service][]*Traffic{}
	for _, t := range m.Traffic {
		s := t.To.Service
		if by[s] == nil {
			order = append(order, s)
		}
		by[s] = append(by[s], t)
	}
	for i, s := range order {
		ts := by[s]
		name := "traces"
		if i > 0 {
			name = "traces_" + s.Name
		}
		var n int64
		var rate float64
		for _, t := range ts {
			n += t.Roots
			rate += t.Rate
		}
		p("[traffic.%s]\nto = %q\n", name, s.Name)
		if o.Replay != "" && i == 0 && len(order) == 1 {
			p("trace = %q   # the %d roots' start times\nformat = \"csv\"\nendpoint_column = \"endpoint\"\n", o.Replay, n)
		} else {
			if rate <= 0 { // one root, or all at one instant: no rate to measure
				p("rate = 1   # ASSUMED: %d root requests at one instant give no rate", n)
			} else {
				p("rate = %s   # %d root requests over %s", num(rate), n, dur(float64(m.Span)))
			}
			if m.ArrivalCV > 0 {
				p("; inter-arrival cv %s", num(m.ArrivalCV))
			}
			b.WriteByte('\n')
			if m.ArrivalCV > 0 && m.ArrivalCV < 0.3 {
				p("arrivals = \"uniform\"   # evenly paced, as a load generator at a constant rate (Poisson has cv 1)\n")
			}
		}
		if len(ts) == 1 {
			p("endpoint = %q\n", ts[0].To.Name)
		} else {
			var parts []string
			for _, t := range ts {
				parts = append(parts, fmt.Sprintf("%s = %s", t.To.Name, strconv.FormatFloat(float64(t.Roots)/float64(n), 'g', 4, 64)))
			}
			p("mix = { %s }\n", strings.Join(parts, ", "))
		}
		b.WriteByte('\n')
	}
}

// emitState is what one ScenarioFiles call collects: the observed
// distributions it writes.
type emitState struct {
	samples string
	files   map[string][]byte
}

// dist is how a step draws its time: the fitted family, or for a misfit
// the observed distribution in a file beside the scenario, when there is
// a folder for it.
func (m *Model) dist(e *Endpoint, i int, f Fit) string {
	if !f.Misfit || m.emit.samples == "" {
		return f.Dist
	}
	name := fmt.Sprintf("%s/%s.%s.%d.csv", m.emit.samples, e.Service.Name, e.Name, i)
	var b bytes.Buffer
	fmt.Fprintf(&b, "ms\n")
	for _, q := range f.Quantiles {
		b.WriteString(strconv.FormatFloat(q/1e6, 'g', 6, 64) + "\n")
	}
	m.emit.files[name] = b.Bytes()
	return "empirical(" + name + ")"
}

func (m *Model) writeStep(b *bytes.Buffer, e *Endpoint, st Step, i int) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	prob := ""
	if st.P < 0.995 {
		prob = ", p = " + strconv.FormatFloat(st.P, 'g', 3, 64)
	}
	share := fmt.Sprintf("in %d of %d spans", st.Spans, e.Spans)
	switch st.Kind {
	case SelfTime:
		verb := "cpu"
		if !m.SelfTimeCPU {
			verb = "sleep"
		}
		p("  { %s = %q },   # self time: %s\n", verb, m.dist(e, i, st.Fit), evidence(st.Fit))
	case Call:
		p("  { call = %q, endpoint = %q%s },   # %s\n", st.Target.Service.Name, st.Target.Name, prob, share)
	case Async:
		p("  { async = %q, endpoint = %q%s },   # not waited for (a follower or a message); %s\n", st.Target.Service.Name, st.Target.Name, prob, share)
	case External:
		p("  { sleep = %q%s },   # client span %q with no traced server, %s: %s\n", m.dist(e, i, st.Fit), prob, st.Name, share, evidence(st.Fit))
	case Parallel:
		var br []string
		for _, x := range st.Branches {
			br = append(br, fmt.Sprintf("{ call = %q, endpoint = %q }", x.Target.Service.Name, x.Target.Name))
		}
		p("  { parallel = [ %s ]%s },   # overlapping calls, %s", strings.Join(br, ", "), prob, share)
		for _, x := range st.Branches {
			if x.Spans < st.Spans*95/100 {
				p("; %s only in %d", x.Target.path(), x.Spans)
			}
		}
		b.WriteByte('\n')
	}
}

// evidence says what a fit rests on.
func evidence(f Fit) string {
	s := fmt.Sprintf("n=%d, mean %s, p50 %s, p99 %s observed; %s fits with KS %.3f (fitted p99 %s)",
		f.N, dur(f.Mean), dur(f.P50), dur(f.P99), f.Name, f.KS, dur(f.FitP99))
	if f.Misfit {
		s = fmt.Sprintf("n=%d, mean %s, p50 %s, p99 %s observed; no family fits (the best, %s, has KS %.3f and p99 %s): the observed distribution",
			f.N, dur(f.Mean), dur(f.P50), dur(f.P99), f.Dist, f.KS, dur(f.FitP99))
	}
	return s
}

// ReplayCSV is the roots' start times as a trace capsim replays
// (timestamp_s, endpoint), sorted.
func (m *Model) ReplayCSV() []byte {
	var b bytes.Buffer
	b.WriteString("timestamp_s,endpoint\n")
	for i, t := range m.RootStarts {
		b.WriteString(strconv.FormatFloat(float64(t)/1e9, 'f', 6, 64))
		b.WriteString("," + m.RootEndpoints[i].Name + "\n")
	}
	return b.Bytes()
}
