package measure

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
)

// k6 end-of-test summaries: the file `k6 run --summary-export` writes
// (https://grafana.com/docs/k6/latest/results-output/end-of-test/ —
// metrics by name, trend statistics "avg", "min", "med", "max", "p(N)"
// in --summary-time-unit, ms by default; rate metrics "passes" (non-zero
// samples: failed requests for http_req_failed), "fails" and "value";
// counters "count" and "rate" per second of the whole test), and the
// JSON handleSummary receives (the same statistics under "values", the
// run's length in state.testRunDurationMs). A tagged sub-metric is
// keyed `name{tag:value}`.

func readK6Summary(r io.Reader, opts Options) (*Measurement, error) {
	var doc struct {
		Metrics map[string]map[string]json.RawMessage `json:"metrics"`
		State   struct {
			TestRunDurationMs float64 `json:"testRunDurationMs"`
		} `json:"state"`
	}
	dec := json.NewDecoder(io.LimitReader(r, 256<<20))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("not a k6 summary: %v", jsonErr(err))
	}
	unit := 1.0
	switch opts.SummaryTimeUnit {
	case "", "ms":
	case "s":
		unit = 1000
	case "us", "µs":
		unit = 0.001
	default:
		return nil, fmt.Errorf("summary time unit %q: want s, ms or us (k6's --summary-time-unit)", opts.SummaryTimeUnit)
	}
	stats := func(name string) (map[string]float64, bool, error) {
		raw, ok := doc.Metrics[name]
		if !ok {
			return nil, false, nil
		}
		if v, ok := raw["values"]; ok { // handleSummary's layout
			var inner map[string]json.RawMessage
			if err := json.Unmarshal(v, &inner); err != nil {
				return nil, false, fmt.Errorf("metric %s: values: %v", name, err)
			}
			raw = inner
		}
		out := map[string]float64{}
		for k, v := range raw {
			if k == "thresholds" || k == "type" || k == "contains" {
				continue
			}
			var x float64
			if err := json.Unmarshal(v, &x); err != nil {
				return nil, false, fmt.Errorf("metric %s: %s is %s, not a number", name, k, excerpt(v))
			}
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, false, fmt.Errorf("metric %s: %s is not a finite number", name, k)
			}
			out[k] = x
		}
		return out, true, nil
	}
	sub := func(name string) string {
		if opts.Tag == "" {
			return name
		}
		return name + "{" + opts.Tag + "}"
	}
	m := &Measurement{}
	reqs, ok, err := stats(sub("http_reqs"))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("no metric %s in the summary%s", sub("http_reqs"), available(doc.Metrics, opts.Tag))
	}
	m.Total = Scope{Name: "total", Requests: int64(math.Round(reqs["count"]))}
	if failed, ok, err := stats(sub("http_req_failed")); err != nil {
		return nil, err
	} else if ok {
		m.Total.Failed = int64(math.Round(failed["passes"]))
	} else {
		m.Notes = append(m.Notes, "no "+sub("http_req_failed")+" in the summary: failures taken as 0")
	}
	durName := sub("http_req_duration")
	if opts.Tag == "" {
		if _, ok := doc.Metrics["http_req_duration{expected_response:true}"]; ok {
			durName = "http_req_duration{expected_response:true}"
		}
	}
	d, ok, err := stats(durName)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("no metric %s in the summary%s", durName, available(doc.Metrics, opts.Tag))
	}
	m.Total.LatencyIncludesFailed = !strings.Contains(durName, "expected_response:true") && m.Total.Failed > 0
	st := Stats{N: m.Total.Requests - m.Total.Failed, Has: map[string]bool{}}
	for _, f := range []struct {
		key  string
		keys []string
		dst  *float64
	}{{"mean", []string{"avg"}, &st.Mean}, {"p50", []string{"med", "p(50)"}, &st.P50}, {"p90", []string{"p(90)"}, &st.P90},
		{"p95", []string{"p(95)"}, &st.P95}, {"p99", []string{"p(99)"}, &st.P99}, {"max", []string{"max"}, &st.Max}} {
		for _, k := range f.keys {
			if x, ok := d[k]; ok {
				*f.dst, st.Has[f.key] = x*unit, true
				break
			}
		}
	}
	if !st.Has["p99"] {
		m.Notes = append(m.Notes, `the summary has no p(99): run k6 with --summary-trend-stats "avg,min,med,max,p(90),p(95),p(99)"`)
	}
	lo := map[string]float64{}
	if x, ok := d["min"]; ok {
		lo["min"] = x * unit
	}
	if err := checkTrend(durName, lo, st); err != nil {
		return nil, err
	}
	m.Total.Latency = st
	switch {
	case opts.Tag != "":
		m.Notes = append(m.Notes, "k6 gives a tagged sub-metric's rate over the whole test, not its phase: the span is the scenario's measured time")
	case doc.State.TestRunDurationMs > 0:
		m.SpanS = doc.State.TestRunDurationMs / 1000
	case reqs["rate"] > 0:
		m.SpanS = reqs["count"] / reqs["rate"]
	}
	return m, nil
}

// checkTrend refuses statistics that cannot be one trend's, or that are
// implausible in the unit they were read in.
func checkTrend(name string, raw map[string]float64, st Stats) error {
	order := []struct {
		key string
		v   float64
	}{{"p50", st.P50}, {"p90", st.P90}, {"p95", st.P95}, {"p99", st.P99}, {"max", st.Max}}
	prev, prevKey := math.Inf(-1), ""
	if lo, ok := raw["min"]; ok {
		prev, prevKey = lo, "min"
	}
	for _, o := range order {
		if !st.Has[o.key] {
			continue
		}
		if o.v < 0 {
			return fmt.Errorf("metric %s: %s %v is negative", name, o.key, o.v)
		}
		if o.v < prev-1e-9*math.Abs(prev) {
			return fmt.Errorf("metric %s: %s %v is below %s %v: not one trend's statistics", name, o.key, o.v, prevKey, prev)
		}
		prev, prevKey = o.v, o.key
	}
	if st.Has["mean"] && st.Has["max"] && st.Mean > st.Max*(1+1e-9) {
		return fmt.Errorf("metric %s: avg %v is above max %v", name, st.Mean, st.Max)
	}
	if st.Has["p50"] && st.N > 0 && (st.P50 > 3_600_000 || st.P50 > 0 && st.P50 < 0.02) {
		return fmt.Errorf("metric %s: a median of %v ms is implausible for an HTTP request: were the times exported in another unit? Say which with --summary-time-unit s|ms|us", name, st.P50)
	}
	return nil
}

// available lists the summary's http_req_duration metrics, for an error.
func available(metrics map[string]map[string]json.RawMessage, tag string) string {
	var names []string
	for k := range metrics {
		if strings.HasPrefix(k, "http_req_duration") || strings.HasPrefix(k, "http_reqs") {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return " (it has no HTTP metrics: was the test an HTTP test?)"
	}
	hint := ""
	if tag != "" {
		hint = "; k6 writes a tagged sub-metric only when a threshold names it"
	}
	return fmt.Sprintf(" (it has %s%s)", strings.Join(names, ", "), hint)
}

func jsonErr(err error) string {
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		return "the file ends in the middle of the JSON (truncated?)"
	}
	return err.Error()
}

func sortStrings(s []string) { sort.Strings(s) }
