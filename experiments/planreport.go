package experiments

import (
	"fmt"
	"strconv"
	"strings"
)

// PlanObjective is what a plan minimises among the settings that meet
// every SLO: "cost" (the run's total), or one of the varied paths' values.
func PlanObjective(varies []Vary, minimize string) (func(*PointResult) float64, error) {
	if minimize == "cost" {
		return func(r *PointResult) float64 { return r.Summary.Cost.TotalUSD }, nil
	}
	for i, v := range varies {
		if v.Path == minimize {
			return func(r *PointResult) float64 {
				x, _ := strconv.ParseFloat(r.Point.Values[i], 64)
				return x
			}, nil
		}
	}
	return nil, fmt.Errorf("want cost or a varied path, got %q", minimize)
}

// PlanReport is `capsim plan --json`: the chosen setting keyed by path
// (numbers as numbers), its summary, the evidence that the next setting
// down fails, and how many settings were evaluated of how many.
type PlanReport struct {
	Point      map[string]any  `json:"point"`
	Summary    *Summary        `json:"summary,omitempty"`
	Evidence   *PlanEvidence   `json:"evidence,omitempty"`
	Evaluated  int             `json:"evaluated"`
	Points     int             `json:"points"`
	Candidates []PlanCandidate `json:"candidates"`
}

// PlanCandidate is one evaluated setting: its verdict, its cost, and the
// headroom of its busiest component.
type PlanCandidate struct {
	Point       map[string]any `json:"point"`
	SLOMet      bool           `json:"slo_met"`
	CostUSD     float64        `json:"cost_usd"`
	Busiest     string         `json:"busiest"`
	Utilization float64        `json:"utilization"`
}

// Busiest is the busiest resource in a summary (a component, or a database
// node named component.node) and its utilisation ("" when none has one).
func Busiest(s *Summary) (name string, utilization float64) {
	if b := bottleneck(s); b != nil {
		return b.Name, b.Utilization
	}
	return "", 0
}

// PlanEvidence is a setting that fails, and its SLO checks.
type PlanEvidence struct {
	Point map[string]any `json:"point"`
	SLO   SLOResult      `json:"slo"`
}

// Report is the plan's result in the report's form.
func (r *PlanResult) Report(varies []Vary) *PlanReport {
	pointMap := func(p Point) map[string]any {
		m := map[string]any{}
		for i, v := range varies {
			if x, err := strconv.ParseFloat(p.Values[i], 64); err == nil {
				m[v.Path] = x
			} else {
				m[v.Path] = p.Values[i]
			}
		}
		return m
	}
	out := &PlanReport{Evaluated: r.Evaluated, Points: r.Points, Candidates: []PlanCandidate{}}
	for _, c := range r.Candidates {
		name, u := Busiest(c.Summary)
		out.Candidates = append(out.Candidates, PlanCandidate{Point: pointMap(c.Point), SLOMet: c.Summary.SLO.Met,
			CostUSD: c.Summary.Cost.TotalUSD, Busiest: name, Utilization: u})
	}
	if r.Best != nil {
		out.Point, out.Summary = pointMap(r.Best.Point), r.Best.Summary
	}
	if r.Evidence != nil {
		out.Evidence = &PlanEvidence{Point: pointMap(r.Evidence.Point), SLO: r.Evidence.Summary.SLO}
	}
	return out
}

// Describe names a point's setting for a person: "a = 1, b = 2".
func Describe(varies []Vary, p Point) string {
	var s []string
	for i, v := range varies {
		s = append(s, v.Path+" = "+p.Values[i])
	}
	return strings.Join(s, ", ")
}
