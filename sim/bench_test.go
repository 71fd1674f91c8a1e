package sim

import "testing"

// BenchmarkQueueHold is the classic "hold" model: a queue of n pending
// events; each step pops the earliest and schedules one a random
// (exponential, mean 2 ms) time later, as a fleet of n busy cores does.
func BenchmarkQueueHold(b *testing.B) {
	for _, n := range []int{2, 64, 512, 4096} {
		b.Run(itoa(n), func(b *testing.B) {
			var e Engine
			e.SetHandler(nop{})
			s := NewStream(1, "hold", "bench")
			for i := 0; i < n; i++ {
				e.At(Time(s.ExpFloat64()*2e6), 0, 0, 0)
			}
			var ev Event
			for b.Loop() {
				e.q.pop(&ev)
				e.now = ev.At
				e.At(e.now+Time(s.ExpFloat64()*2e6), 0, 0, 0)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

func itoa(n int) string {
	s := ""
	for n > 0 {
		s = string(rune('0'+n%10)) + s
		n /= 10
	}
	return s
}

func BenchmarkHistogramRecord(b *testing.B) {
	h := NewHistogram()
	s := NewStream(1, "h", "b")
	vals := make([]Time, 4096)
	for i := range vals {
		vals[i] = Time(s.ExpFloat64() * 5e7)
	}
	i := 0
	for b.Loop() {
		h.Record(vals[i&4095])
		i++
	}
}

func BenchmarkLevelAdd(b *testing.B) {
	var l Level
	t := Time(0)
	for b.Loop() {
		t += 17
		l.Add(t, 1)
		l.Add(t, -1)
	}
}
