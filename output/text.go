package output

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/capsim/capsim/experiments"
)

// thousands formats n with thousands separators.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// num formats a latency or rate with sensible significant digits.
func num(x float64) string {
	switch {
	case x == 0:
		return "0"
	case x >= 1000:
		return thousands(int64(x + 0.5))
	case x >= 100:
		return f(x, 1)
	case x >= 1:
		return f(x, 2)
	}
	return f(x, 3)
}

func pct(x float64) string { return f(100*x, 2) + " %" }

// sloValue writes an objective's value or limit in its unit.
func sloValue(unit string, x float64) string {
	switch unit {
	case "ms":
		return num(x) + " ms"
	case "fraction":
		return pct(x)
	case "messages":
		return num(x) + " messages"
	case "USD per hour":
		return "$" + f(x, 2) + " per hour"
	case "USD per million requests":
		return "$" + f(x, 2) + " per million requests"
	}
	return num(x) + " " + unit
}

// TextOption adjusts the terminal summary.
type TextOption func(*textOptions)

type textOptions struct{ color bool }

// WithColor colours the SLO verdicts (for terminals; leave it out when the
// output is piped).
func WithColor() TextOption { return func(t *textOptions) { t.color = true } }

// Text writes the terminal summary: SLO verdicts first, then requests,
// latency, components, cost. It fits one screen for typical scenarios.
func Text(w io.Writer, o *experiments.Outcome, opts ...TextOption) error {
	var to textOptions
	for _, opt := range opts {
		opt(&to)
	}
	paint := func(s string, ok bool) string {
		if !to.color {
			return s
		}
		if ok {
			return "\033[32m" + s + "\033[0m"
		}
		return "\033[1;31m" + s + "\033[0m"
	}
	s := o.Summary
	var b strings.Builder
	title := s.Scenario
	if s.Description != "" {
		title += " — " + s.Description
	}
	fmt.Fprintf(&b, "%s\n", title)
	measured := ""
	if s.MeasuredS != s.DurationS {
		measured = fmt.Sprintf(" (measured: last %gs)", s.MeasuredS)
	}
	reps := ""
	if s.Replications > 1 {
		reps = fmt.Sprintf(", means of %d replications", s.Replications)
	}
	fmt.Fprintf(&b, "simulated %gs%s, seed %d%s, %s events\n\n", s.DurationS, measured, s.Seed, reps, thousands(int64(s.Events)))

	if len(s.SLO.Checks) > 0 {
		verdict := "met"
		if !s.SLO.Met {
			verdict = "NOT met"
		}
		fmt.Fprintf(&b, "SLO %s\n", paint(verdict, s.SLO.Met))
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		for _, c := range s.SLO.Checks {
			mark := paint("✔", true)
			if !c.Met {
				mark = paint("✘", false)
			}
			fmt.Fprintf(tw, "  %s %s\t%s\t(limit %s)\n", mark, c.Name, sloValue(c.Unit, c.Value), sloValue(c.Unit, c.Limit))
		}
		tw.Flush()
		b.WriteByte('\n')
	}

	r := s.Requests
	share := func(n int64) string {
		if r.Arrived == 0 {
			return ""
		}
		return " (" + f(100*float64(n)/float64(r.Arrived), 1) + " %)"
	}
	fmt.Fprintf(&b, "Requests    %s arrived, %s completed%s", thousands(r.Arrived), thousands(r.Completed), share(r.Completed))
	for _, x := range []struct {
		n    int64
		name string
	}{{r.Rejected, "rejected"}, {r.TimedOut, "timed out"}, {r.Failed, "failed"}, {r.InFlight, "in flight at the end"}} {
		if x.n > 0 {
			fmt.Fprintf(&b, ", %s %s%s", thousands(x.n), x.name, share(x.n))
		}
	}
	fmt.Fprintf(&b, "\nThroughput  %s req/s, error rate %s\n", num(s.Throughput), pct(s.ErrorRate))
	l := s.Latency
	fmt.Fprintf(&b, "Latency ms  mean %s  p50 %s  p90 %s  p95 %s  p99 %s  p99.9 %s  max %s\n",
		num(l.Mean), num(l.P50), num(l.P90), num(l.P95), num(l.P99), num(l.P999), num(l.Max))
	if s.CI95 != nil {
		ci := func(k string) string {
			if c, ok := s.CI95[k]; ok {
				return num(c[0]) + "–" + num(c[1])
			}
			return "exact"
		}
		fmt.Fprintf(&b, "95 %% CI     over %d replications: mean %s, p50 %s, p99 %s, p99.9 %s ms; throughput %s req/s\n",
			s.Replications, ci("latency_ms.mean"), ci("latency_ms.p50"), ci("latency_ms.p99"), ci("latency_ms.p999"), ci("throughput_rps"))
	}
	if line := splitLine(s); line != "" {
		fmt.Fprintf(&b, "Mean split  %s\n", line)
		if t := s.LatencySplit.Slowest; t != nil {
			fmt.Fprintf(&b, "Slowest     %s\n", slowestLine(t))
		}
	}
	if bn := s.Bottleneck; bn != nil {
		fmt.Fprintf(&b, "Bottleneck  %s\n", bottleneckLine(s))
	}
	for _, w := range s.Warnings {
		fmt.Fprintf(&b, "Note        %s\n", w)
	}
	b.WriteByte('\n')

	width := len("component")
	for _, c := range o.Series.Components {
		width = max(width, len(c.Name))
	}
	left := func(s string) string { return s + strings.Repeat(" ", width-len(s)) } // first column left-aligned
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%s\tkind\tinstances\tutil\tqueue mean/max\treq/s\tp50 ms\tp99 ms\trejected\tcost $\t\n", left("component"))
	for _, sc := range o.Series.Components {
		name := sc.Name
		c := s.Components[name]
		inst, util := instancesCell(c), utilCell(c)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s / %s\t%s\t%s\t%s\t%s\t%s\t\n", left(name), c.Kind, inst, util,
			num(c.Queue.Mean), thousands(c.Queue.Max), num(c.ThroughputRPS), num(c.Latency.P50), num(c.Latency.P99), thousands(c.Rejected), f(c.CostUSD, 2))
	}
	tw.Flush()
	timeSplit(&b, o, left)
	theory(&b, o, left)
	if len(s.Traffic) > 1 {
		b.WriteByte('\n')
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		width = len("traffic")
		for _, t := range o.Series.Traffic {
			width = max(width, len(t))
		}
		fmt.Fprintf(tw, "%s\tarrived\tcompleted\terror rate\tp50 ms\tp99 ms\t\n", left("traffic"))
		for _, t := range o.Series.Traffic {
			ts := s.Traffic[t]
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", left(t), thousands(ts.Arrived), thousands(ts.Requests.Completed), pct(ts.ErrorRate), num(ts.Latency.P50), num(ts.Latency.P99))
		}
		tw.Flush()
	}
	first := true
	for _, rc := range o.Series.Components {
		c := s.Components[rc.Name]
		if c.ScaleEvents == 0 && !rc.Autoscaled {
			continue
		}
		if first {
			b.WriteByte('\n')
			first = false
		}
		fmt.Fprintf(&b, "Autoscaling %s: %d scale events, %d reversals, instances mean %s (%d–%d), replica variation %d, %s instance-minutes churned\n",
			rc.Name, c.ScaleEvents, c.Reversals, num(c.Instances.Mean), c.Instances.Min, c.Instances.Max, c.Variation, num(c.ChurnMinutes))
	}
	for _, rc := range o.Series.Components {
		c := s.Components[rc.Name]
		if c.HitRatio == nil {
			continue
		}
		if first {
			b.WriteByte('\n')
			first = false
		}
		fmt.Fprintf(&b, "Cache %s: hit ratio %s, stale reads %s of lookups, %s evictions\n", rc.Name, pct(*c.HitRatio), pct(*c.StaleReads), thousands(*c.Evictions))
	}
	for _, rc := range o.Series.Components {
		c := s.Components[rc.Name]
		if c.Nodes == nil {
			continue
		}
		if first {
			b.WriteByte('\n')
			first = false
		}
		fmt.Fprintf(&b, "Database %s: stale reads %s of reads; node utilisation", rc.Name, pct(*c.StaleReads))
		const shown = 12
		for k, n := range c.Nodes {
			if k == shown {
				fmt.Fprintf(&b, " … (%d more in summary.json)", len(c.Nodes)-shown)
				break
			}
			fmt.Fprintf(&b, " %s %s", n.Name, f(100*n.Utilization, 0)+"%")
		}
		b.WriteByte('\n')
	}
	for _, rc := range o.Series.Components {
		c := s.Components[rc.Name]
		if c.ColdStarts == nil {
			continue
		}
		if first {
			b.WriteByte('\n')
			first = false
		}
		fmt.Fprintf(&b, "Function %s: %s invocations, %s cold starts (%s), %s throttled", rc.Name, thousands(*c.Invocations), thousands(c.ColdStarts.Count), pct(c.ColdStarts.Fraction), thousands(*c.Throttled))
		if *c.Queued > 0 {
			fmt.Fprintf(&b, ", %s async waited", thousands(*c.Queued))
		}
		fmt.Fprintf(&b, "; init p99 %s ms, invocation p99 %s ms; $%s requests + $%s compute (%s GB-s) + $%s provisioned\n",
			num(c.InitMS.P99), num(c.InvocationMS.P99), f(c.CostSplit.RequestsUSD, 4), f(c.CostSplit.ComputeUSD, 4), num(*c.BilledGBs), f(c.CostSplit.ProvisionedUSD, 4))
	}
	for _, rc := range o.Series.Components {
		c := s.Components[rc.Name]
		if c.Lag == nil {
			continue
		}
		if first {
			b.WriteByte('\n')
			first = false
		}
		fmt.Fprintf(&b, "Queue %s: %s published, %s processed; lag mean %s (max %s, %s at the end); age p99 %s ms; publish → processed p99 %s ms",
			rc.Name, thousands(*c.Published), thousands(*c.Processed), num(c.Lag.Mean), thousands(c.Lag.Max), thousands(c.Lag.Final), num(c.AgeMS.P99), num(c.Latency.P99))
		if *c.Redelivered > 0 || *c.Lost > 0 || c.Rejected > 0 {
			fmt.Fprintf(&b, "; %s redelivered, %s lost, %s rejected (full)", thousands(*c.Redelivered), thousands(*c.Lost), thousands(c.Rejected))
		}
		if c.Rebalances > 0 {
			fmt.Fprintf(&b, "; consumption paused by %s rebalances", thousands(c.Rebalances))
		}
		b.WriteByte('\n')
	}
	for _, tr := range o.Series.Traffic {
		ts := s.Traffic[tr]
		if ts.Corrected == nil {
			continue
		}
		if first {
			b.WriteByte('\n')
			first = false
		}
		fmt.Fprintf(&b, "Closed loop %s: %s VUs; p99 measured %s ms, corrected for coordinated omission %s ms (p50 %s → %s)\n",
			tr, num(ts.VUs), num(ts.Latency.P99), num(ts.Corrected.P99), num(ts.Latency.P50), num(ts.Corrected.P50))
	}
	fmt.Fprintf(&b, "\nCost        $%s total, $%s per hour, $%s per million requests\n", f(s.Cost.TotalUSD, 2), f(s.Cost.PerHourUSD, 2), f(s.Cost.PerMillionRequestsUSD, 2))
	if n := s.Network; n != nil {
		fmt.Fprintf(&b, "Network     %s hops, %s across zones: %s GB", thousands(n.Hops), thousands(n.CrossZoneHops), num(n.CrossZoneGB))
		if n.CrossRegionHops != nil {
			fmt.Fprintf(&b, "; %s across regions: %s GB", thousands(*n.CrossRegionHops), num(*n.CrossRegionGB))
		}
		fmt.Fprintf(&b, "; $%s egress\n", f(n.EgressUSD, 4))
	}
	switch {
	case s.Wasted.Requests > 0:
		fmt.Fprintf(&b, "Wasted      %s cpu-seconds on %s requests that did not succeed\n", num(s.Wasted.CPUS), thousands(s.Wasted.Requests))
	case s.Wasted.CPUS > 0:
		fmt.Fprintf(&b, "Wasted      %s cpu-seconds on work nobody waited for (abandoned calls and parallel branches)\n", num(s.Wasted.CPUS))
	}
	for i, f := range s.Faults {
		label := "Faults     "
		if i > 0 {
			label = "           "
		}
		what := f.Kind + " " + f.Target
		if len(f.Instances) > 0 && f.Kind != "outage" {
			what += fmt.Sprintf(" (instance%s %s)", plural(len(f.Instances)), joinInts(f.Instances))
		}
		verdict := "not recovered by the end of the run: goodput or p99 stayed off their level before it (a metastable failure?)"
		switch {
		case f.Before == nil:
			verdict = "no window before it to compare with"
		case f.Recovered:
			verdict = fmt.Sprintf("recovered %s s after it ended", num(*f.RecoveredAfterS))
		}
		fmt.Fprintf(&b, "%s %s, %s–%s s: %s\n", label, what, num(f.AtS), num(f.EndS), verdict)
	}
	var resil []string
	if s.Retries > 0 {
		resil = append(resil, thousands(s.Retries)+" retry attempts")
	}
	if s.RetriesDenied > 0 {
		resil = append(resil, thousands(s.RetriesDenied)+" retries denied by retry budgets")
	}
	if s.BreakerRejected > 0 {
		resil = append(resil, thousands(s.BreakerRejected)+" attempts rejected by open circuit breakers")
	}
	if len(resil) > 0 {
		fmt.Fprintf(&b, "Resilience  %s\n", strings.Join(resil, "; "))
	}
	if a := s.Async; a != nil {
		fmt.Fprintf(&b, "Async       %s detached requests: %s completed, %s failed, %s in flight; p50 %s ms, p99 %s ms\n",
			thousands(a.Started), thousands(a.Completed), thousands(a.Rejected+a.TimedOut+a.Failed), thousands(a.InFlight), num(a.Latency.P50), num(a.Latency.P99))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// bottleneckLine names the busiest resource, how busy it was and where it
// would saturate.
// splitLine says where the mean latency went, end to end along the path
// each answer took ("" without requests answered ok).
func splitLine(s *experiments.Summary) string {
	p := s.LatencySplit
	if p == nil {
		return ""
	}
	return fmt.Sprintf("waiting %s + cpu %s + network %s + other %s ms, along the path each answer took",
		num(p.Wait), num(p.CPU), num(p.Network), num(p.Other))
}

// slowestLine says where the time of the slowest requests went.
func slowestLine(t *experiments.SlowestSplit) string {
	return fmt.Sprintf("%s of requests (≥ %s ms, mean %s): waiting %s + cpu %s + network %s + other %s ms",
		pct(t.Share), num(t.FromMS), num(t.Mean), num(t.Wait), num(t.CPU), num(t.Network), num(t.Other))
}

func bottleneckLine(s *experiments.Summary) string {
	bn := s.Bottleneck
	offered := float64(s.Requests.Arrived) / s.MeasuredS
	if bn.Saturated {
		per := "per instance"
		if bn.Kind == "database node" {
			per = "at the node"
		}
		return fmt.Sprintf("%s (%s), saturated: %s calls waiting %s on average (its cores %s busy); %s req/s got through of the %s/s offered",
			bn.Name, bn.Kind, num(bn.Waiting), per, f(100*bn.Utilization, 0)+" %", num(bn.CapacityRPS), num(offered))
	}
	line := fmt.Sprintf("%s (%s), %s busy", bn.Name, bn.Kind, f(100*bn.Utilization, 0)+" %")
	if bn.CapacityRPS > 0 {
		line += fmt.Sprintf(": requests would saturate it near %s/s (%s× the %s/s offered)", num(bn.CapacityRPS), f(bn.CapacityRPS/offered, 1), num(offered))
	}
	return line
}

// theoryRow is one component's model beside the simulation.
type theoryRow struct {
	Name, Model, Util, Mean, Verdict string
	OK, Differ                       bool // agree; disagree (a model, and a difference)
}

// theoryRows are queueing theory's answers beside the simulation's for
// every component that is a station: the model, utilisation and mean time
// in it, and whether they agree — within the replications' 95 %
// confidence interval, or within 5 % for a single run — with the likely
// reason when they do not; or why it has no model.
func theoryRows(o *experiments.Outcome) []theoryRow {
	s := o.Summary
	var rows []theoryRow
	for _, sc := range o.Series.Components {
		c := s.Components[sc.Name]
		a := c.Analytic
		if a == nil || a.Reason == "not a queueing station" || a.Reason == "no instances" {
			continue
		}
		if a.Model == "" || a.Model == "unstable" {
			rows = append(rows, theoryRow{Name: sc.Name, Model: "–", Verdict: a.Reason})
			continue
		}
		r := theoryRow{Name: sc.Name, Model: a.Model, Util: "–", Mean: "–"}
		if !a.Exact {
			r.Model += " ≈"
		}
		if c.Utilization != nil && a.Utilization != nil {
			r.Util = pct(*c.Utilization) + " / " + pct(*a.Utilization)
		}
		if a.Latency != nil {
			r.Mean = num(c.Latency.Mean) + " / " + num(a.Latency.Mean)
			r.Verdict, r.OK = agreement(s, sc.Name, c.Latency.Mean, a)
			r.Differ = !r.OK
		} else if len(a.Notes) > 0 {
			r.Verdict = a.Notes[len(a.Notes)-1]
		}
		rows = append(rows, r)
	}
	return rows
}

// theory writes the theory rows as a table.
func theory(b *strings.Builder, o *experiments.Outcome, left func(string) string) {
	rows := theoryRows(o)
	if len(rows) == 0 {
		return
	}
	b.WriteString("\nTheory beside the simulation (queueing models at the mean arrival rates; ≈ an approximation):\n")
	if a := o.Summary.Analytic; a != nil {
		fmt.Fprintf(b, "  requests end to end: mean %s ms simulated, %s ms in theory (an open network of the stations below)\n", num(o.Summary.Latency.Mean), num(a.LatencyMeanMS))
	}
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	// Indented as the other tables, and the verdict last and unpadded (no
	// trailing spaces).
	fmt.Fprintf(tw, "  %s\tmodel\tutil sim / theory\tmean ms sim / theory\n", left("component"))
	for _, r := range rows {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", left(r.Name), r.Model, r.Util, r.Mean, r.Verdict)
	}
	tw.Flush()
}

// agreement says whether a component's simulated mean agrees with its
// model's, and if not, by how much and the likely reason.
func agreement(s *experiments.Summary, name string, simMean float64, a *experiments.AnalyticSummary) (string, bool) {
	theoryMean := a.Latency.Mean
	ok := a.Deviation != nil && math.Abs(*a.Deviation) <= 0.05
	within := "within 5 %"
	if ci, found := s.CI95["components."+name+".latency_ms.mean"]; found {
		ok, within = ci[0] <= theoryMean && theoryMean <= ci[1], "within the 95 % CI"
	}
	if ok {
		return "✔ agree (" + within + ")", true
	}
	dev := 0.0
	if theoryMean > 0 {
		dev = simMean/theoryMean - 1
	}
	why := "a difference to look into: the model or the scenario"
	switch {
	case len(a.Notes) > 0:
		why = a.Notes[len(a.Notes)-1]
	case !a.Exact:
		why = "the model is an approximation"
	}
	return fmt.Sprintf("✘ differ by %+.1f %%: %s", 100*dev, why), false
}

// timeSplit writes where the time of each component's calls went: the
// mean time in the component, split into waiting for a slot, waiting for
// a core, on a core and waiting on calls, and the network hops into it.
func timeSplit(b *strings.Builder, o *experiments.Outcome, left func(string) string) {
	s := o.Summary
	var names []string
	for _, sc := range o.Series.Components {
		if s.Components[sc.Name].TimeSplit != nil {
			names = append(names, sc.Name)
		}
	}
	if len(names) == 0 {
		return
	}
	b.WriteString("\nWhere the time goes, mean ms per call answered:\n")
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
	net := ""
	if s.Network != nil {
		net = "network in\t"
	}
	fmt.Fprintf(tw, "%s\tin component\t= slot wait\t+ core wait\t+ cpu\t+ on calls\t%s\n", left("component"), net)
	for _, name := range names {
		t := s.Components[name].TimeSplit
		in := t.SlotWait + t.CoreWait + t.CPU + t.Waiting
		switch {
		case t.Network != nil:
			net = num(*t.Network) + "\t"
		case s.Network != nil:
			net = "–\t"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", left(name), num(in), num(t.SlotWait), num(t.CoreWait), num(t.CPU), num(t.Waiting), net)
	}
	tw.Flush()
}

// instancesCell describes a component's instances: final×cores, with the
// range when the count changed ("6–20→20×4"), "–" for balancers.
func instancesCell(c experiments.ComponentSummary) string {
	if c.Instances == nil {
		return "–"
	}
	if c.Instances.Min != c.Instances.Max {
		return fmt.Sprintf("%d–%d→%d×%d", c.Instances.Min, c.Instances.Max, c.Instances.Final, c.Cores)
	}
	return fmt.Sprintf("%d×%d", c.Instances.Final, c.Cores)
}

// utilCell is a component's utilisation in percent, "–" where it has none.
func utilCell(c experiments.ComponentSummary) string {
	if c.Utilization == nil {
		return "–"
	}
	return f(100**c.Utilization, 1) + " %"
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func joinInts(xs []int) string {
	var parts []string
	for i, x := range xs {
		if i == 8 {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, fmt.Sprint(x))
	}
	return strings.Join(parts, ", ")
}
