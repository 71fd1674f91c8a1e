package output

import (
	"bytes"
	"math"
	"sort"
	"strconv"

	"github.com/capsim/capsim/experiments"
	"github.com/capsim/capsim/model"
	"github.com/capsim/capsim/sim"
)

// componentOrder returns the indices of r.Components sorted by name.
func componentOrder(r *model.Result) []int {
	idx := make([]int, len(r.Components))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return r.Components[idx[a]].Name < r.Components[idx[b]].Name })
	return idx
}

func f(x float64, prec int) string { return strconv.FormatFloat(x, 'f', prec, 64) }

// TimeseriesCSV renders timeseries.csv: one row per window, t_s (the
// window's start) first, then global columns, then per-component columns
// named NAME.column. docs/results.md documents every column.
func TimeseriesCSV(o *experiments.Outcome) []byte {
	r := o.Result
	order := componentOrder(r)
	var b bytes.Buffer
	b.WriteString("t_s,arrivals_rps,completed_rps,errors_rps,p50_ms,p95_ms,p99_ms,in_flight,cost_usd")
	for _, i := range order {
		c := r.Components[i]
		n := c.Name
		if c.Kind != "balancer" {
			b.WriteString("," + n + ".instances," + n + ".utilization")
		}
		b.WriteString("," + n + ".queue," + n + ".p99_ms," + n + ".rejected")
		if c.Cache != nil {
			b.WriteString("," + n + ".hit_ratio")
		}
		if c.Database != nil {
			for _, name := range nodeNames(c.Database) {
				b.WriteString("," + n + "." + name + ".utilization")
			}
		}
	}
	b.WriteByte('\n')
	ms := func(t sim.Time) string { return f(t.Millis(), 3) }
	for _, w := range r.Windows {
		secs := w.Length.Seconds()
		rate := func(n int64) string { return f(float64(n)/secs, 3) }
		b.WriteString(sim.FormatSeconds(w.Start))
		for _, s := range []string{rate(w.Arrivals), rate(w.Completed), rate(w.Errors), ms(w.P50), ms(w.P95), ms(w.P99), f(w.InFlight, 3), f(w.CostUSD, 6)} {
			b.WriteByte(',')
			b.WriteString(s)
		}
		for _, i := range order {
			cw := w.Components[i]
			if r.Components[i].Kind != "balancer" {
				b.WriteString("," + strconv.Itoa(cw.Instances) + "," + f(cw.Utilization, 4))
			}
			b.WriteString("," + f(cw.Queue, 3) + "," + ms(cw.P99) + "," + strconv.FormatInt(cw.Rejected, 10))
			if r.Components[i].Cache != nil {
				b.WriteByte(',')
				if !math.IsNaN(cw.HitRatio) {
					b.WriteString(f(cw.HitRatio, 4))
				}
			}
			for _, u := range cw.Nodes {
				b.WriteString("," + f(u, 4))
			}
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// DecisionsCSV renders decisions.csv: every autoscaler decision, with the
// reason string the real controller would give.
func DecisionsCSV(o *experiments.Outcome) []byte {
	var b bytes.Buffer
	b.WriteString("t_s,component,policy,from,to,reason\n")
	for _, d := range o.Result.Decisions {
		b.WriteString(sim.FormatSeconds(d.At) + "," + d.Component + "," + d.Policy + "," +
			strconv.Itoa(d.From) + "," + strconv.Itoa(d.To) + "," + d.Reason + "\n")
	}
	return b.Bytes()
}

// nodeNames names database nodes in column headers: s0.primary,
// s0.replica1, ...
func nodeNames(d *model.DatabaseResult) []string {
	var names []string
	k := 0
	for i, n := range d.Nodes {
		if i > 0 && n.Shard != d.Nodes[i-1].Shard {
			k = 0
		}
		name := "s" + strconv.Itoa(n.Shard) + ".primary"
		if n.Role == "replica" {
			k++
			name = "s" + strconv.Itoa(n.Shard) + ".replica" + strconv.Itoa(k)
		}
		names = append(names, name)
	}
	return names
}
