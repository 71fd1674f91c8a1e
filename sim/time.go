package sim

import (
	"math"
	"strconv"
	"time"
)

// Time is simulated time in integer nanoseconds since the start of a run. It
// is also used for durations.
type Time int64

// Common durations.
const (
	Nanosecond  Time = 1
	Microsecond Time = 1000
	Millisecond Time = 1000 * Microsecond
	Second      Time = 1000 * Millisecond
	Minute      Time = 60 * Second
	Hour        Time = 60 * Minute

	// Never is later than any event a run can schedule.
	Never Time = math.MaxInt64
)

// Seconds returns t in seconds.
func (t Time) Seconds() float64 { return float64(t) / float64(Second) }

// Millis returns t in milliseconds.
func (t Time) Millis() float64 { return float64(t) / float64(Millisecond) }

// String formats t like a Go duration ("1.5s").
func (t Time) String() string {
	if t == Never {
		return "never"
	}
	return time.Duration(t).String()
}

// FromSeconds converts seconds to Time, rounding to the nearest nanosecond
// and saturating instead of overflowing.
func FromSeconds(s float64) Time {
	ns := s * float64(Second)
	switch {
	case ns >= math.MaxInt64:
		return Never
	case ns <= math.MinInt64:
		return math.MinInt64
	}
	return Time(math.Round(ns))
}

// FormatSeconds renders t in seconds with up to 9 decimals and no trailing
// zeros, as used in CSV output.
func FormatSeconds(t Time) string {
	return strconv.FormatFloat(t.Seconds(), 'f', -1, 64)
}
