package model

import (
	"math"
	"testing"

	"github.com/capsim/capsim/sim"
)

// k6's ramping-arrival-rate executor starts iteration i of a linear ramp
// from `from` to `to` (iterations per ns) over dur at
// x = (from·dur − sqrt(dur·(from²·dur + 2·i·(to−from)))) / (from − to)
// (constant stages: i/from), counting i from the stage's first iteration.
// Reference: k6 lib/executor/ramping_arrival_rate.go, cal().
func k6StartTimes(startRate float64, stages []Stage) []sim.Time {
	var out []sim.Time
	from, t0, done := startRate/1e9, 0.0, 0.0
	for _, st := range stages {
		to := st.Target / 1e9
		dur := float64(st.Duration)
		end := done + dur*(from+to)/2 // iterations by the end of the stage
		for i := math.Ceil(done); i < end; i++ {
			var x float64
			if from == to {
				x = (i - done) / from
			} else {
				x = (from*dur - math.Sqrt(dur*(from*from*dur+2*(i-done)*(to-from)))) / (from - to)
			}
			out = append(out, sim.Time(t0+x))
		}
		from, t0, done = to, t0+dur, end
	}
	return out
}

func TestStagesMatchK6(t *testing.T) {
	stages := []Stage{{Duration: 10 * sim.Second, Target: 100}, {Duration: 20 * sim.Second, Target: 100}, {Duration: 15 * sim.Second, Target: 20}, {Duration: 5 * sim.Second, Target: 300}}
	want := k6StartTimes(5, stages)
	var segs []segment
	at0, r := sim.Time(0), 5.0
	for _, st := range stages {
		segs = append(segs, segment{start: at0, length: st.Duration, r0: r, r1: st.Target})
		at0, r = at0+st.Duration, st.Target
	}
	a := newRateArrivals(segs, true)
	var got []sim.Time
	for {
		at, ok := a.next(nil)
		if !ok {
			break
		}
		got = append(got, at)
	}
	if len(got) != len(want) {
		t.Fatalf("%d iterations, k6 starts %d", len(got), len(want))
	}
	for i := range got {
		if d := got[i] - want[i]; d > sim.Millisecond || d < -sim.Millisecond {
			t.Fatalf("iteration %d at %v, k6 at %v", i, got[i], want[i])
		}
	}
}

// Gatling's stressPeakUsers (HeavisideOpenInjection): user i of n arrives
// at k·(erfinv(2i/(n+2) − 1) + t0), so the cumulative arrivals follow the
// error function: half the users by the middle of the period, and at
// fraction f of it about n·(1 + erf((2f − 1)·t0))/2.
func TestHeavisideFollowsErf(t *testing.T) {
	const n = 100_000
	a := newUserArrivals(n, 0, 60*sim.Second, ShapeHeaviside)
	var times []sim.Time
	for {
		at, ok := a.next(nil)
		if !ok {
			break
		}
		times = append(times, at)
	}
	if len(times) != n {
		t.Fatalf("%d users, want %d", len(times), n)
	}
	t0 := math.Abs(math.Erfinv(2/float64(n+2) - 1))
	for _, f := range []float64{0.3, 0.45, 0.5, 0.55, 0.7} {
		cut := sim.Time(f * float64(60*sim.Second))
		k := 0
		for k < n && times[k] < cut {
			k++
		}
		want := n * (1 + math.Erf((2*f-1)*t0)) / 2
		if math.Abs(float64(k)-want) > 0.002*n {
			t.Errorf("by %.0f %% of the period: %d users, erf curve %.0f", 100*f, k, want)
		}
	}
}

// sliceTrace is a TraceReader over rows in memory.
type sliceTrace struct {
	rows []TraceRow
	i    int
}

func (s *sliceTrace) Next() (TraceRow, bool) {
	if s.i >= len(s.rows) {
		return TraceRow{}, false
	}
	s.i++
	return s.rows[s.i-1], true
}
func (s *sliceTrace) Err() error   { return nil }
func (s *sliceTrace) Close() error { return nil }

// A trace with 10 ms timestamps (301 rows at 100/s, one timestamp
// duplicated) replays with its own times: the resolution is inferred as
// 10 ms, and only the two rows that share a timestamp are spread, within
// it. Every arrival is within 10 ms of its row's time.
func TestTraceKeepsItsOwnTimes(t *testing.T) {
	var rows []TraceRow
	for i := 0; i <= 300; i++ {
		rows = append(rows, TraceRow{At: sim.Time(i) * 10 * sim.Millisecond})
		if i == 150 {
			rows = append(rows, TraceRow{At: sim.Time(i) * 10 * sim.Millisecond}) // the duplicate
		}
	}
	res, err := InferResolution(&sliceTrace{rows: rows}, 100_000)
	if err != nil || res != 10*sim.Millisecond {
		t.Fatalf("inferred resolution %v, %v; want 10ms", res, err)
	}
	p := &TraceProcess{Open: func() (TraceReader, error) { return &sliceTrace{rows: rows}, nil }, Spread: SpreadEven, Resolution: res, Speedup: 1, RateScale: 1}
	a, err := p.arrivals(0, sim.Hour)
	if err != nil {
		t.Fatal(err)
	}
	rng := sim.NewStream(1, "t", "t")
	for i, row := range rows {
		at, ok := a.next(rng)
		if !ok {
			t.Fatalf("%d arrivals for %d rows", i, len(rows))
		}
		if d := at - row.At; d < 0 || d >= 10*sim.Millisecond {
			t.Errorf("row %d at %v arrives at %v", i, row.At, at)
		}
	}
	if _, ok := a.next(rng); ok {
		t.Error("more arrivals than rows")
	}
}
