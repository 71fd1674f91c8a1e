package output

import (
	"bytes"
	"math"
	"strconv"

	"github.com/capsim/capsim/experiments"
)

func f(x float64, prec int) string { return strconv.FormatFloat(x, 'f', prec, 64) }

// TimeseriesCSV renders timeseries.csv: one row per window, t_s (the
// window's start) first, then global columns, then per-component columns
// named NAME.column (components sorted by name). docs/results.md documents
// every column.
func TimeseriesCSV(o *experiments.Outcome) []byte {
	sr := o.Series
	var b bytes.Buffer
	b.WriteString("t_s,arrivals_rps,completed_rps,errors_rps")
	if sr.HasRetries {
		b.WriteString(",retries_rps")
	}
	b.WriteString(",p50_ms,p95_ms,p99_ms,in_flight,cost_usd")
	for _, c := range sr.Components {
		n := c.Name
		if c.Fleet {
			b.WriteString("," + n + ".instances," + n + ".utilization")
		}
		if c.Broker {
			b.WriteString("," + n + ".lag," + n + ".age_p99_ms")
			continue
		}
		b.WriteString("," + n + ".queue," + n + ".p99_ms," + n + ".rejected")
		if c.Cache {
			b.WriteString("," + n + ".hit_ratio")
		}
		if c.Function {
			b.WriteString("," + n + ".cold_starts")
		}
		for _, node := range c.Nodes {
			b.WriteString("," + n + "." + node + ".utilization")
		}
	}
	b.WriteByte('\n')
	for _, w := range sr.Windows {
		b.WriteString(seconds(w.StartS))
		cols := []string{f(w.ArrivalsRPS, 3), f(w.CompletedRPS, 3), f(w.ErrorsRPS, 3)}
		if sr.HasRetries {
			cols = append(cols, f(w.RetriesRPS, 3))
		}
		for _, s := range append(cols, f(w.P50MS, 3), f(w.P95MS, 3), f(w.P99MS, 3), f(w.InFlight, 3), f(w.CostUSD, 6)) {
			b.WriteByte(',')
			b.WriteString(s)
		}
		for i, cw := range w.Components {
			c := sr.Components[i]
			if c.Fleet {
				b.WriteString("," + strconv.Itoa(cw.Instances) + "," + f(cw.Utilization, 4))
			}
			if c.Broker {
				b.WriteString("," + f(cw.Lag, 3) + "," + f(cw.AgeP99MS, 3))
				continue
			}
			b.WriteString("," + f(cw.Queue, 3) + "," + f(cw.P99MS, 3) + "," + strconv.FormatInt(cw.Rejected, 10))
			if c.Cache {
				b.WriteByte(',')
				if !math.IsNaN(cw.HitRatio) {
					b.WriteString(f(cw.HitRatio, 4))
				}
			}
			if c.Function {
				b.WriteString("," + strconv.FormatInt(cw.ColdStarts, 10))
			}
			for _, u := range cw.Nodes {
				b.WriteString("," + f(u, 4))
			}
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// seconds formats a time in seconds with as many digits as it needs.
func seconds(s float64) string { return strconv.FormatFloat(s, 'f', -1, 64) }

// DecisionsCSV renders decisions.csv: every autoscaler decision, with the
// reason string the real controller would give.
func DecisionsCSV(o *experiments.Outcome) []byte {
	var b bytes.Buffer
	b.WriteString("t_s,component,policy,from,to,reason\n")
	for _, d := range o.Series.Decisions {
		b.WriteString(seconds(d.AtS) + "," + d.Component + "," + d.Policy + "," +
			strconv.Itoa(d.From) + "," + strconv.Itoa(d.To) + "," + d.Reason + "\n")
	}
	return b.Bytes()
}
