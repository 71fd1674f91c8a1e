package model

import (
	"math"

	"github.com/capsim/capsim/sim"
)

// TraceProcess replays a recorded request trace: each row is a request.
type TraceProcess struct {
	Open        func() (TraceReader, error) // opens the trace afresh for each run (and each loop)
	Speedup     float64                     // > 1 compresses time
	RateScale   float64                     // < 1 thins, > 1 clones requests (with fresh keys)
	Loop        bool                        // start over when the trace ends
	Spread      Spread                      // how requests sharing a timestamp are placed within its resolution
	Resolution  sim.Time                    // timestamp resolution (for Spread)
	EndpointMap map[string]string           // trace endpoint value → endpoint name
	Keyed       bool                        // rows carry request keys
}

// PeakRate is unknown without reading the trace.
func (p *TraceProcess) PeakRate() float64 { return 0 }

func (p *TraceProcess) arrivals(start, _ sim.Time) (arrivals, error) {
	r, err := p.Open()
	if err != nil {
		return nil, err
	}
	return &traceArrivals{cfg: p, start: start, r: r, origin: -1}, nil
}

// InferResolution estimates a trace's timestamp resolution from its first
// maxRows rows: the smallest step between distinct consecutive timestamps
// (rows are in time order). It returns 0 when the rows have fewer than two
// distinct timestamps. It does not close r.
func InferResolution(r TraceReader, maxRows int) (sim.Time, error) {
	var step sim.Time
	prev := sim.Time(-1)
	for n := 0; n < maxRows; n++ {
		row, ok := r.Next()
		if !ok {
			return step, r.Err()
		}
		if prev >= 0 && row.At > prev && (step == 0 || row.At-prev < step) {
			step = row.At - prev
		}
		prev = row.At
	}
	return step, nil
}

// CountsProcess replays a trace of per-interval request counts as a
// piecewise-constant Poisson process.
type CountsProcess struct {
	Open      func() (TraceReader, error)
	Interval  sim.Time // the interval a count covers
	Speedup   float64
	RateScale float64
	// Uniform places exactly each interval's count (times RateScale,
	// rounded with the remainder carried to the next interval) evenly
	// over it, instead of a Poisson process of that rate: a recorded
	// series then replays with the same arrivals per interval.
	Uniform bool
}

// PeakRate is unknown without reading the trace.
func (p *CountsProcess) PeakRate() float64 { return 0 }

func (p *CountsProcess) arrivals(start, _ sim.Time) (arrivals, error) {
	r, err := p.Open()
	if err != nil {
		return nil, err
	}
	return &countArrivals{cfg: p, start: start, r: r, origin: -1}, nil
}

// traceArrivals replays a request trace: row times are shifted to the
// source's start and divided by Speedup; RateScale thins rows (below 1) or
// clones them (above 1, each clone with a fresh key); rows sharing a
// timestamp are spread over its resolution. The row being replayed gives
// the request its key and endpoint.
type traceArrivals struct {
	cfg    *TraceProcess
	start  sim.Time
	r      TraceReader
	err    error
	origin sim.Time // raw time of the first row of the current pass
	offset sim.Time // trace time at which the current pass starts (loops)
	span   sim.Time // raw time of the last row read, for looping

	batch []TraceRow // rows sharing the current timestamp
	bi    int        // next row of the batch
	ahead *TraceRow  // first row of the next batch
	clone int        // copies of the current row still to send
	copyN uint64

	key      uint64
	endpoint string
}

func (a *traceArrivals) read() (TraceRow, bool) {
	if a.ahead != nil {
		row := *a.ahead
		a.ahead = nil
		return row, true
	}
	row, ok := a.r.Next()
	if !ok {
		if err := a.r.Err(); err != nil {
			a.err = err
			return row, false
		}
		if !a.cfg.Loop || a.span <= 0 {
			return row, false
		}
		// Start over, one resolution after the last row.
		a.r.Close()
		r, err := a.cfg.Open()
		if err != nil {
			a.err = err
			return row, false
		}
		a.r = r
		a.offset += a.span - a.origin + max(a.cfg.Resolution, 1)
		a.origin = -1
		if row, ok = a.r.Next(); !ok {
			a.err = a.r.Err()
			return row, false
		}
	}
	if a.origin < 0 {
		a.origin = row.At
	}
	a.span = row.At
	row.At = row.At - a.origin + a.offset // trace time of this pass, from 0
	return row, true
}

// nextBatch reads the rows sharing the next timestamp.
func (a *traceArrivals) nextBatch() bool {
	a.batch, a.bi = a.batch[:0], 0
	first, ok := a.read()
	if !ok {
		return false
	}
	a.batch = append(a.batch, first)
	if a.cfg.Spread == SpreadNone {
		return true
	}
	for {
		row, ok := a.read()
		if !ok {
			return true
		}
		if row.At != first.At {
			a.ahead = &row
			return true
		}
		a.batch = append(a.batch, row)
	}
}

func (a *traceArrivals) next(rng *sim.Stream) (sim.Time, bool) {
	for {
		if a.clone > 0 {
			a.clone--
			a.copyN++
			a.key = sim.Mix64(a.batch[a.bi-1].Key ^ a.copyN*0x9e3779b97f4a7c15)
			return a.at(a.bi-1, rng), true
		}
		if a.bi >= len(a.batch) && !a.nextBatch() {
			return 0, false
		}
		i := a.bi
		a.bi++
		copies := 1
		if s := a.cfg.RateScale; s != 1 && s > 0 {
			whole := math.Floor(s)
			copies = int(whole)
			if rng.Float64() < s-whole {
				copies++
			}
		}
		if copies == 0 {
			continue // thinned
		}
		a.clone = copies - 1
		a.key, a.endpoint = a.batch[i].Key, a.batch[i].Endpoint
		return a.at(i, rng), true
	}
}

// at is the simulated time of batch row i.
func (a *traceArrivals) at(i int, rng *sim.Stream) sim.Time {
	t := a.batch[i].At
	switch a.cfg.Spread {
	case SpreadEven:
		t += a.cfg.Resolution * sim.Time(i) / sim.Time(len(a.batch))
	case SpreadRandom:
		t += sim.Time(rng.Float64() * float64(a.cfg.Resolution))
	}
	if a.cfg.Speedup > 0 && a.cfg.Speedup != 1 {
		t = sim.Time(float64(t) / a.cfg.Speedup)
	}
	return a.start + t
}

// countArrivals replays a per-interval count trace as a piecewise-constant
// Poisson process: rate count/interval over each row's interval (0 where
// the trace has no row), times Speedup and RateScale. Exponential gaps
// restart at each interval, which is exact by memorylessness.
type countArrivals struct {
	cfg    *CountsProcess
	start  sim.Time
	r      TraceReader
	err    error
	origin sim.Time
	t, end sim.Time // the last arrival (or the interval start), the interval end
	rate   float64  // per nanosecond
	// Uniform: the interval's start and length, its arrivals, those
	// placed, and the fraction carried.
	t0, length sim.Time
	n, k       int64
	carry      float64
}

func (a *countArrivals) next(rng *sim.Stream) (sim.Time, bool) {
	speedup, scale := a.cfg.Speedup, a.cfg.RateScale
	if speedup <= 0 {
		speedup = 1
	}
	if scale <= 0 {
		scale = 1
	}
	for {
		if a.cfg.Uniform && a.k < a.n {
			// The k-th of n in the middle of its n-th of the interval.
			t := a.t0 + sim.Time((float64(a.k)+0.5)*float64(a.length)/float64(a.n))
			a.k++
			return t, true
		}
		if !a.cfg.Uniform && a.rate > 0 {
			if t := a.t + sim.Time(rng.ExpFloat64()/a.rate); t < a.end {
				a.t = t
				return t, true
			}
		}
		row, ok := a.r.Next()
		if !ok {
			a.err = a.r.Err()
			return 0, false
		}
		if a.origin < 0 {
			a.origin = row.At
		}
		a.t = a.start + sim.Time(float64(row.At-a.origin)/speedup)
		length := sim.Time(float64(a.cfg.Interval) / speedup)
		a.end = a.t + length
		a.rate = float64(row.Count) * scale / float64(max(length, 1))
		if a.cfg.Uniform {
			x := float64(row.Count)*scale + a.carry
			a.n = int64(math.Floor(x + 1e-9))
			a.carry = x - float64(a.n)
			a.t0, a.length, a.k = a.t, length, 0
		}
	}
}
