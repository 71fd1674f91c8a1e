package output

import (
	"fmt"
	"math"
	"strings"

	fitting "github.com/capsim/capsim/experiments/fit"
)

// FitText is capsim fit's table: measured vs predicted vs relative error,
// one row per metric, ✔ within the tolerance, ✘ beyond.
func FitText(r *fitting.Result) string {
	var b strings.Builder
	how := "the scenario's own traffic"
	if r.Replayed {
		how = "the measured arrivals replayed"
	}
	fmt.Fprintf(&b, "capsim fit: %s against %s (%s, %s requests over %.1f s; %s)\n\n",
		r.Scenario, r.Measured, r.Format, thousands(r.Requests), r.SpanS, how)
	fmt.Fprintf(&b, "  %-12s %-10s %12s %12s %9s\n", "scope", "metric", "measured", "predicted", "error")
	for _, m := range r.Metrics {
		mark, rel := "✘", "   n/a"
		if m.RelativeError != nil {
			rel = fmt.Sprintf("%+6.1f%%", 100**m.RelativeError)
			if m.Within {
				mark = "✔"
			}
		}
		fmt.Fprintf(&b, "  %-12s %-10s %12s %12s %9s %s\n", m.Scope, m.Name, fitValue(m.Measured, m.Unit), fitValue(m.Predicted, m.Unit), rel, mark)
	}
	verdict := fmt.Sprintf("every metric within ±%g%%", 100*r.Tolerance)
	if !r.Met {
		n := 0
		for _, m := range r.Metrics {
			if !m.Within {
				n++
			}
		}
		verdict = fmt.Sprintf("%d of %d metrics beyond ±%g%%", n, len(r.Metrics), 100*r.Tolerance)
	}
	fmt.Fprintf(&b, "\n%s\n", verdict)
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	return b.String()
}

func fitValue(x float64, unit string) string {
	switch unit {
	case "ms":
		return fmt.Sprintf("%.2f ms", x)
	case "rps":
		return fmt.Sprintf("%.1f/s", x)
	case "fraction":
		return fmt.Sprintf("%.3f%%", 100*x)
	}
	return fmt.Sprintf("%g", x)
}

// FitChart overlays the measured and the predicted latency percentiles
// over time (p50 and p99 per window; the measured ones by the time
// requests were sent, within 9 %), when the measurement has a series.
func FitChart(r *fitting.Result) (Chart, bool) {
	if len(r.MeasuredSeries) == 0 || len(r.PredictedSeries) == 0 {
		return Chart{}, false
	}
	c := Chart{Name: "fit", Title: "Latency over time: measured and predicted", XLabel: "time (s)", YLabel: "latency (ms)", LogY: true}
	line := func(name string, color int, xs, ys []float64) {
		var s Series
		s.Name, s.Color = name, color
		for i := range xs {
			if !math.IsNaN(ys[i]) && ys[i] > 0 {
				s.X, s.Y = append(s.X, xs[i]), append(s.Y, ys[i])
			}
		}
		if len(s.X) > 0 {
			c.Series = append(c.Series, s)
		}
	}
	var mx, m50, m99, px, p50, p99 []float64
	for _, w := range r.MeasuredSeries {
		mx, m50, m99 = append(mx, w.StartS+w.LengthS/2), append(m50, w.P50MS), append(m99, w.P99MS)
	}
	for _, w := range r.PredictedSeries {
		px, p50, p99 = append(px, w.StartS+w.LengthS/2), append(p50, w.P50MS), append(p99, w.P99MS)
	}
	line("measured p50", 1, mx, m50)
	line("measured p99", 2, mx, m99)
	line("predicted p50", 3, px, p50)
	line("predicted p99", 4, px, p99)
	if len(c.Series) == 0 {
		return Chart{}, false
	}
	end := math.Max(mx[len(mx)-1], px[len(px)-1])
	c.XMin, c.XMax = 0, end
	return c, true
}
