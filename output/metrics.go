package output

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/capsim/capsim/experiments"
)

// DefaultMetricsStart is where metrics.om puts simulated time 0 unless told
// otherwise: a fixed instant, so that the same run gives the same bytes.
var DefaultMetricsStart = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// metricFamily is one metric of metrics.om and the timeseries.csv columns
// that are its series.
type metricFamily struct {
	name, help string
	series     []metricSeries
}

type metricSeries struct {
	labels string // {component="web",...} without the scenario label
	col    int
}

// globalMetrics maps timeseries.csv's run-wide columns to metrics.
var globalMetrics = map[string]struct{ name, labels, help string }{
	"arrivals_rps":  {"capsim_arrivals_rps", "", "Requests arriving per second in the window."},
	"completed_rps": {"capsim_completed_rps", "", "Requests completed per second in the window."},
	"errors_rps":    {"capsim_errors_rps", "", "Requests that failed (rejected, timed out, error) per second in the window."},
	"retries_rps":   {"capsim_retries_rps", "", "Retry attempts of call steps per second in the window."},
	"p50_ms":        {"capsim_latency_ms", `percentile="50"`, "Latency of the requests completed in the window, in milliseconds, by percentile."},
	"p95_ms":        {"capsim_latency_ms", `percentile="95"`, ""},
	"p99_ms":        {"capsim_latency_ms", `percentile="99"`, ""},
	"in_flight":     {"capsim_in_flight", "", "Requests in the system, time-averaged over the window."},
	"cost_usd":      {"capsim_cost_usd", "", "Cost so far at the window's end, in US dollars."},
}

// componentMetrics maps timeseries.csv's per-component columns (NAME.col).
var componentMetrics = map[string]struct{ name, labels, help string }{
	"instances":   {"capsim_component_instances", "", "Instances asked for at the window's end."},
	"utilization": {"capsim_component_utilization", "", "Busy cores over the cores of ready instances, time-averaged over the window (0 to 1)."},
	"queue":       {"capsim_component_queue", "", "Calls waiting for a slot or a core, time-averaged over the window."},
	"p99_ms":      {"capsim_component_latency_ms", `percentile="99"`, "Latency of the component's calls answered in the window, in milliseconds, by percentile."},
	"rejected":    {"capsim_component_rejected", "", "Calls the component rejected in the window."},
	"hit_ratio":   {"capsim_component_hit_ratio", "", "Cache hits over lookups in the window (0 to 1)."},
	"cold_starts": {"capsim_component_cold_starts", "", "Function environments started in the window."},
	"lag":         {"capsim_component_lag", "", "Queue messages waiting, time-averaged over the window."},
	"age_p99_ms":  {"capsim_component_message_age_ms", `percentile="99"`, "Queue message age at consumption, in milliseconds, by percentile."},
}

// OpenMetrics renders metrics.om: every column of timeseries.csv as a
// capsim_… gauge — run-wide ones unlabelled, a component's with
// component="NAME", a database node's with node="s0.replica1", latency
// percentiles with percentile="99" — each labelled scenario="NAME", one
// sample per window timestamped at the window's end, simulated time 0
// being start; and capsim_capacity_rps, the load chart's capacity line. It ends in "# EOF", as promtool tsdb
// create-blocks-from openmetrics wants. The values are timeseries.csv's,
// digit for digit; empty cells (a window without a cache lookup) have no
// sample.
func OpenMetrics(o *experiments.Outcome, start time.Time) ([]byte, error) {
	table, err := csv.NewReader(bytes.NewReader(TimeseriesCSV(o))).ReadAll()
	if err != nil {
		return nil, err
	}
	head, rows := table[0], table[1:]
	families := map[string]*metricFamily{}
	var order []string
	add := func(name, help, labels string, col int) {
		f := families[name]
		if f == nil {
			f = &metricFamily{name: name}
			families[name] = f
			order = append(order, name)
		}
		if help != "" {
			f.help = help
		}
		f.series = append(f.series, metricSeries{labels: labels, col: col})
	}
	for col, h := range head {
		if col == 0 {
			continue // t_s
		}
		if m, ok := globalMetrics[h]; ok {
			add(m.name, m.help, m.labels, col)
			continue
		}
		comp, field, ok := strings.Cut(h, ".")
		if !ok {
			return nil, fmt.Errorf("metrics: no metric for column %q", h)
		}
		if node, f, isNode := cutLast(field); isNode && f == "utilization" && strings.Contains(node, ".") {
			add("capsim_node_utilization", "A database node's busy cores over its cores, time-averaged over the window (0 to 1).",
				label("component", comp)+","+label("node", node), col)
			continue
		}
		m, ok := componentMetrics[field]
		if !ok {
			return nil, fmt.Errorf("metrics: no metric for column %q", h)
		}
		labels := label("component", comp)
		if m.labels != "" {
			labels += "," + m.labels
		}
		add(m.name, m.help, labels, col)
	}
	// Beyond the table: the capacity of the busiest path (the load chart's
	// line).
	capacity := map[int][]string{}
	if _, y := pathCapacity(o); y != nil {
		col := len(head)
		vals := make([]string, len(y))
		for i, v := range y {
			if v == v { // not NaN
				vals[i] = f(v, 3)
			}
		}
		capacity[col] = vals
		add("capsim_capacity_rps", "The arrival rate at which the busiest path would saturate, with the instances ready in the window.", "", col)
	}
	sort.Strings(order)
	scenario := label("scenario", o.Summary.Scenario)
	var b bytes.Buffer
	for _, name := range order {
		f := families[name]
		fmt.Fprintf(&b, "# TYPE %s gauge\n# HELP %s %s\n", name, name, f.help)
		for _, s := range f.series {
			labels := scenario
			if s.labels != "" {
				labels += "," + s.labels
			}
			for i, row := range rows {
				var v string
				if extra, ok := capacity[s.col]; ok {
					v = extra[i]
				} else {
					v = row[s.col]
				}
				if v == "" {
					continue
				}
				w := o.Series.Windows[i]
				at := start.Add(time.Duration((w.StartS + w.LengthS) * float64(time.Second)))
				fmt.Fprintf(&b, "%s{%s} %s %s\n", name, labels, v, strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', -1, 64))
			}
		}
	}
	b.WriteString("# EOF\n")
	return b.Bytes(), nil
}

// cutLast splits s at its last dot.
func cutLast(s string) (before, after string, ok bool) {
	i := strings.LastIndexByte(s, '.')
	if i < 0 {
		return "", s, false
	}
	return s[:i], s[i+1:], true
}

// label writes name="value" with value escaped as OpenMetrics wants.
func label(name, value string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return name + `="` + r.Replace(value) + `"`
}
