package policies

import (
	"fmt"
	"math"

	"github.com/capsim/capsim/model"
	"github.com/capsim/capsim/sim"
)

// groupAverage is the metric as CloudWatch aggregates it over an Auto
// Scaling group: the mean of the latest samples of the instances in
// service, leaving out those still warming up (started less than warmup
// ago), and how many instances reported (0: none).
func groupAverage(now sim.Time, v model.ScaleView, warmup sim.Time) (avg float64, n int) {
	var sum float64
	for _, p := range v.Pods {
		if !p.Ready || !p.HasSample || p.Started+warmup > now {
			continue
		}
		sum += p.Value
		n++
	}
	if n == 0 {
		return 0, 0
	}
	return sum / float64(n), n
}

// alarm is a CloudWatch alarm: it is in ALARM once the metric has breached
// its threshold for the given number of consecutive evaluation periods.
type alarm struct {
	periods  int // consecutive breaching periods needed
	breached int
}

// observe records one period and reports whether the alarm is in ALARM.
func (a *alarm) observe(breach bool) bool {
	if breach {
		a.breached++
	} else {
		a.breached = 0
	}
	return a.breached >= a.periods
}

// periodsFor converts a duration into a number of evaluation periods
// (at least one).
func periodsFor(d, period sim.Time) int {
	if period <= 0 {
		return 1
	}
	return max(1, int((d+period-1)/period))
}

// ThresholdConfig is simple scaling on two CloudWatch alarms: add AddN
// instances when the metric stays above Above for UpFor, remove RemoveN when
// it stays below Below for DownFor, and after any scaling ignore the alarms
// for Cooldown.
type ThresholdConfig struct {
	Above, Below   float64
	UpFor, DownFor sim.Time
	AddN, RemoveN  int
	Cooldown       sim.Time // EC2 Auto Scaling default: 300 s
	Period         sim.Time // alarm evaluation period (the controller's sync)
}

// Threshold is EC2 Auto Scaling simple scaling: an alarm in ALARM invokes
// the policy at every evaluation, but a simple scaling policy waits for the
// cooldown to end before it acts again.
type Threshold struct {
	cfg           ThresholdConfig
	high, low     alarm
	cooldownUntil sim.Time
}

// NewThreshold returns the policy with its alarms in OK state.
func NewThreshold(cfg ThresholdConfig) *Threshold {
	return &Threshold{cfg: cfg, high: alarm{periods: periodsFor(cfg.UpFor, cfg.Period)}, low: alarm{periods: periodsFor(cfg.DownFor, cfg.Period)},
		cooldownUntil: math.MinInt64}
}

// Decide evaluates both alarms for the period that just ended.
func (p *Threshold) Decide(now sim.Time, v model.ScaleView) (int, string) {
	avg, n := groupAverage(now, v, 0)
	if n == 0 {
		p.high.observe(false)
		p.low.observe(false)
		return v.Current, ""
	}
	high := p.high.observe(avg > p.cfg.Above)
	low := p.low.observe(avg < p.cfg.Below)
	switch {
	case high && v.Current < v.Max:
		if now < p.cooldownUntil {
			return v.Current, "Cooldown"
		}
		p.cooldownUntil = now + p.cfg.Cooldown
		return min(v.Current+p.cfg.AddN, v.Max), fmt.Sprintf("AlarmHigh: %s > %s for %v", pct(avg), pct(p.cfg.Above), p.cfg.UpFor)
	case low && v.Current > v.Min:
		if now < p.cooldownUntil {
			return v.Current, "Cooldown"
		}
		p.cooldownUntil = now + p.cfg.Cooldown
		return max(v.Current-p.cfg.RemoveN, v.Min), fmt.Sprintf("AlarmLow: %s < %s for %v", pct(avg), pct(p.cfg.Below), p.cfg.DownFor)
	}
	return v.Current, ""
}

func pct(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) }

// TargetTrackingConfig is an EC2 Auto Scaling target-tracking policy.
type TargetTrackingConfig struct {
	Target         float64
	Warmup         sim.Time // instance warm-up: new instances are left out of the metric
	Period         sim.Time // metric period (the controller's sync), 60 s
	DisableScaleIn bool
}

// TargetTracking reproduces EC2 Auto Scaling target tracking: the two
// alarms it creates (high: above the target for 3 of 3 one-minute periods;
// low: below 90 % of the target for 15 of 15), proportional scale-out rounded
// up, cautious scale-in rounded down, and instance warm-up (new instances
// neither count in the metric nor are counted twice while they warm).
type TargetTracking struct {
	cfg       TargetTrackingConfig
	high, low alarm
}

// NewTargetTracking returns the policy with its alarms in OK state.
func NewTargetTracking(cfg TargetTrackingConfig) *TargetTracking {
	return &TargetTracking{cfg: cfg,
		high: alarm{periods: periodsFor(3*sim.Minute, cfg.Period)},
		low:  alarm{periods: periodsFor(15*sim.Minute, cfg.Period)}}
}

// Decide evaluates the alarms for the period that just ended.
func (p *TargetTracking) Decide(now sim.Time, v model.ScaleView) (int, string) {
	avg, n := groupAverage(now, v, p.cfg.Warmup)
	if n == 0 {
		p.high.observe(false)
		p.low.observe(false)
		return v.Current, ""
	}
	high := p.high.observe(avg > p.cfg.Target)
	low := p.low.observe(avg < 0.9*p.cfg.Target)
	// Capacity is computed from the instances that report; those still
	// starting or warming up are already on their way and count as current
	// capacity, so they are not asked for twice.
	ratio := avg / p.cfg.Target
	switch {
	case high:
		desired := int(math.Ceil(float64(n) * ratio)) // round up: scale out fast
		if desired <= v.Current {
			return v.Current, ""
		}
		if desired > v.Max {
			return v.Max, "TargetTracking-AlarmHigh: capped at max"
		}
		return desired, fmt.Sprintf("TargetTracking-AlarmHigh: %s > target %s", pct(avg), pct(p.cfg.Target))
	case low && !p.cfg.DisableScaleIn:
		remove := int(math.Floor(float64(n) * (1 - ratio))) // round down: scale in slowly
		desired := max(v.Current-remove, v.Min)
		if desired >= v.Current {
			return v.Current, ""
		}
		return desired, fmt.Sprintf("TargetTracking-AlarmLow: %s < 90%% of target %s", pct(avg), pct(p.cfg.Target))
	}
	return v.Current, ""
}

// Scheduled is the "schedule" policy: it changes nothing by itself; the
// scheduled actions of the autoscaler set the bounds and the count.
type Scheduled struct{}

// Decide keeps the current count.
func (Scheduled) Decide(_ sim.Time, v model.ScaleView) (int, string) { return v.Current, "" }
