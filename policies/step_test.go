package policies

import (
	"math"
	"testing"

	"github.com/capsim/capsim/model"
)

// AWS's documented rounding examples for percentage changes.
func TestRoundPercentChange(t *testing.T) {
	for in, want := range map[float64]int{12.7: 12, 0.67: 1, -0.58: -1, -6.67: -6, 1: 1, -1: -1, 0: 0, 2.0: 2} {
		if got := RoundPercentChange(in); got != want {
			t.Errorf("RoundPercentChange(%v) = %d, want %d", in, got, want)
		}
	}
}

// The AWS user guide's step example: alarm at 50 %, steps +10 % for
// 50–60 %, +20 % for 60–70 %, +30 % above 70 %, on a group of 10.
func TestStepAdjustments(t *testing.T) {
	inf := math.Inf(1)
	up := StepRules{Threshold: 0.5, For: minutes(1), Steps: []StepAdjustment{
		{Lower: 0, Upper: 0.1, Change: 10, Percent: true},
		{Lower: 0.1, Upper: 0.2, Change: 20, Percent: true},
		{Lower: 0.2, Upper: inf, Change: 30, Percent: true},
	}}
	down := StepRules{Threshold: 0.3, For: minutes(1), Steps: []StepAdjustment{{Lower: -inf, Upper: 0, Change: -1}}}
	cases := []struct {
		util float64
		want int
	}{{0.55, 11}, {0.65, 12}, {0.75, 13}, {0.4, 10}, {0.2, 9}}
	for _, c := range cases {
		p := NewStep(StepConfig{Up: up, Down: down, Period: minutes(1)})
		if d, _ := p.Decide(minutes(1), model.ScaleView{Current: 10, Pods: pods(10, c.util), Min: 1, Max: 100}); d != c.want {
			t.Errorf("10 instances at %v: %d, want %d", c.util, d, c.want)
		}
	}
	// MinAdjustmentMagnitude: +10 % of 10 is 1, raised to 2.
	up.MinAdjustment = 2
	p := NewStep(StepConfig{Up: up, Down: down, Period: minutes(1)})
	if d, _ := p.Decide(minutes(1), model.ScaleView{Current: 10, Pods: pods(10, 0.55), Min: 1, Max: 100}); d != 12 {
		t.Errorf("with a minimum adjustment of 2: %d, want 12", d)
	}
	// Warming instances count towards the step: 10 in service at 75 % (+3
	// wanted) and 3 still starting: nothing more is added.
	p = NewStep(StepConfig{Up: up, Down: down, Period: minutes(1)})
	ps := append(pods(10, 0.75), model.PodState{}, model.PodState{}, model.PodState{})
	if d, _ := p.Decide(minutes(1), model.ScaleView{Current: 13, Pods: ps, Min: 1, Max: 100}); d != 13 {
		t.Errorf("with 3 instances starting: %d, want 13", d)
	}
}
