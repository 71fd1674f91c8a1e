package output

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"

	"github.com/capsim/capsim/experiments"
)

// HTML renders report.html: self-contained (styles inline, charts as inline
// SVG, nothing loaded from anywhere), readable on a laptop and printable.
func HTML(o *experiments.Outcome, charts []Chart, scenarioSource []byte) ([]byte, error) {
	s := o.Summary
	type figure struct {
		Title string
		SVG   template.HTML
	}
	var figs []figure
	for _, c := range charts {
		svg, err := Render(c, "svg")
		if err != nil {
			return nil, err
		}
		figs = append(figs, figure{Title: c.Title, SVG: template.HTML(inlineSVG(svg))})
	}
	var text bytes.Buffer
	if err := Text(&text, o); err != nil {
		return nil, err
	}
	type row struct {
		Name, Kind, Instances, Util, Queue, RPS, P50, P99, Rejected, Cost, Extra string
	}
	var rows []row
	for _, sc := range o.Series.Components {
		name := sc.Name
		c := s.Components[name]
		r := row{Name: name, Kind: c.Kind, Instances: instancesCell(c), Util: utilCell(c),
			Queue: num(c.Queue.Mean) + " / " + thousands(c.Queue.Max), RPS: num(c.ThroughputRPS),
			P50: num(c.Latency.P50), P99: num(c.Latency.P99), Rejected: thousands(c.Rejected), Cost: f(c.CostUSD, 2)}
		if c.Instances != nil && c.Instances.Min != c.Instances.Max {
			r.Instances += " (mean " + num(c.Instances.Mean) + ")"
		}
		var extra []string
		if c.HitRatio != nil {
			extra = append(extra, "hit ratio "+pct(*c.HitRatio))
		}
		if c.StaleReads != nil {
			extra = append(extra, "stale reads "+pct(*c.StaleReads))
		}
		if c.ScaleEvents > 0 {
			extra = append(extra, fmt.Sprintf("%d scale events, %d reversals", c.ScaleEvents, c.Reversals))
		}
		r.Extra = strings.Join(extra, "; ")
		rows = append(rows, r)
	}
	splits := splitRows(o)
	decisions := o.Series.Decisions
	more := 0
	if len(decisions) > 200 {
		more = len(decisions) - 200
		decisions = decisions[:200]
	}
	var b bytes.Buffer
	err := reportTemplate.Execute(&b, map[string]any{
		"S": s, "Figures": figs, "Rows": rows, "Splits": splits, "Theory": theoryRows(o), "Bottleneck": bottleneckText(s), "Split": splitLine(s), "Slowest": slowestText(s), "Decisions": decisions, "MoreDecisions": more,
		"Text": text.String(), "Source": string(scenarioSource),
	})
	return b.Bytes(), err
}

// bottleneckText is the bottleneck line of the text summary, or "".
// slowestText is the slowest requests' split, or "".
func slowestText(s *experiments.Summary) string {
	if s.LatencySplit == nil || s.LatencySplit.Slowest == nil {
		return ""
	}
	return slowestLine(s.LatencySplit.Slowest)
}

func bottleneckText(s *experiments.Summary) string {
	if s.Bottleneck == nil {
		return ""
	}
	return bottleneckLine(s)
}

// splitPart is one segment of a "where the time goes" bar.
type splitPart struct {
	Class, Label string
	MS, Width    float64 // width: percent of the longest bar
}

// splitRow is one component's "where the time goes" bar.
type splitRow struct {
	Name  string
	InMS  float64
	Parts []splitPart
}

// splitRows lays out the components' time splits as bars on one scale:
// the longest (time in the component plus the network into it) fills the
// width.
func splitRows(o *experiments.Outcome) []splitRow {
	var rows []splitRow
	longest := 0.0
	for _, sc := range o.Series.Components {
		t := o.Summary.Components[sc.Name].TimeSplit
		if t == nil {
			continue
		}
		r := splitRow{Name: sc.Name, InMS: t.SlotWait + t.CoreWait + t.CPU + t.Waiting}
		for _, p := range []splitPart{
			{Class: "slot", Label: "waiting for a slot", MS: t.SlotWait},
			{Class: "core", Label: "waiting for a core", MS: t.CoreWait},
			{Class: "cpu", Label: "on a core", MS: t.CPU},
			{Class: "calls", Label: "waiting on calls", MS: t.Waiting},
		} {
			r.Parts = append(r.Parts, p)
		}
		total := r.InMS
		if t.Network != nil {
			r.Parts = append(r.Parts, splitPart{Class: "net", Label: "network hops into it", MS: *t.Network})
			total += *t.Network
		}
		longest = max(longest, total)
		rows = append(rows, r)
	}
	for i := range rows {
		for j := range rows[i].Parts {
			p := &rows[i].Parts[j]
			if longest > 0 && p.MS > 0 {
				p.Width = 100 * p.MS / longest
			}
		}
	}
	return rows
}

// inlineSVG drops the XML prolog of a standalone SVG and lets it scale.
func inlineSVG(svg []byte) string {
	s := string(svg)
	if i := strings.Index(s, "<svg"); i > 0 {
		s = s[i:]
	}
	return strings.Replace(s, "<svg ", `<svg role="img" preserveAspectRatio="xMinYMin meet" `, 1)
}

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct": pct, "num": num, "sloValue": sloValue,
	"thousandsEvents": func(x any) string {
		switch v := x.(type) {
		case int64:
			return thousands(v)
		case uint64:
			return thousands(int64(v))
		case int:
			return thousands(int64(v))
		}
		return fmt.Sprint(x)
	},
	"seconds": num,
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.S.Scenario}} — capsim report</title>
<style>
:root { --ok: #007a3d; --bad: #b00020; --ink: #1d1d1f; --muted: #5f6368; --line: #dadce0; }
* { box-sizing: border-box; }
body { font: 15px/1.45 -apple-system, "Segoe UI", Roboto, "Liberation Sans", Arial, sans-serif; color: var(--ink); margin: 0 auto; max-width: 1100px; padding: 24px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.meta, figcaption { color: var(--muted); font-size: 13px; }
.verdict { display: inline-block; padding: 6px 14px; border-radius: 6px; color: #fff; font-weight: 600; margin: 12px 0 8px; }
.verdict.ok { background: var(--ok); color: #fff; } .verdict.bad { background: var(--bad); color: #fff; }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; }
th, td { text-align: right; padding: 5px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th:first-child, td:first-child, td.l, th.l { text-align: left; }
td.l { white-space: normal; }
.ok { color: var(--ok); } .bad { color: var(--bad); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 10px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.card b { display: block; font-size: 20px; }
.card span { color: var(--muted); font-size: 12.5px; }
figure { margin: 0 0 18px; break-inside: avoid; }
figure svg { width: 100%; height: auto; display: block; }
.split td.bar { width: 60%; }
.bar div { display: flex; height: 16px; }
.bar span, .key span { display: inline-block; height: 16px; }
.key span { width: 12px; height: 12px; margin: 0 4px 0 14px; vertical-align: -1px; }
.slot { background: #E69F00; } .core { background: #D55E00; } .cpu { background: #0072B2; } .calls { background: #56B4E9; }
.net { background: repeating-linear-gradient(45deg, #CC79A7 0 4px, #e8b9d3 4px 8px); }
pre { background: #f6f8fa; border: 1px solid var(--line); border-radius: 6px; padding: 12px; overflow-x: auto; font-size: 12px; white-space: pre-wrap; overflow-wrap: anywhere; }
.bottleneck { font-size: 15px; margin: 10px 0 0; }
@media print { body { max-width: none; padding: 0; font-size: 12px; } h2 { break-after: avoid; } pre { white-space: pre-wrap; } }
</style>
</head>
<body>
<header>
<h1>{{.S.Scenario}}</h1>
{{with .S.Description}}<p>{{.}}</p>{{end}}
<p class="meta">Simulated {{num .S.DurationS}} s (measured {{num .S.MeasuredS}} s), seed {{.S.Seed}}, {{thousandsEvents .S.Events}} events — a capsim report.</p>
</header>

<section>
<h2>Service-level objectives</h2>
{{if .S.SLO.Checks}}
<div class="verdict {{if .S.SLO.Met}}ok{{else}}bad{{end}}">SLO {{if .S.SLO.Met}}met{{else}}not met{{end}}</div>
<table>
<tr><th class="l">objective</th><th>measured</th><th>limit</th><th></th></tr>
{{range .S.SLO.Checks}}<tr><td>{{.Name}}</td>
<td>{{sloValue .Unit .Value}}</td>
<td>{{sloValue .Unit .Limit}}</td>
<td class="{{if .Met}}ok{{else}}bad{{end}}">{{if .Met}}✔ met{{else}}✘ not met{{end}}</td></tr>
{{end}}</table>
{{else}}<p class="meta">The scenario sets no [slo].</p>{{end}}
{{with .Split}}<p class="bottleneck"><b>Mean latency split:</b> {{.}}.{{with $.Slowest}} The slowest {{.}}.{{end}}</p>{{end}}
{{with .Bottleneck}}<p class="bottleneck"><b>Bottleneck:</b> {{.}}</p>{{end}}
</section>

<section>
<h2>Headline numbers</h2>
<div class="cards">
<div class="card"><b>{{thousandsEvents .S.Requests.Arrived}}</b><span>requests arrived</span></div>
<div class="card"><b>{{num .S.Throughput}}/s</b><span>completed throughput</span></div>
<div class="card"><b>{{pct .S.ErrorRate}}</b><span>error rate ({{thousandsEvents .S.Requests.Rejected}} rejected, {{thousandsEvents .S.Requests.TimedOut}} timed out)</span></div>
<div class="card"><b>{{num .S.Latency.P50}} ms</b><span>p50 latency</span></div>
<div class="card"><b>{{num .S.Latency.P99}} ms</b><span>p99 latency (p99.9 {{num .S.Latency.P999}}, max {{num .S.Latency.Max}})</span></div>
<div class="card"><b>${{printf "%.2f" .S.Cost.TotalUSD}}</b><span>cost (${{printf "%.2f" .S.Cost.PerHourUSD}}/h, ${{printf "%.2f" .S.Cost.PerMillionRequestsUSD}} per million)</span></div>
</div>
</section>

<section>
<h2>Over time</h2>
{{range .Figures}}<figure aria-label="{{.Title}}">{{.SVG}}</figure>
{{end}}
</section>

<section>
<h2>Components</h2>
<table>
<tr><th class="l">component</th><th>kind</th><th>instances</th><th>utilisation</th><th>queue mean / max</th><th>req/s</th><th>p50 ms</th><th>p99 ms</th><th>rejected</th><th>cost $</th><th class="l">notes</th></tr>
{{range .Rows}}<tr><td>{{.Name}}</td><td>{{.Kind}}</td><td>{{.Instances}}</td><td>{{.Util}}</td><td>{{.Queue}}</td><td>{{.RPS}}</td><td>{{.P50}}</td><td>{{.P99}}</td><td>{{.Rejected}}</td><td>{{.Cost}}</td><td class="l">{{.Extra}}</td></tr>
{{end}}</table>
</section>

{{if .Splits}}<section>
<h2>Where the time goes</h2>
<p class="meta">Mean milliseconds per call answered, in each component: <span class="key"><span class="slot"></span>waiting for a slot (a function: its cold start)<span class="core"></span>waiting for a core<span class="cpu"></span>on a core<span class="calls"></span>waiting on calls, sleeps and retries<span class="net"></span>network hops into it</span></p>
<table class="split">
<tr><th class="l">component</th><th>ms in it</th><th class="l">split</th></tr>
{{range .Splits}}<tr><td>{{.Name}}</td><td>{{num .InMS}}</td><td class="bar"><div>{{range .Parts}}{{if .Width}}<span class="{{.Class}}" style="width: {{printf "%.2f" .Width}}%" title="{{.Label}}: {{num .MS}} ms"></span>{{end}}{{end}}</div></td></tr>
{{end}}</table>
</section>{{end}}

{{if .Theory}}<section>
<h2>Theory beside the simulation</h2>
<p class="meta">Each component whose work reduces to a queueing station, modelled at the mean arrival rates it saw (≈: an approximation); a difference flags a modelling question to look into.</p>
{{with .S.Analytic}}<p>Requests end to end: mean {{num $.S.Latency.Mean}} ms simulated, {{num .LatencyMeanMS}} ms in theory (an open network of the stations below).</p>{{end}}
<table>
<tr><th class="l">component</th><th class="l">model</th><th>utilisation sim / theory</th><th>mean ms sim / theory</th><th class="l"></th></tr>
{{range .Theory}}<tr><td>{{.Name}}</td><td class="l">{{.Model}}</td><td>{{.Util}}</td><td>{{.Mean}}</td><td class="l {{if .OK}}ok{{else if .Differ}}bad{{end}}">{{.Verdict}}</td></tr>
{{end}}</table>
</section>{{end}}

{{if .Decisions}}<section>
<h2>Autoscaler decisions</h2>
<p class="meta">The timeline at the top of the charts marks each decision that changed a fleet on their time axis (▲ scale-out, ▼ scale-in).</p>
<table>
<tr><th>t (s)</th><th class="l">component</th><th class="l">policy</th><th>from</th><th>to</th><th class="l">reason</th></tr>
{{range .Decisions}}<tr><td>{{seconds .AtS}}</td><td class="l">{{.Component}}</td><td class="l">{{.Policy}}</td><td>{{.From}}</td><td>{{.To}}</td><td class="l">{{.Reason}}</td></tr>
{{end}}</table>
{{if .MoreDecisions}}<p class="meta">… and {{.MoreDecisions}} more in decisions.csv.</p>{{end}}
</section>{{end}}

<section>
<h2>Summary as text</h2>
<pre>{{.Text}}</pre>
</section>

<section>
<h2>Scenario</h2>
<pre>{{.Source}}</pre>
</section>
</body>
</html>
`))
