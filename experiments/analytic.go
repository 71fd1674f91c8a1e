package experiments

import (
	"math"

	"github.com/capsim/capsim/model"
)

// analyze is every component's analytic model (model.Graph.Analyze), in
// Config order: at the configured rates when every traffic source is a
// steady rate over the whole run (pure theory), otherwise (stages, users,
// traces, closed models, a start or a stop) at the rates each component
// saw in the run.
func analyze(cfg *model.Config, r *model.Result) (an []model.Analytic, e2e float64, e2eOK bool) {
	g := model.NewGraph(cfg)
	if len(g.Problems) > 0 {
		return nil, 0, false
	}
	rates := make([][]float64, len(cfg.Traffic))
	steady := true
	for t := range cfg.Traffic {
		tr := &cfg.Traffic[t]
		rate := 0.0
		if p, ok := tr.Arrivals.(*model.RateProcess); ok && p.Flash == nil && tr.Start == 0 && tr.Stop == 0 {
			rate = p.Rate
		} else {
			steady = false
			if t < len(r.Traffic) && r.Measured > 0 {
				rate = float64(r.Traffic[t].Requests.Arrived) / r.Measured.Seconds()
			}
		}
		_, shares := model.EntryEndpoints(tr)
		for _, sh := range shares {
			rates[t] = append(rates[t], rate*sh)
		}
	}
	var measured []float64
	if !steady && r.Measured > 0 { // the load each component saw, rejections upstream and all
		measured = make([]float64, len(r.Components))
		for i, c := range r.Components {
			measured[i] = float64(c.Arrivals-c.Rejected) / r.Measured.Seconds() // the calls it took in
		}
	}
	an = g.Analyze(rates, measured)
	if measured == nil { // the end-to-end mean needs the configured rates
		e2e, e2eOK = g.EndToEnd(rates, an)
	}
	return an, e2e, e2eOK
}

// analyticSummary puts a model's answer in summary.json's units, with the
// simulated mean's relative deviation from it.
func analyticSummary(a model.Analytic, simMeanMS float64) *AnalyticSummary {
	s := &AnalyticSummary{Model: a.Model, Exact: a.Exact, Reason: a.Reason, Notes: a.Notes}
	if !math.IsNaN(a.Utilization) {
		u := round(a.Utilization, 4)
		s.Utilization = &u
	}
	if !math.IsNaN(a.Mean) && !math.IsInf(a.Mean, 0) {
		s.Latency = &AnalyticLatency{Mean: round(a.Mean/1e6, 3)}
		if !math.IsNaN(a.P50) {
			p50, p99 := round(a.P50/1e6, 3), round(a.P99/1e6, 3)
			s.Latency.P50, s.Latency.P99 = &p50, &p99
		}
		if a.Mean > 0 && simMeanMS > 0 {
			d := round(simMeanMS/(a.Mean/1e6)-1, 4)
			s.Deviation = &d
		}
	}
	if a.Model != "" && a.Rejected > 0 {
		rej := round(a.Rejected, 6)
		s.Rejected = &rej
	}
	return s
}
