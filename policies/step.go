package policies

import (
	"fmt"
	"math"

	"github.com/capsim/capsim/model"
	"github.com/capsim/capsim/sim"
)

// StepAdjustment is one step of an EC2 Auto Scaling step policy: it applies
// when metric − threshold is in [Lower, Upper) (bounds relative to the
// alarm threshold, ±Inf when open).
type StepAdjustment struct {
	Lower, Upper float64
	Change       float64 // instances, or percent of the current capacity when Percent
	Percent      bool
	Exact        bool // set the capacity to Change
}

// StepRules is one direction of a step policy: its alarm and its steps.
type StepRules struct {
	Threshold     float64
	For           sim.Time
	Steps         []StepAdjustment
	MinAdjustment int // MinAdjustmentMagnitude for percent steps (0: none)
}

// StepConfig is an EC2 Auto Scaling step scaling policy pair.
type StepConfig struct {
	Up, Down StepRules
	Period   sim.Time
	Warmup   sim.Time // instance warm-up
}

// Step reproduces EC2 Auto Scaling step scaling: while an alarm is in ALARM
// it applies, every evaluation period, the step adjustment matching how far
// the metric is beyond the threshold, with AWS's rounding of percentage
// changes. There is no cooldown; instead, instances still warming up from an
// earlier scale-out count towards it, so the same step is not added twice.
type Step struct {
	cfg       StepConfig
	high, low alarm
}

// NewStep returns the policy with its alarms in OK state.
func NewStep(cfg StepConfig) *Step {
	return &Step{cfg: cfg, high: alarm{periods: periodsFor(cfg.Up.For, cfg.Period)}, low: alarm{periods: periodsFor(cfg.Down.For, cfg.Period)}}
}

// RoundPercentChange applies AWS's rounding to a percentage change in
// capacity: above 1 round down (12.7 → 12), between 0 and 1 round to 1,
// between −1 and 0 round to −1, below −1 round up (−6.67 → −6). Reference:
// EC2 Auto Scaling user guide, "Step and simple scaling policies".
func RoundPercentChange(x float64) int {
	switch {
	case x > 1:
		return int(math.Floor(x))
	case x > 0:
		return 1
	case x == 0:
		return 0
	case x > -1:
		return -1
	}
	return int(math.Ceil(x))
}

// newCapacity applies rules' matching step to capacity for a metric value.
func (r StepRules) newCapacity(capacity int, metric float64) (int, bool) {
	d := metric - r.Threshold
	for _, s := range r.Steps {
		if d < s.Lower || d >= s.Upper {
			continue
		}
		switch {
		case s.Exact:
			return int(s.Change), true
		case s.Percent:
			change := RoundPercentChange(float64(capacity) * s.Change / 100)
			if r.MinAdjustment > 0 && change != 0 && absInt(change) < r.MinAdjustment {
				change = r.MinAdjustment * sign(change)
			}
			return capacity + change, true
		}
		return capacity + int(s.Change), true
	}
	return capacity, false
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func sign(x int) int {
	if x < 0 {
		return -1
	}
	return 1
}

// Decide evaluates both alarms for the period that just ended.
func (p *Step) Decide(now sim.Time, v model.ScaleView) (int, string) {
	avg, n := groupAverage(now, v, p.cfg.Warmup)
	if n == 0 {
		p.high.observe(false)
		p.low.observe(false)
		return v.Current, ""
	}
	high := p.high.observe(avg > p.cfg.Up.Threshold)
	low := p.low.observe(avg < p.cfg.Down.Threshold)
	switch {
	case high:
		// Instances still starting or warming are the earlier steps'
		// increase: the new step applies to the capacity without them, and
		// only what goes beyond the current capacity is added.
		warming := v.Current - n
		desired, ok := p.cfg.Up.newCapacity(v.Current-warming, avg)
		if desired = min(desired, v.Max); !ok || desired <= v.Current {
			return v.Current, ""
		}
		return desired, fmt.Sprintf("StepScaleOut: %s > %s", pct(avg), pct(p.cfg.Up.Threshold))
	case low:
		desired, ok := p.cfg.Down.newCapacity(v.Current, avg)
		if desired = max(desired, v.Min); !ok || desired >= v.Current {
			return v.Current, ""
		}
		return desired, fmt.Sprintf("StepScaleIn: %s < %s", pct(avg), pct(p.cfg.Down.Threshold))
	}
	return v.Current, ""
}
