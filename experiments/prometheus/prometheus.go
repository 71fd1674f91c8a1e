// Package prometheus turns a Prometheus range query's answer — the JSON of
// /api/v1/query_range (https://prometheus.io/docs/prometheus/latest/querying/api/#range-queries),
// a request-rate query such as sum(rate(http_requests_total[1m])) — into
// a per-window counts trace and the [traffic] table that replays it, so
// that production's recorded traffic drives a scenario's autoscalers
// ("what would this HPA have done last Black Friday").
package prometheus

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Options say how to read the answer.
type Options struct {
	// Match keeps only the series with these labels (label=value); the
	// kept series are summed.
	Match []string
	// Counts says the values are already requests per step (an
	// increase() query), not per second (rate(), the default).
	Counts bool
	// ZeroGaps fills the steps a series leaves out with 0 instead of
	// refusing them (Prometheus omits steps without data).
	ZeroGaps bool
	// Source names the traffic table (default "prometheus"); Trace is the
	// counts file's name the table refers to.
	Source, Trace string
}

// Result is an imported series.
type Result struct {
	Step   time.Duration
	Start  time.Time
	Counts []int64 // requests per step, rounded with the remainder carried
	Series int     // series summed
	Peak   float64 // per second
	PeakAt time.Time
	Mean   float64 // per second
}

type response struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string    `json:"metric"`
			Values [][2]json.RawMessage `json:"values"`
		} `json:"result"`
	} `json:"data"`
}

// maxPoints bounds one answer (Prometheus itself refuses more than 11,000
// points a series).
const maxPoints = 1_000_000

// Read parses a query_range answer into counts per step.
func Read(name string, data []byte, opts Options) (*Result, error) {
	var r response
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%s: not a Prometheus API answer: %v", name, err)
	}
	switch {
	case r.Status == "error":
		return nil, fmt.Errorf("%s: Prometheus answered with an error (%s): %s", name, r.ErrorType, r.Error)
	case r.Status != "success":
		return nil, fmt.Errorf("%s: status %q: want a Prometheus /api/v1/query_range answer ({\"status\": \"success\", \"data\": {\"resultType\": \"matrix\", …}})", name, r.Status)
	case r.Data.ResultType != "matrix":
		return nil, fmt.Errorf("%s: resultType %q: want \"matrix\", the answer of a range query (/api/v1/query_range with start, end and step), not an instant query", name, r.Data.ResultType)
	}
	match := map[string]string{}
	for _, m := range opts.Match {
		k, v, ok := strings.Cut(m, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--metric %q: want label=value", m)
		}
		match[k] = strings.Trim(v, `"`)
	}
	type point struct {
		t int64 // ms since the epoch
		v float64
	}
	var kept [][]point
	var labels []string
	total := 0
	for _, s := range r.Data.Result {
		ok := true
		for k, v := range match {
			ok = ok && s.Metric[k] == v
		}
		if !ok {
			continue
		}
		id := seriesName(s.Metric)
		var pts []point
		for i, pv := range s.Values {
			total++
			if total > maxPoints {
				return nil, fmt.Errorf("%s: more than %d points: not one query's answer", name, maxPoints)
			}
			var ts float64
			var vs string
			if err := json.Unmarshal(pv[0], &ts); err != nil || math.IsNaN(ts) || ts < 0 {
				return nil, fmt.Errorf("%s: series %s, point %d: time %s: want Unix seconds", name, id, i, pv[0])
			}
			if err := json.Unmarshal(pv[1], &vs); err != nil {
				return nil, fmt.Errorf("%s: series %s, point %d: value %s: want a number as a string, as Prometheus writes it", name, id, i, pv[1])
			}
			v, err := strconv.ParseFloat(vs, 64)
			at := time.UnixMilli(int64(math.Round(ts * 1000))).UTC().Format(time.RFC3339)
			switch {
			case err != nil:
				return nil, fmt.Errorf("%s: series %s at %s: value %q is not a number", name, id, at, vs)
			case math.IsNaN(v) || math.IsInf(v, 0):
				return nil, fmt.Errorf("%s: series %s at %s: value %s: a request rate must be a finite number (a rate over a range shorter than two scrapes is NaN: widen [1m])", name, id, at, vs)
			case v < 0:
				return nil, fmt.Errorf("%s: series %s at %s: value %v is negative: not a request rate", name, id, at, v)
			}
			pts = append(pts, point{int64(math.Round(ts * 1000)), v})
		}
		if len(pts) > 0 {
			kept = append(kept, pts)
			labels = append(labels, id)
		}
	}
	if len(kept) == 0 {
		if len(match) > 0 {
			return nil, fmt.Errorf("%s: no series has the labels %s (%d series in the answer)", name, strings.Join(opts.Match, ", "), len(r.Data.Result))
		}
		return nil, fmt.Errorf("%s: the answer holds no series: did the query match nothing?", name)
	}
	// The step: the smallest gap between a series' points.
	var step int64
	for _, pts := range kept {
		for i := 1; i < len(pts); i++ {
			d := pts[i].t - pts[i-1].t
			if d <= 0 {
				return nil, fmt.Errorf("%s: series %s: points not in time order at %s", name, labels[0], time.UnixMilli(pts[i].t).UTC().Format(time.RFC3339))
			}
			if step == 0 || d < step {
				step = d
			}
		}
	}
	if step == 0 {
		return nil, fmt.Errorf("%s: a single point: no step to replay (query a range: start < end)", name)
	}
	first, last := kept[0][0].t, kept[0][len(kept[0])-1].t
	for _, pts := range kept {
		first, last = min(first, pts[0].t), max(last, pts[len(pts)-1].t)
	}
	n := (last-first)/step + 1
	if n > maxPoints {
		return nil, fmt.Errorf("%s: %d steps of %v: too long to replay", name, n, time.Duration(step)*time.Millisecond)
	}
	sum := make([]float64, n)
	for si, pts := range kept {
		prev := first - step
		for i, p := range pts {
			if (p.t-first)%step != 0 {
				return nil, fmt.Errorf("%s: series %s: point at %s is off the %v grid of the others", name, labels[si], time.UnixMilli(p.t).UTC().Format(time.RFC3339), time.Duration(step)*time.Millisecond)
			}
			if i > 0 && p.t-prev > step && !opts.ZeroGaps {
				missing := (p.t-prev)/step - 1
				return nil, fmt.Errorf("%s: series %s: no point from %s to %s (%d steps): Prometheus leaves out steps without data; fill them in the query (… or vector(0)) or pass --gaps zero",
					name, labels[si], time.UnixMilli(prev).UTC().Format(time.RFC3339), time.UnixMilli(p.t).UTC().Format(time.RFC3339), missing)
			}
			sum[(p.t-first)/step] += p.v
			prev = p.t
		}
	}
	res := &Result{Step: time.Duration(step) * time.Millisecond, Start: time.UnixMilli(first).UTC(), Series: len(kept)}
	perStep := res.Step.Seconds()
	carry, totalReq := 0.0, 0.0
	for i, v := range sum {
		rate := v
		if opts.Counts {
			rate = v / perStep
		}
		if rate > res.Peak {
			res.Peak, res.PeakAt = rate, res.Start.Add(time.Duration(i)*res.Step)
		}
		x := rate*perStep + carry
		c := int64(math.Floor(x + 1e-9))
		carry = x - float64(c)
		res.Counts = append(res.Counts, c)
		totalReq += rate * perStep
	}
	res.Mean = totalReq / (float64(n) * perStep)
	return res, nil
}

// seriesName writes a series' labels as Prometheus does: {a="1",b="2"}.
func seriesName(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%q", k, m[k]))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// CSV is the counts trace: the window's start (seconds since the first
// window's, Start, which the [traffic] table's comment gives) and its
// requests.
func (r *Result) CSV() []byte {
	var b bytes.Buffer
	b.WriteString("timestamp_s,requests\n")
	for i, c := range r.Counts {
		fmt.Fprintf(&b, "%s,%d\n", strconv.FormatFloat((time.Duration(i)*r.Step).Seconds(), 'f', -1, 64), c)
	}
	return b.Bytes()
}

// Traffic is the [traffic] table that replays the counts trace.
func (r *Result) Traffic(name string, opts Options) []byte {
	src := opts.Source
	if src == "" {
		src = "prometheus"
	}
	var b bytes.Buffer
	end := r.Start.Add(time.Duration(len(r.Counts)) * r.Step)
	fmt.Fprintf(&b, "# Imported from Prometheus (%s) by capsim import prometheus: %d windows of %v from\n", name, len(r.Counts), r.Step)
	fmt.Fprintf(&b, "# %s to %s, the sum of %d series; mean %.4g requests/s, peak %.4g/s at %s.\n",
		r.Start.Format(time.RFC3339), end.Format(time.RFC3339), r.Series, r.Mean, r.Peak, r.PeakAt.Format(time.RFC3339))
	fmt.Fprintf(&b, "# A run of run.duration = %q replays all of it. Point `to` at the component\n# that receives the traffic (a balancer or a service).\n", durationString(end.Sub(r.Start)))
	fmt.Fprintf(&b, "[traffic.%s]\nto = \"CHANGE_ME\"\ntrace = %q\nformat = \"counts\"\ninterval = %q\n", src, opts.Trace, durationString(r.Step))
	b.WriteString("arrivals = \"uniform\"   # each window's count exactly, evenly spread (\"poisson\": random at the same rate)\n")
	return b.Bytes()
}

func durationString(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return d.String()
}
