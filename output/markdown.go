package output

import (
	"fmt"
	"io"
	"strings"

	"github.com/capsim/capsim/experiments"
)

// Markdown writes the summary as Markdown, to paste into a design document
// or a pull request: SLO verdicts, the bottleneck, headline numbers, the
// component table and where the time goes.
func Markdown(w io.Writer, o *experiments.Outcome) error {
	s := o.Summary
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\n", s.Scenario)
	if s.Description != "" {
		fmt.Fprintf(&b, "%s\n\n", s.Description)
	}
	fmt.Fprintf(&b, "Simulated %g s (measured %g s), seed %d.\n\n", s.DurationS, s.MeasuredS, s.Seed)
	if len(s.SLO.Checks) > 0 {
		verdict := "met"
		if !s.SLO.Met {
			verdict = "**not met**"
		}
		fmt.Fprintf(&b, "SLO %s.\n\n| objective | measured | limit | |\n|---|---:|---:|---|\n", verdict)
		for _, c := range s.SLO.Checks {
			mark := "✔"
			if !c.Met {
				mark = "✘"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", c.Name, sloValue(c.Unit, c.Value), sloValue(c.Unit, c.Limit), mark)
		}
		b.WriteString("\n")
	}
	if line := splitLine(s); line != "" {
		fmt.Fprintf(&b, "**Mean latency split:** %s.", line)
		if t := s.LatencySplit.Slowest; t != nil {
			fmt.Fprintf(&b, " The slowest %s.", slowestLine(t))
		}
		b.WriteString("\n\n")
	}
	if s.Bottleneck != nil {
		fmt.Fprintf(&b, "**Bottleneck:** %s.\n\n", bottleneckLine(s))
	}
	r, l := s.Requests, s.Latency
	fmt.Fprintf(&b, "| requests | completed | error rate | throughput | p50 | p95 | p99 | p99.9 | cost |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	fmt.Fprintf(&b, "| %s | %s | %s | %s/s | %s ms | %s ms | %s ms | %s ms | $%s |\n\n", thousands(r.Arrived), thousands(r.Completed),
		pct(s.ErrorRate), num(s.Throughput), num(l.P50), num(l.P95), num(l.P99), num(l.P999), f(s.Cost.TotalUSD, 2))
	b.WriteString("| component | kind | instances | utilisation | queue mean / max | req/s | p50 ms | p99 ms | rejected |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, sc := range o.Series.Components {
		name := sc.Name
		c := s.Components[name]
		inst, util := instancesCell(c), utilCell(c)
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s / %s | %s | %s | %s | %s |\n", name, c.Kind, inst, util,
			num(c.Queue.Mean), thousands(c.Queue.Max), num(c.ThroughputRPS), num(c.Latency.P50), num(c.Latency.P99), thousands(c.Rejected))
	}
	var split []string
	for _, sc := range o.Series.Components {
		if t := s.Components[sc.Name].TimeSplit; t != nil {
			row := fmt.Sprintf("| %s | %s | %s | %s | %s | %s |", sc.Name, num(t.SlotWait+t.CoreWait+t.CPU+t.Waiting),
				num(t.SlotWait), num(t.CoreWait), num(t.CPU), num(t.Waiting))
			switch {
			case t.Network != nil:
				row += " " + num(*t.Network) + " |"
			case s.Network != nil:
				row += " – |"
			}
			split = append(split, row)
		}
	}
	if len(split) > 0 {
		head, rule := "| component | in component | slot wait | core wait | cpu | on calls |", "|---|---:|---:|---:|---:|---:|"
		if s.Network != nil {
			head, rule = head+" network in |", rule+"---:|"
		}
		b.WriteString("\nWhere the time goes, mean ms per call answered:\n\n" + head + "\n" + rule + "\n")
		b.WriteString(strings.Join(split, "\n") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
