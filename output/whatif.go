package output

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/capsim/capsim/experiments"
)

func ftoa(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// CSVTable lines a CSV document up in columns for the terminal.
func CSVTable(doc []byte) ([]byte, error) {
	rows, err := csv.NewReader(bytes.NewReader(doc)).ReadAll()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, row := range rows {
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
	return b.Bytes(), nil
}

// SweepCharts plots p99 (with its confidence band), throughput, error rate
// and cost against the varied value when a single numeric value is
// varied; against the first of two varied values, one line per value of
// the second, when two are (the first numeric). Two varied values, or one
// that is not a number, also get heatmaps of p99 and cost: a cell per
// setting, outlined where it misses an SLO.
func SweepCharts(file *experiments.SweepFile) []Chart {
	if len(file.Varies) == 2 {
		return append(sweepCharts2(file), sweepGrids(file)...)
	}
	x, ok := file.NumericX()
	if !ok {
		return sweepGrids(file)
	}
	knee := file.Knee()
	path := file.Varies[0].Path
	series := func(name string, get func(*experiments.Summary) float64) Series {
		s := Series{Name: name, X: x}
		for _, r := range file.Results {
			s.Y = append(s.Y, get(r.Summary))
		}
		return s
	}
	p99 := Chart{Name: "sweep_p99", Title: "p99 latency against " + path, XLabel: path, YLabel: "latency (ms)", LogY: true,
		Series: []Series{series("p99", func(s *experiments.Summary) float64 { return s.Latency.P99 })}}
	if file.Replications > 1 { // the confidence interval as a band under the line
		ci := func(k int) func(s *experiments.Summary) float64 {
			return func(s *experiments.Summary) float64 {
				if c, ok := s.CI95["latency_ms.p99"]; ok {
					return c[k]
				}
				return s.Latency.P99 // the same in every replication
			}
		}
		p99.Series[0].Lo, p99.Series[0].Hi = series("", ci(0)).Y, series("", ci(1)).Y
	}
	if knee >= 0 {
		p99.Marks = []Mark{{Label: "knee", X: x[knee], Y: file.Results[knee].Summary.Latency.P99}}
		p99.MarkLegend, p99.LabelMarks = "knee", true
	}
	p99.Lines = sloP99(file)
	return []Chart{p99,
		{Name: "sweep_throughput", Title: "Throughput against " + path, XLabel: path, YLabel: "requests/s",
			Series: []Series{series("throughput", func(s *experiments.Summary) float64 { return s.Throughput })}},
		{Name: "sweep_errors", Title: "Error rate against " + path, XLabel: path, YLabel: "error rate",
			Series: []Series{series("error rate", func(s *experiments.Summary) float64 { return s.ErrorRate })}},
		{Name: "sweep_cost", Title: "Cost against " + path, XLabel: path, YLabel: "US dollars",
			Series: []Series{series("cost", func(s *experiments.Summary) float64 { return s.Cost.TotalUSD })}},
	}
}

// sloP99 is the p99 objective's line, if the scenario has one.
func sloP99(file *experiments.SweepFile) []Level {
	for _, c := range file.Results[0].Summary.SLO.Checks {
		if c.Name == "p99" {
			return []Level{{Label: "SLO p99 ≤ " + ftoa(c.Limit) + " ms", Y: c.Limit}}
		}
	}
	return nil
}

// sweepCharts2 draws a sweep over two values as small multiples on one
// chart: against the first (numeric) value, one line per value of the
// second, with the SLO's limit drawn.
func sweepCharts2(file *experiments.SweepFile) []Chart {
	a, b := file.Varies[0], file.Varies[1]
	xi, li := 0, 1
	if !numeric(a.Values) && numeric(b.Values) {
		a, b, xi, li = b, a, 1, 0
	}
	if !numeric(a.Values) {
		return nil
	}
	// Group the points by the line's value, in the order given.
	lines := map[string]*[]experiments.PointResult{}
	var order []string
	for _, r := range file.Results {
		k := r.Point.Values[li]
		if lines[k] == nil {
			lines[k] = &[]experiments.PointResult{}
			order = append(order, k)
		}
		*lines[k] = append(*lines[k], r)
	}
	chart := func(name, title, ylabel string, logY bool, get func(*experiments.Summary) float64) Chart {
		c := Chart{Name: name, Title: title + " against " + a.Path + ", by " + b.Path, XLabel: a.Path, YLabel: ylabel, LogY: logY}
		for _, k := range order {
			s := Series{Name: b.Path + " = " + k}
			for _, r := range *lines[k] {
				x, _ := strconv.ParseFloat(r.Point.Values[xi], 64)
				s.X = append(s.X, x)
				s.Y = append(s.Y, get(r.Summary))
			}
			c.Series = append(c.Series, s)
		}
		return c
	}
	p99 := chart("sweep_p99", "p99 latency", "latency (ms)", true, func(s *experiments.Summary) float64 { return s.Latency.P99 })
	p99.Lines = sloP99(file)
	return []Chart{p99,
		chart("sweep_throughput", "Throughput", "requests/s", false, func(s *experiments.Summary) float64 { return s.Throughput }),
		chart("sweep_errors", "Error rate", "error rate", false, func(s *experiments.Summary) float64 { return s.ErrorRate }),
		chart("sweep_cost", "Cost", "US dollars", false, func(s *experiments.Summary) float64 { return s.Cost.TotalUSD }),
	}
}

// sweepGrids are the heatmaps of p99 and cost over one or two varied
// values: the first across, the second up (one row without a second).
func sweepGrids(file *experiments.SweepFile) []Chart {
	if len(file.Varies) < 1 || len(file.Varies) > 2 || len(file.Results) == 0 {
		return nil
	}
	cols := file.Varies[0].Values
	rows, ylabel := []string{""}, ""
	if len(file.Varies) == 2 {
		rows, ylabel = file.Varies[1].Values, file.Varies[1].Path
	}
	grid := func(log bool, get func(*experiments.Summary) float64) *Grid {
		g := &Grid{Columns: cols, Rows: rows, Log: log}
		for range rows {
			row := make([]float64, len(cols))
			for k := range row {
				row[k] = math.NaN() // a setting a shard did not run
			}
			g.Values = append(g.Values, row)
			g.Missed = append(g.Missed, make([]bool, len(cols)))
		}
		for _, r := range file.Results {
			k, j := slices.Index(cols, r.Point.Values[0]), 0
			if len(rows) > 1 {
				j = slices.Index(rows, r.Point.Values[1])
			}
			if k < 0 || j < 0 || r.Summary == nil {
				continue
			}
			g.Values[j][k] = get(r.Summary)
			g.Missed[j][k] = !r.Summary.SLO.Met
		}
		return g
	}
	by := file.Varies[0].Path
	if len(file.Varies) == 2 {
		by += " and " + file.Varies[1].Path
	}
	return []Chart{
		{Name: "sweep_p99_map", Title: "p99 latency (ms) by " + by, XLabel: file.Varies[0].Path, YLabel: ylabel,
			Grid: grid(true, func(s *experiments.Summary) float64 { return s.Latency.P99 })},
		{Name: "sweep_cost_map", Title: "Cost (US dollars) by " + by, XLabel: file.Varies[0].Path, YLabel: ylabel,
			Grid: grid(false, func(s *experiments.Summary) float64 { return s.Cost.TotalUSD })},
	}
}

func numeric(values []string) bool {
	for _, v := range values {
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return false
		}
	}
	return len(values) > 0
}

// PlanCharts draws what a plan evaluated: each setting's cost against its
// p99, those that meet every SLO apart from those that fail, the SLO's
// limit, and the setting chosen — the cheapest below the line.
func PlanCharts(res *experiments.PlanResult, varies []experiments.Vary) []Chart {
	if len(res.Candidates) == 0 {
		return nil
	}
	c := Chart{Name: "plan", Title: "Settings evaluated: cost against p99", XLabel: "cost (US dollars)", YLabel: "p99 latency (ms)", LogY: true}
	pass := Series{Name: "meets every SLO", Scatter: true, Color: 3}
	fail := Series{Name: "fails", Scatter: true, Color: 2}
	for _, p := range res.Candidates {
		s := &fail
		if p.Summary.SLO.Met {
			s = &pass
		}
		s.X = append(s.X, p.Summary.Cost.TotalUSD)
		s.Y = append(s.Y, p.Summary.Latency.P99)
	}
	for _, s := range []Series{pass, fail} {
		if len(s.X) > 0 {
			c.Series = append(c.Series, s)
		}
	}
	for _, k := range res.Candidates[0].Summary.SLO.Checks {
		if k.Name == "p99" {
			c.Lines = []Level{{Label: "SLO p99 ≤ " + ftoa(k.Limit) + " ms", Y: k.Limit}}
		}
	}
	if b := res.Best; b != nil {
		c.Marks = []Mark{{Label: "chosen: " + experiments.Describe(varies, b.Point), X: b.Summary.Cost.TotalUSD, Y: b.Summary.Latency.P99}}
		c.MarkLegend, c.LabelMarks = "chosen", true
	}
	return []Chart{c}
}

// PlanText says what a plan found, for a person: every setting evaluated
// with its verdict, cost and the utilisation of its busiest component (the
// headroom left), then the choice and the evidence. prices says which
// price model the costs follow.
func PlanText(res *experiments.PlanResult, varies []experiments.Vary, minimize, prices string) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "setting	verdict	cost $	busiest	utilisation")
	for _, c := range res.Candidates {
		verdict := "meets every SLO"
		if !c.Summary.SLO.Met {
			verdict = "fails"
		}
		name, u := experiments.Busiest(c.Summary)
		fmt.Fprintf(tw, "%s\t%s\t%.2f\t%s\t%s\n", experiments.Describe(varies, c.Point), verdict, c.Summary.Cost.TotalUSD, name, pct(u))
	}
	tw.Flush()
	if prices != "" {
		fmt.Fprintf(&b, "Prices: %s.\n", prices)
	}
	b.WriteByte('\n')
	if res.Best == nil {
		fmt.Fprintln(&b, "No setting in the ranges given meets every SLO.")
	} else {
		s := res.Best.Summary
		fmt.Fprintf(&b, "Best setting that meets every SLO (minimising %s): %s (p99 %s ms, error rate %s, cost $%.2f).\n",
			minimize, experiments.Describe(varies, res.Best.Point), ftoa(s.Latency.P99), ftoa(s.ErrorRate), s.Cost.TotalUSD)
	}
	if res.Evidence != nil {
		var failed []string
		for _, c := range res.Evidence.Summary.SLO.Checks {
			if !c.Met {
				failed = append(failed, fmt.Sprintf("%s %s > %s", c.Name, ftoa(c.Value), ftoa(c.Limit)))
			}
		}
		fmt.Fprintf(&b, "Evidence: %s fails: %s.\n", experiments.Describe(varies, res.Evidence.Point), strings.Join(failed, ", "))
	}
	fmt.Fprintf(&b, "%d of %d settings evaluated.\n", res.Evaluated, res.Points)
	return b.String()
}

// CompareText tabulates the differences of a comparison.
func CompareText(diffs []experiments.Diff, reps int) string {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "metric\tA\tB\tB − A\t95 %% CI of B − A\t\t\n")
	for _, d := range diffs {
		sig := ""
		if d.CILow > 0 || d.CIHigh < 0 {
			sig = "significant"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t[%s, %s]\t%s\t\n", d.Name, ftoa(d.A), ftoa(d.B), ftoa(d.Delta), ftoa(d.CILow), ftoa(d.CIHigh), sig)
	}
	tw.Flush()
	fmt.Fprintf(&b, "\n%d paired replications with common random numbers (same seeds).\n", reps)
	return b.String()
}
