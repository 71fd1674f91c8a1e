package calibrate

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/capsim/capsim/experiments/spans"
)

// MemoryLimit is the soft limit (runtime/debug.SetMemoryLimit) that capsim
// import traces runs under unless GOMEMLIMIT is set: what the learner holds
// is far less (the traces open at once, the reservoirs), and the limit
// makes the collector take the readers' garbage before the heap doubles.
const MemoryLimit = 200 << 20

// File is one trace file to learn from.
type File struct {
	Name string
	R    io.Reader
}

// Learn streams the files' spans through an assembler into a learner and
// returns what it learned. A file that cannot be read is an error naming
// it; spans that cannot be used are counted in Model.Drops.
func Learn(files []File, selfTimeCPU bool) (*Model, error) {
	l := NewLearner()
	a := NewAssembler(l.AddTrace)
	var truncated int64
	for _, f := range files {
		_, err := spans.Read(f.Name, f.R, func(s *spans.Span) error {
			a.Add(s)
			return nil
		})
		if errors.Is(err, io.ErrUnexpectedEOF) {
			// A file cut short (an exporter stopped mid-write): what was
			// read is kept, the trace it was in is incomplete.
			truncated++
		} else if err != nil {
			return nil, err
		}
	}
	a.Flush()
	m := l.Model(selfTimeCPU)
	m.Truncated = truncated
	if len(m.Traffic) == 0 {
		return nil, fmt.Errorf("no complete trace with a root span in %s: nothing to learn from (%d spans dropped)", fileNames(files), m.dropped())
	}
	return m, nil
}

func fileNames(files []File) string {
	var n []string
	for _, f := range files {
		n = append(n, f.Name)
	}
	return strings.Join(n, ", ")
}

// Report is the fit table: per endpoint what the fit rests on.
type Report struct {
	Traces    int64            `json:"traces"`
	Spans     int64            `json:"spans"`
	Roots     int64            `json:"roots"`
	RateRPS   float64          `json:"rate_rps"`
	Endpoints []EndpointReport `json:"endpoints"`
	Network   *FitReport       `json:"network,omitempty"`
	Dropped   map[string]int64 `json:"dropped"`
}

// EndpointReport is one endpoint's row.
type EndpointReport struct {
	Endpoint      string       `json:"endpoint"` // service.endpoint, scenario names
	Traced        string       `json:"traced"`   // as traced: service "name"
	Spans         int64        `json:"spans"`
	SelfMeanMS    float64      `json:"self_mean_ms"`
	SelfP99MS     float64      `json:"self_p99_ms"`
	FitSelfMeanMS float64      `json:"fitted_self_mean_ms"`
	ErrorRate     float64      `json:"error_rate"`
	Segments      []FitReport  `json:"segments"`
	Calls         []CallReport `json:"calls"`
	Irregular     int64        `json:"irregular_spans,omitempty"`
}

// FitReport is one fitted distribution against what was observed.
type FitReport struct {
	N         int     `json:"n"`
	Dist      string  `json:"dist"`
	KS        float64 `json:"ks"`
	MeanMS    float64 `json:"mean_ms"`
	P99MS     float64 `json:"p99_ms"`
	FitMeanMS float64 `json:"fitted_mean_ms"`
	FitP99MS  float64 `json:"fitted_p99_ms"`
	// Misfit: no family fits (Fit.Misfit); the scenario draws from the
	// observed times when written with -o.
	Misfit bool `json:"misfit,omitempty"`
}

// CallReport is one call position and how often it was made.
type CallReport struct {
	To    string  `json:"to"`
	Kind  string  `json:"kind"`
	P     float64 `json:"p"`
	Spans int64   `json:"spans"`
}

func fitReport(f Fit) FitReport {
	ms := func(ns float64) float64 { return round(ns/1e6, 4) }
	return FitReport{N: f.N, Dist: f.Dist, KS: round(f.KS, 4), MeanMS: ms(f.Mean), P99MS: ms(f.P99), FitMeanMS: ms(f.FitMean), FitP99MS: ms(f.FitP99), Misfit: f.Misfit}
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

// Report builds the fit table.
func (m *Model) Report() Report {
	r := Report{Traces: m.Drops.Traces, Spans: m.Drops.Spans, Roots: m.Roots}
	for _, t := range m.Traffic {
		r.RateRPS += t.Rate
	}
	r.RateRPS = round(r.RateRPS, 4)
	ms := func(ns float64) float64 { return round(ns/1e6, 4) }
	for _, s := range m.Services {
		for _, e := range s.Endpoints {
			er := EndpointReport{Endpoint: e.path(), Traced: fmt.Sprintf("%s %q", s.Traced, e.Traced), Spans: e.Spans,
				SelfMeanMS: ms(e.SelfMean), SelfP99MS: ms(e.SelfP99), FitSelfMeanMS: ms(e.FitSelfMean), Irregular: e.Irregular,
				Segments: []FitReport{}, Calls: []CallReport{}}
			if e.Spans > 0 {
				er.ErrorRate = round(float64(e.Errors)/float64(e.Spans), 4)
			}
			var add func(st Step)
			add = func(st Step) {
				switch st.Kind {
				case SelfTime:
					er.Segments = append(er.Segments, fitReport(st.Fit))
				case Call, Async:
					er.Calls = append(er.Calls, CallReport{To: st.Target.path(), Kind: map[StepKind]string{Call: "call", Async: "async"}[st.Kind], P: round(st.P, 4), Spans: st.Spans})
				case External:
					er.Calls = append(er.Calls, CallReport{To: st.Name, Kind: "external", P: round(st.P, 4), Spans: st.Spans})
				case Parallel:
					for _, b := range st.Branches {
						c := CallReport{To: b.Target.path(), Kind: "parallel", P: round(b.P, 4), Spans: b.Spans}
						er.Calls = append(er.Calls, c)
					}
				}
			}
			for _, st := range e.Steps {
				add(st)
			}
			r.Endpoints = append(r.Endpoints, er)
		}
	}
	if m.Network != nil {
		n := fitReport(*m.Network)
		r.Network = &n
	}
	d := m.Drops
	r.Dropped = map[string]int64{
		"incomplete_traces": d.Incomplete, "incomplete_spans": d.IncompleteSpans, "orphans": d.Orphans,
		"duplicates": d.Duplicates, "negative_duration": d.Negative, "no_service": d.NoService,
		"skewed_clipped": d.Skewed, "several_roots": d.SeveralRoots, "irregular_order": d.Irregular,
		"too_large_traces": d.TooLarge, "too_large_spans": d.TooLargeSpans, "truncated_files": m.Truncated,
		"zero_duration_kept": m.ZeroLength,
	}
	return r
}

// WriteTable writes the fit table for a person.
func (r Report) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "Learned from %d traces (%d spans), %d root requests at %.4g/s.\n\n", r.Traces, r.Spans, r.Roots, r.RateRPS)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "endpoint\tspans\tself mean (observed → fitted)\tself p99\terrors\tcalls")
	for _, e := range r.Endpoints {
		var calls []string
		for _, c := range e.Calls {
			s := c.To
			if c.Kind != "call" {
				s = c.Kind + " " + s
			}
			if c.P < 0.995 {
				s += fmt.Sprintf(" p=%.3g", c.P)
			}
			calls = append(calls, s)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.3f → %.3f ms\t%.3f ms\t%.2f%%\t%s\n", e.Endpoint, e.Spans, e.SelfMeanMS, e.FitSelfMeanMS, e.SelfP99MS, 100*e.ErrorRate, strings.Join(calls, ", "))
	}
	tw.Flush()
	fmt.Fprintln(w, "\nSelf-time segments (observed mean, p99 → fitted):")
	for _, e := range r.Endpoints {
		for i, s := range e.Segments {
			if s.Misfit {
				fmt.Fprintf(w, "  %s #%d  n=%d  %.3f, %.3f ms → the observed distribution (no family fits: the best, %s, %.3f, %.3f ms; KS %.3f)\n", e.Endpoint, i, s.N, s.MeanMS, s.P99MS, s.Dist, s.FitMeanMS, s.FitP99MS, s.KS)
				continue
			}
			fmt.Fprintf(w, "  %s #%d  n=%d  %.3f, %.3f ms → %s  (%.3f, %.3f ms; KS %.3f)\n", e.Endpoint, i, s.N, s.MeanMS, s.P99MS, s.Dist, s.FitMeanMS, s.FitP99MS, s.KS)
		}
	}
	if n := r.Network; n != nil {
		fmt.Fprintf(w, "  network (one way)  n=%d  %.3f, %.3f ms → %s  (KS %.3f)\n", n.N, n.MeanMS, n.P99MS, n.Dist, n.KS)
	}
	var keys []string
	for k, v := range r.Dropped {
		if v > 0 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		fmt.Fprintln(w, "\nNothing dropped.")
		return
	}
	fmt.Fprint(w, "\nDropped or adjusted:")
	for _, k := range keys {
		fmt.Fprintf(w, " %s %d;", strings.ReplaceAll(k, "_", " "), r.Dropped[k])
	}
	fmt.Fprintln(w)
}

// Misfits counts the self-time segments no family fits.
func (r *Report) Misfits() int {
	n := 0
	for _, e := range r.Endpoints {
		for _, s := range e.Segments {
			if s.Misfit {
				n++
			}
		}
	}
	return n
}
