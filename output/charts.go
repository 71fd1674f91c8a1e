package output

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/capsim/capsim/experiments"
)

// Chart is the data behind one plot: what Render draws and what the golden
// tests check (the data, not the pixels).
type Chart struct {
	Name   string // file stem: latency → latency.png, latency.svg
	Title  string
	XLabel string
	YLabel string
	Series []Series
	LogY   bool
	Lines  []Level // horizontal reference lines (SLO limits)
	Marks  []Mark  // points on the time axis (autoscaler decisions)
	// MarkLegend names the marks in the legend ("scaling decision" when
	// empty); LabelMarks writes each mark's label beside it.
	MarkLegend string
	LabelMarks bool
	// Rows make a timeline: one lane per row (top first) instead of a
	// value axis; a mark's Y is its row's index, and Bars are drawn in
	// their Row's lane.
	Rows []string `json:",omitempty"`
	Bars []Span   `json:",omitempty"`
	// Grid, if set, makes the chart a heatmap (and the fields above
	// about lines, marks and lanes do not apply).
	Grid  *Grid  `json:",omitempty"`
	Nines bool   // X is a percentile, drawn on a log(1/(1−q)) axis
	Spans []Span // shaded intervals (warm-up, faults)
	// XMin, XMax fix the X axis when XMax > XMin: time charts span the
	// whole run, even where a series has nothing to draw (no request
	// completed in a window of a latency chart).
	XMin, XMax float64
}

// Series is one line, with an optional band (Lo and Hi, as long as X: a
// confidence interval) drawn under it.
type Series struct {
	Name   string
	X, Y   []float64
	Lo, Hi []float64 `json:",omitempty"`
	// Color is 1 + the palette index (0: by the series' place in the
	// chart), so that a component keeps its colour on every chart.
	Color int `json:",omitempty"`
	// Scatter draws the points as dots, unjoined.
	Scatter bool `json:",omitempty"`
}

// Level is a horizontal reference line.
type Level struct {
	Label string
	Y     float64
}

// Mark is a labelled point (drawn as a marker on its series' line), a
// triangle pointing up, or down with Down (a scale-in).
type Mark struct {
	Label string
	X, Y  float64
	Down  bool `json:",omitempty"`
}

// Span is a shaded stretch of the X axis (Row: a bar's lane on a
// timeline).
type Span struct {
	Label    string
	From, To float64
	Row      int `json:",omitempty"`
}

// timeUnit picks the time axis unit for a run of length d seconds.
func timeUnit(d float64) (float64, string) {
	switch {
	case d > 10*3600:
		return 3600, "time (h)"
	case d > 20*60:
		return 60, "time (min)"
	}
	return 1, "time (s)"
}

// Charts computes every chart of a run, in report order: load against
// capacity, instances, latency over time with the SLO lines, utilisation,
// queues, errors, cache hit ratios, cost, and the latency percentile
// spectrum. Charts with nothing to show are left out.
func Charts(o *experiments.Outcome) []Chart {
	r := o.Series
	div, xlabel := timeUnit(r.DurationS)
	// A window's values are plotted at its end: what was known then.
	xs := make([]float64, len(r.Windows))
	for i, w := range r.Windows {
		xs[i] = (w.StartS + w.LengthS) / div
	}
	colors := componentColors(r)
	col := func(f func(w *experiments.Window) float64) []float64 {
		y := make([]float64, len(r.Windows))
		for i := range r.Windows {
			y[i] = f(&r.Windows[i])
		}
		return y
	}
	var spans []Span
	if r.WarmupS > 0 {
		spans = []Span{{Label: "warm-up", From: 0, To: r.WarmupS / div}}
	}
	for _, f := range o.Summary.Faults {
		sp := Span{Label: f.Kind + " " + f.Target, From: f.AtS / div, To: math.Min(f.EndS, r.DurationS) / div}
		if n := len(spans); n > 0 && spans[n-1].From == sp.From && spans[n-1].To == sp.To {
			spans[n-1].Label += ", " + f.Target // one fault on several components (a zone's outage)
			continue
		}
		spans = append(spans, sp)
	}
	var charts []Chart
	if tl, ok := timeline(r, spans, xlabel, div); ok {
		charts = append(charts, tl)
	}

	load := Chart{Name: "load", Title: "Offered load, throughput and capacity", XLabel: xlabel, YLabel: "requests/s", Spans: spans,
		Series: []Series{
			{Name: "arrivals", X: xs, Y: col(func(w *experiments.Window) float64 { return w.ArrivalsRPS })},
			{Name: "completed", X: xs, Y: col(func(w *experiments.Window) float64 { return w.CompletedRPS })},
		}}
	if name, capacity := pathCapacity(o); capacity != nil {
		// Black, dashed: no component's colour.
		load.Series = append(load.Series, Series{Name: "capacity (busiest: " + name + ")", X: xs, Y: capacity, Color: 2 * len(palette)})
	}
	charts = append(charts, load)

	var inst Chart
	inst = Chart{Name: "instances", Title: "Instances (asked for) and autoscaler decisions", XLabel: xlabel, YLabel: "instances", Spans: spans}
	for _, c := range r.Components {
		if c.Kind == "nodepool" {
			inst.Title = "Instances (asked for), nodes and pending pods, and autoscaler decisions"
		}
	}
	for i, c := range r.Components {
		if !c.Fleet || !c.Autoscaled && !changed(o, c.Name) {
			continue
		}
		if c.Kind == "nodepool" { // its nodes, and the pods waiting for one
			inst.Series = append(inst.Series,
				Series{Name: c.Name + " nodes", X: xs, Y: col(func(w *experiments.Window) float64 { return float64(w.Components[i].Instances) })},
				Series{Name: c.Name + " pending pods", X: xs, Y: col(func(w *experiments.Window) float64 { return w.Components[i].Queue })})
			continue
		}
		inst.Series = append(inst.Series, Series{Name: c.Name, X: xs, Y: col(func(w *experiments.Window) float64 { return float64(w.Components[i].Instances) }), Color: colors[c.Name]})
		for _, d := range r.Decisions {
			if d.Component == c.Name && d.From != d.To {
				inst.Marks = append(inst.Marks, Mark{Label: d.Reason, X: d.AtS / div, Y: float64(d.To)})
			}
		}
	}
	if len(inst.Series) > 0 {
		charts = append(charts, inst)
	}

	lat := Chart{Name: "latency", Title: "Latency of completed requests", XLabel: xlabel, YLabel: "latency (ms)", LogY: true, Spans: spans,
		Series: []Series{
			{Name: "p50", X: xs, Y: col(func(w *experiments.Window) float64 { return w.P50MS })},
			{Name: "p95", X: xs, Y: col(func(w *experiments.Window) float64 { return w.P95MS })},
			{Name: "p99", X: xs, Y: col(func(w *experiments.Window) float64 { return w.P99MS })},
		}}
	for _, c := range o.Summary.SLO.Checks {
		if c.Unit == "ms" && c.Scope == "" {
			lat.Lines = append(lat.Lines, Level{Label: "SLO " + c.Name + " ≤ " + ftoa(c.Limit) + " ms", Y: c.Limit})
		}
	}
	charts = append(charts, lat)

	util := Chart{Name: "utilization", Title: "Utilisation (busy cores / cores)", XLabel: xlabel, YLabel: "utilisation (%)", Spans: spans}
	queue := Chart{Name: "queue", Title: "Requests waiting (for a slot or a core)", XLabel: xlabel, YLabel: "requests waiting", Spans: spans}
	hits := Chart{Name: "hit_ratio", Title: "Cache hit ratio", XLabel: xlabel, YLabel: "hit ratio (%)", Spans: spans}
	lag := Chart{Name: "lag", Title: "Queue lag (messages waiting)", XLabel: xlabel, YLabel: "messages waiting", Spans: spans}
	age := Chart{Name: "age", Title: "Message age at consumption, p99", XLabel: xlabel, YLabel: "age (ms)", Spans: spans}
	envs := Chart{Name: "functions", Title: "Function environments, and cold starts per second", XLabel: xlabel, YLabel: "environments; cold starts/s", Spans: spans}
	for i, c := range r.Components {
		if c.Kind == "nodepool" { // allocation and pending pods are on the instances chart
			continue
		}
		k := colors[c.Name]
		if c.Broker {
			lag.Series = append(lag.Series, Series{Name: c.Name, X: xs, Y: col(func(w *experiments.Window) float64 { return w.Components[i].Lag }), Color: k})
			age.Series = append(age.Series, Series{Name: c.Name, X: xs, Y: col(func(w *experiments.Window) float64 { return w.Components[i].AgeP99MS }), Color: k})
			continue
		}
		queue.Series = append(queue.Series, Series{Name: c.Name, X: xs, Y: col(func(w *experiments.Window) float64 { return w.Components[i].Queue }), Color: k})
		if c.Cache {
			hits.Series = append(hits.Series, Series{Name: c.Name, X: xs, Y: col(func(w *experiments.Window) float64 { return 100 * w.Components[i].HitRatio }), Color: k})
		}
		if c.Function {
			envs.Series = append(envs.Series,
				Series{Name: c.Name + " environments", X: xs, Y: col(func(w *experiments.Window) float64 { return float64(w.Components[i].Instances) })},
				Series{Name: c.Name + " cold starts/s", X: xs, Y: col(func(w *experiments.Window) float64 {
					return float64(w.Components[i].ColdStarts) / w.LengthS
				})})
		}
	}
	util.Series = busiestSeries(r, xs, colors, 6)
	if n := len(util.Series); n < countResources(r) {
		util.Title = fmt.Sprintf("Utilisation of the %d busiest (busy cores / cores)", n)
	}
	charts = append(charts, util, queue)
	errs := Chart{Name: "errors", Title: "Requests that failed (rejected, timed out, error)", XLabel: xlabel, YLabel: "requests/s", Spans: spans,
		Series: []Series{{Name: "errors", X: xs, Y: col(func(w *experiments.Window) float64 { return w.ErrorsRPS })}}}
	if r.HasRetries {
		errs.Title = "Failed requests and retry attempts"
		errs.YLabel = "per second"
		errs.Series = append(errs.Series, Series{Name: "retries", X: xs, Y: col(func(w *experiments.Window) float64 { return w.RetriesRPS })})
	}
	charts = append(charts, errs)
	if len(hits.Series) > 0 {
		charts = append(charts, hits)
	}
	if len(lag.Series) > 0 {
		charts = append(charts, lag, age)
	}
	if len(envs.Series) > 0 {
		charts = append(charts, envs)
	}
	charts = append(charts, Chart{Name: "cost", Title: "Cost so far", XLabel: xlabel, YLabel: "US dollars", Spans: spans,
		Series: []Series{{Name: "cost", X: xs, Y: col(func(w *experiments.Window) float64 { return w.CostUSD })}}})

	spectrum := Chart{Name: "latency_spectrum", Title: "Latency percentile spectrum (whole run)", XLabel: "percentile", YLabel: "latency (ms)", LogY: true, Nines: true}
	if r.Completed > 0 {
		var s Series
		s.Name = "all requests"
		for _, q := range spectrumQuantiles(r.Completed) {
			s.X = append(s.X, q)
			s.Y = append(s.Y, r.LatencyQuantileMS(q))
		}
		spectrum.Series = []Series{s}
		spectrum.Lines = lat.Lines
		charts = append(charts, spectrum)
	}
	for ci := range charts {
		for si := range charts[ci].Series {
			cleanSeries(&charts[ci].Series[si], charts[ci].LogY)
		}
	}
	for i := range charts {
		if !charts[i].Nines {
			charts[i].XMin, charts[i].XMax = 0, r.DurationS/div
		}
	}
	return charts
}

// spectrumQuantiles are the percentiles of the spectrum, denser towards the
// tail, up to the last one the sample can support (at least 10 requests
// beyond it).
func spectrumQuantiles(n int64) []float64 {
	var qs []float64
	for k := 0.0; ; k += 0.125 {
		q := 1 - math.Pow(10, -k) // 0, 25 %, ..., 90 %, ..., 99 %, ...
		if (1-q)*float64(n) < 10 || k > 6 {
			break
		}
		qs = append(qs, q)
	}
	return qs
}

// cleanSeries drops points that cannot be drawn: NaN (no data in the
// window), and values ≤ 0 on a log axis.
func cleanSeries(s *Series, logY bool) {
	x, y := s.X[:0:0], s.Y[:0:0]
	for i := range s.Y {
		if math.IsNaN(s.Y[i]) || math.IsInf(s.Y[i], 0) || (logY && s.Y[i] <= 0) {
			continue
		}
		x = append(x, s.X[i])
		y = append(y, s.Y[i])
	}
	s.X, s.Y = x, y
}

// changed reports whether the component's instance count changed in the
// run.
func changed(o *experiments.Outcome, name string) bool {
	in := o.Summary.Components[name].Instances
	return in != nil && in.Min != in.Max
}

// timeline is the run's events on the charts' time axis: one lane per
// autoscaled component with a triangle at each decision that changed its
// instances (up for a scale-out, down for a scale-in), under the faults'
// spans. None without decisions or faults.
func timeline(r *experiments.Series, spans []Span, xlabel string, div float64) (Chart, bool) {
	c := Chart{Name: "timeline", Title: "Timeline: faults and autoscaler decisions", XLabel: xlabel, Spans: spans}
	for _, sp := range spans { // a lane per fault
		if sp.Label != "warm-up" {
			c.Bars = append(c.Bars, Span{Label: sp.Label, From: sp.From, To: sp.To, Row: len(c.Rows)})
			c.Rows = append(c.Rows, sp.Label)
		}
	}
	row := map[string]int{}
	for _, d := range r.Decisions {
		if d.From == d.To {
			continue
		}
		k, ok := row[d.Component]
		if !ok {
			k = len(c.Rows)
			row[d.Component] = k
			c.Rows = append(c.Rows, d.Component)
		}
		c.Marks = append(c.Marks, Mark{Label: fmt.Sprintf("%s %d→%d", d.Component, d.From, d.To), X: d.AtS / div, Y: float64(k), Down: d.To < d.From})
	}
	if len(c.Rows) == 0 {
		return Chart{}, false
	}
	return c, true
}

// componentColors gives each component (and each database node, after
// them) its palette slot for every chart: 1 + its place in the run's
// component list (Series.Color).
func componentColors(r *experiments.Series) map[string]int {
	m := map[string]int{}
	for i, c := range r.Components {
		m[c.Name] = i + 1
	}
	k := len(r.Components)
	for _, c := range r.Components {
		for _, n := range c.Nodes {
			k++
			m[c.Name+" "+n] = k
		}
	}
	return m
}

// countResources counts what the utilisation chart can show: fleets
// (node pools aside) and database nodes.
func countResources(r *experiments.Series) int {
	n := 0
	for _, c := range r.Components {
		switch {
		case len(c.Nodes) > 0:
			n += len(c.Nodes)
		case c.Fleet && c.Kind != "nodepool":
			n++
		}
	}
	return n
}

// busiestSeries are the utilisation (%) of the top resources by peak
// window — services, caches, functions and each database node, named
// "db s0.replica1" — busiest first.
func busiestSeries(r *experiments.Series, xs []float64, colors map[string]int, top int) []Series {
	type cand struct {
		s    Series
		peak float64
	}
	var cs []cand
	add := func(name string, get func(w *experiments.Window) float64) {
		c := cand{s: Series{Name: name, X: xs, Y: make([]float64, len(r.Windows)), Color: colors[name]}}
		for i := range r.Windows {
			v := 100 * get(&r.Windows[i])
			c.s.Y[i] = v
			if !math.IsNaN(v) {
				c.peak = math.Max(c.peak, v)
			}
		}
		cs = append(cs, c)
	}
	for i, c := range r.Components {
		switch {
		case len(c.Nodes) > 0:
			for k, n := range c.Nodes {
				add(c.Name+" "+n, func(w *experiments.Window) float64 {
					if k < len(w.Components[i].Nodes) {
						return w.Components[i].Nodes[k]
					}
					return math.NaN()
				})
			}
		case c.Fleet && c.Kind != "nodepool":
			add(c.Name, func(w *experiments.Window) float64 { return w.Components[i].Utilization })
		}
	}
	slices.SortStableFunc(cs, func(a, b cand) int { return cmp.Compare(b.peak, a.peak) })
	var out []Series
	for i := 0; i < len(cs) && i < top; i++ {
		out = append(out, cs[i].s)
	}
	return out
}

// pathCapacity is, in each window, the arrival rate at which the first of
// the run's resources would saturate — the capacity of the busiest path:
// each resource's saturation point (experiments.Loads: arrivals over its
// utilisation, counting hit ratios, fan-out and hot shards) scaled by the
// instances it had ready then against its average. It returns the
// busiest resource's name.
func pathCapacity(o *experiments.Outcome) (string, []float64) {
	r := o.Series
	loads := experiments.Loads(o.Summary)
	if len(loads) == 0 || loads[0].Utilization <= 0 || len(r.Windows) == 0 {
		return "", nil
	}
	index := map[string]int{}
	for i, c := range r.Components {
		index[c.Name] = i
	}
	y := make([]float64, len(r.Windows))
	for i := range y {
		y[i] = math.Inf(1)
	}
	for _, l := range loads {
		if l.CapacityRPS <= 0 {
			continue
		}
		ci, ok := index[l.Component]
		if !ok {
			continue
		}
		meanReady := 0.0
		if l.Kind != "database node" {
			n := 0
			for _, w := range r.Windows {
				if w.StartS >= r.WarmupS {
					meanReady += float64(w.Components[ci].Ready)
					n++
				}
			}
			if n > 0 {
				meanReady /= float64(n)
			}
		}
		for i, w := range r.Windows {
			c := l.CapacityRPS
			if meanReady > 0 {
				c *= float64(w.Components[ci].Ready) / meanReady
			}
			y[i] = math.Min(y[i], c)
		}
	}
	for i := range y {
		if math.IsInf(y[i], 1) {
			y[i] = math.NaN()
		}
	}
	return loads[0].Name, y
}
