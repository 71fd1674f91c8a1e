package fit

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/capsim/capsim/experiments"
	"github.com/capsim/capsim/experiments/measure"
	"github.com/capsim/capsim/experiments/scenario"
	"github.com/capsim/capsim/model"
	"github.com/capsim/capsim/sim"
)

// DefaultTolerance is the largest relative error a fit accepts unless
// told otherwise.
const DefaultTolerance = 0.10

// errorRateFloor: an error rate's error is relative to the measured rate
// or to 1 %, whichever is larger, so that 0 measured against 0.05 %
// predicted is a small error and against 5 % a large one.
const errorRateFloor = 0.01

// Options adjust a fit.
type Options struct {
	// Source names the scenario's traffic source that replays the measured
	// arrivals ("": the scenario's only one). The others are left out: the
	// measurement is the whole load.
	Source string
	// Replications of the prediction (default 1), averaged as capsim run
	// --replications does; more shrink the prediction's sampling error.
	Replications int
	// Workers run replications in parallel (≤ 0: GOMAXPROCS).
	Workers   int
	Tolerance float64 // default DefaultTolerance
	Run       experiments.Options
}

// Metric is one compared number.
type Metric struct {
	Name      string  `json:"name"`  // throughput, mean, p50, p90, p95, p99, error_rate
	Scope     string  `json:"scope"` // total, or a service's name
	Unit      string  `json:"unit"`  // rps, ms, fraction
	Measured  float64 `json:"measured"`
	Predicted float64 `json:"predicted"`
	// RelativeError is (predicted − measured) / measured (for error_rate,
	// over max(measured, 1 %)).
	// null when the measured value is 0 and the predicted is not.
	RelativeError *float64 `json:"relative_error"`
	Within        bool     `json:"within"`
}

// Result is a fit: fit.json.
type Result struct {
	Scenario  string   `json:"scenario"`
	Measured  string   `json:"measured"`
	Format    string   `json:"format"`
	Replayed  bool     `json:"replayed"` // the measured arrivals drove the prediction
	Requests  int64    `json:"requests"` // measured
	SpanS     float64  `json:"span_s"`
	Metrics   []Metric `json:"metrics"`
	Tolerance float64  `json:"tolerance"`
	Met       bool     `json:"met"`
	Notes     []string `json:"notes,omitempty"`
	// MeasuredSeries and PredictedSeries draw the overlay (latency
	// percentiles over time, measured and simulated).
	MeasuredSeries  []measure.Window `json:"-"`
	PredictedSeries []Point          `json:"-"`
	// Outcome is the prediction's run (its report).
	Outcome *experiments.Outcome `json:"-"`
}

// Point is one window of the prediction's series.
type Point struct {
	StartS, LengthS float64
	P50MS, P99MS    float64
}

// Fit runs sc at the measured load and compares.
func Fit(sc *scenario.Scenario, m *measure.Measurement, opts Options) (*Result, error) {
	if opts.Tolerance == 0 {
		opts.Tolerance = DefaultTolerance
	}
	if opts.Tolerance < 0 || math.IsNaN(opts.Tolerance) {
		return nil, fmt.Errorf("tolerance %v: want more than 0", opts.Tolerance)
	}
	if opts.Replications == 0 {
		opts.Replications = 1
	}
	res := &Result{Scenario: sc.Config.Name, Measured: m.Source, Format: string(m.Format), Requests: m.Total.Requests,
		SpanS: m.SpanS, Tolerance: opts.Tolerance, Notes: slices.Clone(m.Notes), MeasuredSeries: m.Series}
	run := sc
	if m.Arrivals != nil {
		var err error
		run, err = replay(sc, m, opts.Source)
		if err != nil {
			return nil, err
		}
		res.Replayed = true
		if pause, at := m.Arrivals.LongestPause(); m.SpanS > 0 && pause > 100*time.Millisecond &&
			pause.Seconds() > 20*m.SpanS/float64(m.Total.Requests) {
			res.Notes = append(res.Notes, fmt.Sprintf("the load generator sent nothing for %v at %.1f s (then caught up): the replay has that burst too, but a pause of the machine the system shares with it would not be modelled",
				pause.Round(time.Millisecond), at.Seconds()))
		}
	} else {
		res.Notes = append(res.Notes, fmt.Sprintf("%s has no arrival times: the scenario's own traffic is the load (compare the throughput)", m.Format))
	}
	rep, err := experiments.Replicate(run, opts.Replications, opts.Workers, opts.Run)
	if err != nil {
		return nil, err
	}
	o := rep.Outcome()
	res.Outcome = o
	sum := o.Summary
	span := m.SpanS
	if span == 0 {
		span = sum.MeasuredS
		res.SpanS = span
	}
	// Predicted throughput: with a replay, completions over the measured
	// span (the run drains past it so that the last requests complete).
	predThroughput := sum.Throughput
	if res.Replayed {
		predThroughput = float64(sum.Requests.Completed) / span
	}
	ok := m.Total.Requests - m.Total.Failed
	add := func(name, scope, unit string, measured, predicted float64) {
		rel, defined := 0.0, true
		den := measured
		if name == "error_rate" {
			den = math.Max(measured, errorRateFloor)
		}
		switch {
		case den != 0:
			rel = (predicted - measured) / den
		case predicted != 0:
			defined = false
		}
		mt := Metric{Name: name, Scope: scope, Unit: unit, Measured: round(measured), Predicted: round(predicted)}
		if defined {
			r := round(rel)
			mt.RelativeError, mt.Within = &r, math.Abs(rel) <= opts.Tolerance
		}
		res.Metrics = append(res.Metrics, mt)
	}
	add("throughput", "total", "rps", float64(ok)/span, predThroughput)
	latencies(add, "total", m.Total.Latency, sum.Latency)
	add("error_rate", "total", "fraction", float64(m.Total.Failed)/float64(m.Total.Requests), sum.ErrorRate)
	if m.Total.LatencyIncludesFailed {
		res.Notes = append(res.Notes, "the measured latencies include failed requests; capsim's are of successful ones")
	}
	for _, s := range m.Services {
		c, found := sum.Components[s.Name]
		if !found {
			res.Notes = append(res.Notes, fmt.Sprintf("traced service %q is not in the scenario: not compared", s.Name))
			continue
		}
		latencies(add, s.Name, s.Latency, c.Latency)
		if s.Requests > 0 && c.Requests > 0 {
			add("error_rate", s.Name, "fraction", float64(s.Failed)/float64(s.Requests), float64(c.Rejected)/float64(c.Requests))
		}
	}
	res.Met = true
	for _, mt := range res.Metrics {
		res.Met = res.Met && mt.Within
	}
	for _, w := range o.Series.Windows {
		res.PredictedSeries = append(res.PredictedSeries, Point{StartS: w.StartS, LengthS: w.LengthS, P50MS: w.P50MS, P99MS: w.P99MS})
	}
	return res, nil
}

// latencies adds the latency metrics the measurement has.
func latencies(add func(name, scope, unit string, measured, predicted float64), scope string, m measure.Stats, p experiments.Latency) {
	if m.N == 0 {
		return
	}
	for _, f := range []struct {
		name          string
		measured, got float64
	}{{"mean", m.Mean, p.Mean}, {"p50", m.P50, p.P50}, {"p90", m.P90, p.P90}, {"p95", m.P95, p.P95}, {"p99", m.P99, p.P99}} {
		if m.Has == nil || m.Has[f.name] {
			add(f.name, scope, "ms", f.measured, f.got)
		}
	}
}

// replay returns sc with the measured arrivals as the load of one source
// (the others removed), no warmup, and a run long enough for the last
// requests to complete.
func replay(sc *scenario.Scenario, m *measure.Measurement, source string) (*scenario.Scenario, error) {
	cfg := *sc.Config
	idx := -1
	var names []string
	for i, t := range cfg.Traffic {
		names = append(names, t.Name)
		if t.Name == source || source == "" && len(cfg.Traffic) == 1 {
			idx = i
		}
	}
	switch {
	case len(cfg.Traffic) == 0:
		return nil, fmt.Errorf("the scenario has no traffic source to replay the measurement through")
	case idx < 0 && source == "":
		return nil, fmt.Errorf("the scenario has %d traffic sources (%v): name the one that receives the measured load with --source", len(names), names)
	case idx < 0:
		return nil, fmt.Errorf("--source %q: the scenario's traffic sources are %v", source, names)
	}
	src := cfg.Traffic[idx]
	src.Start, src.Stop = 0, 0
	src.Session = nil // a replayed request is one request
	a := m.Arrivals
	src.Arrivals = &model.TraceProcess{
		Open:       func() (model.TraceReader, error) { return &arrivalReader{a: a}, nil },
		Speedup:    1,
		RateScale:  1,
		Spread:     model.SpreadEven,
		Resolution: sim.Time(a.Resolution),
	}
	cfg.Traffic = []model.TrafficConfig{src}
	span := sim.Time(math.Ceil(m.SpanS*1e9)) + sim.Time(a.Resolution)
	// Drain: long enough for the slowest measured request, 1 s to 60 s.
	drain := sim.Time(min(60*time.Second, max(time.Second, 2*time.Duration(m.Total.Latency.Max*float64(time.Millisecond)))))
	cfg.Duration = span + drain
	cfg.Warmup = 0
	cfg.Window = sim.Time(time.Second)
	out := *sc
	out.Config = &cfg
	return &out, nil
}

// arrivalReader hands the measured arrivals to a trace replay: one row per
// request, at its bucket's start since the first request's bucket.
type arrivalReader struct {
	a       *measure.Arrivals
	i       int
	left    uint32
	origin  int
	started bool
}

func (r *arrivalReader) Next() (model.TraceRow, bool) {
	if !r.started {
		r.started = true
		for r.origin < len(r.a.Counts) && r.a.Counts[r.origin] == 0 {
			r.origin++
		}
		r.i = r.origin
		if r.i < len(r.a.Counts) {
			r.left = r.a.Counts[r.i]
		}
	}
	for r.left == 0 {
		r.i++
		if r.i >= len(r.a.Counts) {
			return model.TraceRow{}, false
		}
		r.left = r.a.Counts[r.i]
	}
	r.left--
	return model.TraceRow{At: sim.Time(r.i-r.origin) * sim.Time(r.a.Resolution)}, true
}

func (r *arrivalReader) Err() error   { return nil }
func (r *arrivalReader) Close() error { return nil }

func round(x float64) float64 {
	return math.Round(x*1e6) / 1e6
}
