package experiments

import (
	"sort"

	"github.com/capsim/capsim/model"
)

// FaultSummary is one fault (or traffic spike) in summary.json: when and
// where it hit, and whether the system came back.
type FaultSummary struct {
	Target    string  `json:"target"`
	Kind      string  `json:"kind"`
	AtS       float64 `json:"at_s"`
	EndS      float64 `json:"end_s"` // a crash's end includes the restart (start_delay)
	Instances []int   `json:"instances"`
	// Before is the goodput and p99 of the minute before the fault (at most;
	// after the warm-up).
	Before *Level `json:"before,omitempty"`
	// Recovered says whether goodput and p99 came back to their level before
	// the fault after it ended (see docs/results.md), and
	// RecoveredAfterS how long after the end that took. Not recovered by
	// the end of the run, with the fault long over, is the signature of a
	// metastable failure.
	Recovered       bool     `json:"recovered"`
	RecoveredAfterS *float64 `json:"recovered_after_s,omitempty"`
}

// Level is a goodput and a p99.
type Level struct {
	GoodputRPS float64 `json:"goodput_rps"`
	P99MS      float64 `json:"p99_ms"`
}

// Recovery thresholds: back means goodput at least 90 % and p99 at most
// 1.5× (or 5 ms more than) the level before the fault, for recoveryWindows
// windows in a row (or to the end of the run).
const (
	recoveryGoodput = 0.9
	recoveryP99     = 1.5
	recoveryWindows = 3
	baselineSpan    = 60.0 // seconds before the fault that set its baseline
)

// disruptions are the faults of a run, and the traffic spikes its profiles
// declare (a flash crowd: target "traffic.NAME", kind "spike").
func disruptions(cfg *model.Config, r *model.Result) []model.FaultResult {
	out := append([]model.FaultResult(nil), r.Faults...)
	for _, tr := range cfg.Traffic {
		var f *model.Flash
		switch p := tr.Arrivals.(type) {
		case *model.RateProcess:
			f = p.Flash
		case *model.StagesProcess:
			f = p.Flash
		case *model.DiurnalProcess:
			f = p.Flash
		}
		if f != nil && f.At < r.Duration {
			out = append(out, model.FaultResult{Target: "traffic." + tr.Name, Kind: spikeKind, At: f.At, End: f.At + f.Rise + f.Hold + f.Decay})
		}
	}
	return out
}

// spikeKind marks a traffic spike among the faults.
const spikeKind model.FaultKind = -1

// faultSummaries judges each fault's recovery from the time series.
func faultSummaries(faults []model.FaultResult, s *Series) []FaultSummary {
	var out []FaultSummary
	for _, f := range faults {
		kind := "spike"
		if f.Kind != spikeKind {
			kind = f.Kind.String()
		}
		fs := FaultSummary{Target: f.Target, Kind: kind, AtS: round(f.At.Seconds(), 6), EndS: round(f.End.Seconds(), 6), Instances: f.Instances}
		if fs.Instances == nil {
			fs.Instances = []int{}
		}
		at, end := f.At.Seconds(), f.End.Seconds()
		ws := s.Windows
		// The windows of the minute before the fault, found by bisection
		// (a chaos run has thousands of faults and windows).
		first := sort.Search(len(ws), func(i int) bool { return ws[i].StartS >= max(at-baselineSpan, s.WarmupS) })
		var n, good, p99 float64
		for i := first; i < len(ws) && ws[i].StartS+ws[i].LengthS <= at; i++ {
			n++
			good += ws[i].CompletedRPS
			p99 += ws[i].P99MS
		}
		if n > 0 {
			before := Level{GoodputRPS: good / n, P99MS: p99 / n}
			fs.Before = &Level{GoodputRPS: round(before.GoodputRPS, 3), P99MS: round(before.P99MS, 3)}
			back := func(w Window) bool {
				return w.CompletedRPS >= recoveryGoodput*before.GoodputRPS &&
					w.P99MS <= max(recoveryP99*before.P99MS, before.P99MS+5)
			}
			for i := sort.Search(len(ws), func(i int) bool { return ws[i].StartS >= end }); i < len(ws); i++ {
				ok := true
				for k := i; k < len(ws) && k < i+recoveryWindows; k++ {
					ok = ok && back(ws[k])
				}
				if ok {
					after := round(ws[i].StartS-end, 6)
					fs.Recovered, fs.RecoveredAfterS = true, &after
					break
				}
			}
		}
		out = append(out, fs)
	}
	return out
}
