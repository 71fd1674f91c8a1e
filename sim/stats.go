package sim

import (
	"math"
)

// Kahan is a compensated (Neumaier) sum: its result does not depend on the
// magnitude mix of the terms the way a naive float sum does.
type Kahan struct{ sum, c float64 }

// Add adds x.
func (k *Kahan) Add(x float64) {
	t := k.sum + x
	if math.Abs(k.sum) >= math.Abs(x) {
		k.c += (k.sum - t) + x
	} else {
		k.c += (x - t) + k.sum
	}
	k.sum = t
}

// Sum is the compensated total.
func (k *Kahan) Sum() float64 { return k.sum + k.c }

// Level tracks a non-negative integer quantity over time (busy cores, queue
// length, requests in flight) and integrates it exactly, for time-weighted
// means over the whole run and over the current window.
type Level struct {
	v         int64
	last      Time
	area      Int128 // ∫ v dt since time 0, in unit·ns
	runStart  Time
	runArea   Int128 // area at runStart
	winStart  Time
	winArea   Int128 // area at winStart
	max, wmax int64
}

// Add changes the level by d at time now.
func (l *Level) Add(now Time, d int64) {
	if dt := now - l.last; dt > 0 {
		if l.v > 0 {
			l.area.AddProduct(l.v, int64(dt))
		}
		l.last = now
	}
	l.v += d
	if l.v > l.wmax {
		l.wmax = l.v
		if l.v > l.max {
			l.max = l.v
		}
	}
}

// Value is the current level.
func (l *Level) Value() int64 { return l.v }

func (l *Level) advance(now Time) { l.Add(now, 0) }

// Mean is the time-weighted mean since the run statistics were last reset.
func (l *Level) Mean(now Time) float64 {
	l.advance(now)
	if now <= l.runStart {
		return float64(l.v)
	}
	return l.area.Sub(l.runArea).Float64() / float64(now-l.runStart)
}

// Area is ∫ level dt from time 0 to now, in unit·ns.
func (l *Level) Area(now Time) Int128 {
	l.advance(now)
	return l.area
}

// RunArea is ∫ level dt since the run statistics were last reset.
func (l *Level) RunArea(now Time) Int128 {
	l.advance(now)
	return l.area.Sub(l.runArea)
}

// Max is the largest level since the run statistics were last reset.
func (l *Level) Max() int64 { return l.max }

// CloseWindow returns the time-weighted mean and the maximum since the last
// window closed, and starts a new window at now.
func (l *Level) CloseWindow(now Time) (mean float64, max int64) {
	l.advance(now)
	mean = float64(l.v)
	if now > l.winStart {
		mean = l.area.Sub(l.winArea).Float64() / float64(now-l.winStart)
	}
	max = l.wmax
	l.winArea, l.winStart, l.wmax = l.area, now, l.v
	return mean, max
}

// ResetRun restarts the run statistics at now (the end of a warm-up period),
// keeping the current level.
func (l *Level) ResetRun(now Time) {
	l.advance(now)
	l.runArea, l.runStart, l.max = l.area, now, l.v
}
