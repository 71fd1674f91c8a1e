package scenario

import (
	"github.com/capsim/capsim/experiments/trace"
	"github.com/capsim/capsim/model"
	"github.com/capsim/capsim/sim"
)

// traceProcess reads a traffic source's trace replay keys: a request trace,
// or a trace of per-interval counts.
func (d *decoder) traceProcess(t *table) model.ArrivalProcess {
	c := &model.TraceProcess{}
	counts := false
	var interval sim.Time
	done := func() model.ArrivalProcess {
		if counts {
			return &model.CountsProcess{Open: c.Open, Interval: interval, Speedup: c.Speedup, RateScale: c.RateScale}
		}
		return c
	}
	spec := trace.Spec{File: t.str("trace", "")}
	format := t.str("format", "csv")
	switch trace.Format(format) {
	case trace.CSV, trace.Counts, trace.CLF:
		spec.Format = trace.Format(format)
	default:
		d.errorf(t.key("format"), "unknown trace format %q; allowed: csv (a row per request), counts (a row per interval), clf (Common Log Format)", format)
	}
	if spec.Format != trace.CLF {
		spec.TimeColumn = t.str("time_column", "")
		spec.TimeUnit = t.duration("time_unit", sim.Second)
		if spec.TimeUnit <= 0 {
			d.errorf(t.key("time_unit"), "must be greater than 0 (the unit of the time column: 1s, 1ms, ...)")
			spec.TimeUnit = sim.Second
		}
	}
	if spec.Format == trace.CSV {
		spec.KeyColumn = t.str("key_column", "")
		spec.EndpointColumn = t.str("endpoint_column", "")
	}
	if spec.Format == trace.Counts {
		spec.CountColumn = t.str("count_column", "")
		counts = true
		interval = d.positiveDuration(t, "interval", sim.Second)
	}
	if m := t.sub("endpoints"); m != nil {
		c.EndpointMap = map[string]string{}
		for k := range m.m {
			c.EndpointMap[k] = m.str(k, "")
		}
	}
	c.Speedup, c.RateScale = 1, 1
	if v, ok := t.number("speedup"); ok {
		if v <= 0 {
			d.errorf(t.key("speedup"), "must be greater than 0 (2 replays twice as fast)")
		} else {
			c.Speedup = v
		}
	}
	if v, ok := t.number("rate_scale"); ok {
		if v <= 0 || v > 1000 {
			d.errorf(t.key("rate_scale"), "must be greater than 0 and at most 1000 (0.5 keeps half the requests, 3 sends each three times)")
		} else {
			c.RateScale = v
		}
	}
	if spec.Format != trace.Counts {
		c.Loop = t.boolean("loop", false)
		c.Resolution = t.duration("resolution", 0)
		if t.has("resolution") && c.Resolution <= 0 {
			d.errorf(t.key("resolution"), "must be greater than 0 (leave it out to infer it from the trace)")
		}
		switch sp := t.str("spread", "even"); sp {
		case "none":
			c.Spread = model.SpreadNone
		case "even":
			c.Spread = model.SpreadEven
		case "random":
			c.Spread = model.SpreadRandom
		default:
			d.errorf(t.key("spread"), "want \"none\", \"even\" or \"random\" (how requests sharing a timestamp are placed within its resolution), got %q", sp)
		}
	}
	if spec.File == "" {
		d.errorf(t.key("trace"), "want the trace file's name")
		return done()
	}
	if d.files == nil {
		d.errorf(t.key("trace"), "trace files cannot be read here (no file access)")
		return done()
	}
	open := trace.Opener(d.files, spec)
	// Open once now, so that a missing file or a bad header is reported
	// with the scenario's other problems.
	if r, err := open(); err != nil {
		d.errorf(t.key("trace"), "%v", err)
		return done()
	} else {
		r.Close()
	}
	c.Open = open
	c.Keyed = spec.KeyColumn != "" || spec.Format == trace.CLF
	if !counts && c.Resolution <= 0 {
		c.Resolution = d.inferResolution(t, open)
	}
	return done()
}

// resolutionRows is how many rows the resolution is inferred from.
const resolutionRows = 100_000

// inferResolution is a trace's timestamp resolution as its rows show it:
// the smallest step between distinct timestamps among the first
// resolutionRows rows; 1 s when they have a single timestamp.
func (d *decoder) inferResolution(t *table, open func() (model.TraceReader, error)) sim.Time {
	r, err := open()
	if err != nil {
		d.errorf(t.key("trace"), "%v", err)
		return sim.Second
	}
	defer r.Close()
	step, err := model.InferResolution(r, resolutionRows)
	if err != nil {
		d.errorf(t.key("trace"), "%v", err)
	}
	if step <= 0 {
		return sim.Second
	}
	return step
}
