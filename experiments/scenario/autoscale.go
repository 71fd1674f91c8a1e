package scenario

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/capsim/capsim/model"
	"github.com/capsim/capsim/policies"
	"github.com/capsim/capsim/sim"
)

var metrics = map[string]model.Metric{"cpu": model.MetricCPU, "concurrency": model.MetricConcurrency, "rps": model.MetricRPS}

// autoscalers are the autoscaling policies, by name: each reads its own
// keys into a and sets its controller factory, sync period and metric
// window. A new policy registers here (like the balancers' pickers in
// package policies).
var autoscalers = map[string]func(d *decoder, t *table, a *model.AutoscaleConfig){
	"hpa":             (*decoder).hpa,
	"target_tracking": (*decoder).targetTracking,
	"threshold":       (*decoder).threshold,
	"step":            (*decoder).stepScaling,
	"schedule":        (*decoder).scheduleOnly,
	"keda":            (*decoder).keda,
}

var plannedPolicies = map[string]string{
	"queue": "scaling on a queue's lag is policy = \"keda\"",
}

// Kubernetes controllers sync every 15 s on 15 s metrics; AWS alarms
// evaluate 60 s CloudWatch periods.
const (
	k8sPeriod = 15 * sim.Second
	awsPeriod = sim.Minute
)

func (d *decoder) autoscale(t *table, instances int) *model.AutoscaleConfig {
	a := &model.AutoscaleConfig{}
	a.Policy = t.str("policy", "")
	var names []string
	for n := range autoscalers {
		names = append(names, n)
	}
	sort.Strings(names)
	decode, known := autoscalers[a.Policy]
	switch {
	case a.Policy == "":
		d.errorf(t.key("policy"), "missing: name the autoscaling policy (%s)", strings.Join(names, ", "))
	case plannedPolicies[a.Policy] != "":
		d.errorf(t.key("policy"), "%s", plannedPolicies[a.Policy])
	case !known:
		msg := fmt.Sprintf("unknown policy %q; allowed: %s", a.Policy, strings.Join(names, ", "))
		if s := suggest(a.Policy, names); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		d.errorf(t.key("policy"), "%s", msg)
	}
	metric := t.str("metric", "cpu")
	m, ok := metrics[metric]
	if !ok {
		d.errorf(t.key("metric"), "unknown metric %q; allowed: cpu, concurrency, rps", metric)
	}
	a.Metric = m
	minLo := int64(1)
	if a.Policy == "keda" {
		minLo = 0 // KEDA scales to zero
	}
	a.Min = int(t.integer("min", minLo, minLo, 100_000, false))
	a.Max = int(t.integer("max", int64(max(a.Min, instances)), 1, 100_000, false))
	if a.Max < a.Min {
		d.errorf(t.key("max"), "max (%d) is below min (%d)", a.Max, a.Min)
	}
	if !t.has("max") {
		d.errorf(t.key("max"), "missing: the most instances the autoscaler may run")
	}
	a.Schedule = d.schedule(t)
	if !known { // already reported: its keys cannot be checked
		a.Sync, a.Scrape = awsPeriod, awsPeriod
		a.New = func() model.Scaler { return policies.Scheduled{} }
		return a
	}
	decode(d, t, a)
	t.done(nil)
	return a
}

// hpa is the Kubernetes HorizontalPodAutoscaler (autoscaling/v2).
func (d *decoder) hpa(t *table, a *model.AutoscaleConfig) {
	a.Sync = d.positiveDuration(t, "sync", k8sPeriod)
	a.Scrape = d.positiveDuration(t, "scrape", k8sPeriod)
	cfg := policies.HPAConfig{Tolerance: 0.1,
		ScaleUp: d.scalingRules(t, "scale_up", policies.DefaultScaleUp()), ScaleDown: d.scalingRules(t, "scale_down", policies.DefaultScaleDown())}
	if t.has("metrics") {
		cfg.Metrics = d.hpaMetrics(t)
		if len(cfg.Metrics) > 0 {
			a.Metric = cfg.Metrics[0].Metric
		}
	} else {
		cfg.Metrics = []policies.MetricTarget{{Metric: a.Metric, Target: d.target(t)}}
	}
	if v, ok := t.number("tolerance"); ok {
		if v < 0 || v >= 1 {
			d.errorf(t.key("tolerance"), "must be from 0 to below 1, got %v", v)
		} else {
			cfg.Tolerance = v
		}
	}
	a.New = func() model.Scaler { return policies.NewHPA(cfg) }
}

// hpaMetrics reads an HPA's metrics = [ { metric = "cpu", target = 0.6 },
// { metric = "rps", target = 80 } ]: Kubernetes computes a recommendation
// for each and takes the largest.
func (d *decoder) hpaMetrics(t *table) []policies.MetricTarget {
	const example = `{ metric = "cpu", target = 0.6 }`
	for _, k := range []string{"metric", "target"} {
		if t.has(k) {
			d.errorf(t.key(k), "give either metric and target, or metrics = [ %s, … ], not both", example)
		}
	}
	var out []policies.MetricTarget
	seen := map[model.Metric]bool{}
	for _, mt := range d.tables(t, "metrics", example) {
		name := mt.str("metric", "")
		m, ok := metrics[name]
		switch {
		case name == "":
			d.errorf(mt.key("metric"), "missing: cpu, concurrency or rps")
		case !ok:
			d.errorf(mt.key("metric"), "unknown metric %q; allowed: cpu, concurrency, rps", name)
		case seen[m]:
			d.errorf(mt.key("metric"), "%s is listed twice", name)
		default:
			seen[m] = true
		}
		out = append(out, policies.MetricTarget{Metric: m, Target: d.target(mt)})
		mt.done(nil)
	}
	if len(out) == 0 {
		d.errorf(t.key("metrics"), "empty: list at least one metric, such as %s", example)
	}
	return out
}

// targetTracking is AWS target tracking scaling.
func (d *decoder) targetTracking(t *table, a *model.AutoscaleConfig) {
	a.Sync = d.positiveDuration(t, "period", awsPeriod)
	a.Scrape = a.Sync
	cfg := policies.TargetTrackingConfig{Target: d.target(t), Period: a.Sync,
		Warmup: t.duration("warmup", 300*sim.Second), DisableScaleIn: t.boolean("disable_scale_in", false)}
	a.New = func() model.Scaler { return policies.NewTargetTracking(cfg) }
}

// threshold is EC2 simple scaling: one alarm each way, with a cooldown.
func (d *decoder) threshold(t *table, a *model.AutoscaleConfig) {
	a.Sync = d.positiveDuration(t, "period", awsPeriod)
	a.Scrape = a.Sync
	cfg := policies.ThresholdConfig{Period: a.Sync, Cooldown: t.duration("cooldown", 300*sim.Second)}
	if up := t.sub("scale_up"); up == nil {
		d.errorf(t.key("scale_up"), "missing: { above = 0.7, for = \"2m\", add = 1 }")
	} else {
		cfg.Above = d.fraction(up, "above")
		cfg.UpFor = d.positiveDuration(up, "for", sim.Minute)
		cfg.AddN = int(up.integer("add", 1, 1, 100_000, false))
		up.done(nil)
	}
	if down := t.sub("scale_down"); down == nil {
		d.errorf(t.key("scale_down"), "missing: { below = 0.4, for = \"5m\", remove = 1 }")
	} else {
		cfg.Below = d.fraction(down, "below")
		cfg.DownFor = d.positiveDuration(down, "for", sim.Minute)
		cfg.RemoveN = int(down.integer("remove", 1, 1, 100_000, false))
		down.done(nil)
	}
	if cfg.Below >= cfg.Above && cfg.Above > 0 {
		d.errorf(t.key("scale_down.below"), "below (%v) must be under scale_up.above (%v), or the alarms fight", cfg.Below, cfg.Above)
	}
	a.New = func() model.Scaler { return policies.NewThreshold(cfg) }
}

// stepScaling is EC2 step scaling.
func (d *decoder) stepScaling(t *table, a *model.AutoscaleConfig) {
	a.Sync = d.positiveDuration(t, "period", awsPeriod)
	a.Scrape = a.Sync
	cfg := policies.StepConfig{Period: a.Sync, Warmup: t.duration("warmup", 300*sim.Second),
		Up: d.stepRules(t, "scale_up", "above"), Down: d.stepRules(t, "scale_down", "below")}
	if cfg.Down.Threshold >= cfg.Up.Threshold && cfg.Up.Threshold > 0 {
		d.errorf(t.key("scale_down.below"), "below (%v) must be under scale_up.above (%v), or the alarms fight", cfg.Down.Threshold, cfg.Up.Threshold)
	}
	a.New = func() model.Scaler { return policies.NewStep(cfg) }
}

// keda is a KEDA ScaledObject on a queue's lag, with KEDA's defaults
// (lagThreshold 10, activation 0, pollingInterval 30 s, cooldownPeriod
// 300 s, minReplicaCount 0).
func (d *decoder) keda(t *table, a *model.AutoscaleConfig) {
	a.Queue = t.str("queue", "")
	if a.Queue == "" {
		d.errorf(t.key("queue"), "missing: the queue whose lag drives the scaling")
	}
	a.Sync = d.positiveDuration(t, "polling", 30*sim.Second)
	a.Scrape = a.Sync
	cfg := policies.KEDAConfig{Tolerance: 0.1, Cooldown: t.duration("cooldown", 300*sim.Second),
		ScaleUp: d.scalingRules(t, "scale_up", policies.DefaultScaleUp()), ScaleDown: d.scalingRules(t, "scale_down", policies.DefaultScaleDown())}
	cfg.LagThreshold = 10
	if v, ok := t.number("lag_threshold"); ok {
		if !(v > 0) {
			d.errorf(t.key("lag_threshold"), "must be greater than 0 (messages of lag per consumer), got %v", v)
		} else {
			cfg.LagThreshold = v
		}
	}
	if v, ok := t.number("activation_lag"); ok {
		if v < 0 {
			d.errorf(t.key("activation_lag"), "must be ≥ 0, got %v", v)
		}
		cfg.Activation = v
	}
	a.New = func() model.Scaler { return policies.NewKEDA(cfg) }
}

// scheduleOnly scales by scheduled actions alone.
func (d *decoder) scheduleOnly(t *table, a *model.AutoscaleConfig) {
	a.Sync, a.Scrape = awsPeriod, awsPeriod
	if len(a.Schedule) == 0 {
		d.errorf(t.key("schedule"), "missing: the schedule policy needs schedule = [ { at = \"10m\", min = 20 } ]")
	}
	a.New = func() model.Scaler { return policies.Scheduled{} }
}

func (d *decoder) positiveDuration(t *table, key string, def sim.Time) sim.Time {
	v := t.duration(key, def)
	if v <= 0 {
		d.errorf(t.key(key), "must be greater than 0")
		return def
	}
	return v
}

// target reads the metric's target per instance.
func (d *decoder) target(t *table) float64 {
	v, ok := t.number("target")
	switch {
	case !ok && !t.has("target"):
		d.errorf(t.key("target"), "missing: the metric's target per instance (cpu: a fraction such as 0.6)")
	case ok && !(v > 0):
		d.errorf(t.key("target"), "must be greater than 0, got %v", v)
	}
	return v
}

// fraction reads a required threshold greater than 0.
func (d *decoder) fraction(t *table, key string) float64 {
	v, ok := t.number(key)
	switch {
	case !ok && !t.has(key):
		d.errorf(t.key(key), "missing: the alarm threshold (cpu: a fraction such as 0.7)")
	case ok && !(v > 0):
		d.errorf(t.key(key), "must be greater than 0, got %v", v)
	}
	return v
}

// schedule reads scheduled actions: [ { at = "10m", min = 20, max = 80, instances = 30 } ].
func (d *decoder) schedule(t *table) []model.ScheduledAction {
	var out []model.ScheduledAction
	for _, st := range d.tables(t, "schedule", `{ at = "10m", min = 20, max = 80, instances = 30 }`) {
		path := st.path
		a := model.ScheduledAction{At: st.duration("at", 0)}
		a.Min = int(st.integer("min", 0, 1, 100_000, false))
		a.Max = int(st.integer("max", 0, 1, 100_000, false))
		a.Instances = int(st.integer("instances", 0, 1, 100_000, false))
		if a.Min == 0 && a.Max == 0 && a.Instances == 0 {
			d.errorf(path, "a scheduled action needs min, max or instances")
		}
		if a.Min > 0 && a.Max > 0 && a.Max < a.Min {
			d.errorf(st.key("max"), "max (%d) is below min (%d)", a.Max, a.Min)
		}
		st.done(nil)
		out = append(out, a)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At < out[j].At })
	return out
}

// scalingRules reads scale_up or scale_down; keys left out keep the
// Kubernetes defaults.
func (d *decoder) scalingRules(parent *table, key string, def policies.ScalingRules) policies.ScalingRules {
	t := parent.sub(key)
	if t == nil {
		return def
	}
	r := def
	r.Stabilization = t.duration("stabilization", def.Stabilization)
	r.Select = t.str("select", def.Select)
	if r.Select != "max" && r.Select != "min" && r.Select != "disabled" {
		d.errorf(t.key("select"), "unknown select %q; allowed: max, min, disabled", r.Select)
	}
	t.known = append(t.known, "policies")
	if t.has("policies") {
		r.Policies = nil
		for _, pt := range d.tables(t, "policies", `{ type = "pods", value = 4, period = "15s" }`) {
			var p policies.ScalingPolicy
			switch typ := pt.str("type", ""); typ {
			case "pods":
			case "percent":
				p.Percent = true
			default:
				d.errorf(pt.key("type"), "want \"pods\" or \"percent\", got %q", typ)
			}
			p.Value = int(pt.integer("value", 1, 1, 100_000, false))
			p.Period = pt.duration("period", 15*sim.Second)
			if p.Period <= 0 || p.Period > 30*sim.Minute {
				d.errorf(pt.key("period"), "must be from 1s to 30m (as in Kubernetes), got %v", p.Period)
			}
			pt.done(nil)
			r.Policies = append(r.Policies, p)
		}
		if len(r.Policies) == 0 {
			d.errorf(t.key("policies"), "empty: give at least one policy")
		}
	}
	t.done(nil)
	return r
}

// stepRules reads one direction of a step policy:
// { above = 0.5, for = "1m", min_adjustment = 2, steps = [ { lower = 0, upper = 0.1, change = "10%" }, … ] }.
// Step bounds are relative to the alarm threshold, as in AWS.
func (d *decoder) stepRules(parent *table, key, cmp string) policies.StepRules {
	var r policies.StepRules
	t := parent.sub(key)
	if t == nil {
		d.errorf(parent.key(key), "missing: { %s = 0.5, for = \"2m\", steps = [ { change = 1 } ] }", cmp)
		return r
	}
	r.Threshold = d.fraction(t, cmp)
	r.For = d.positiveDuration(t, "for", sim.Minute)
	r.MinAdjustment = int(t.integer("min_adjustment", 0, 0, 100_000, false))
	list := t.list("steps")
	if len(list) == 0 {
		d.errorf(t.key("steps"), "missing: give at least one step, such as { change = 1 }")
	}
	for _, st := range d.tables(t, "steps", `{ lower = 0, upper = 0.1, change = 1 }`) {
		path := st.path
		s := policies.StepAdjustment{Lower: math.Inf(-1), Upper: math.Inf(1)}
		if x, ok := st.number("lower"); ok {
			s.Lower = x
		}
		if x, ok := st.number("upper"); ok {
			s.Upper = x
		}
		if s.Upper <= s.Lower {
			d.errorf(path, "upper (%v) must be above lower (%v)", s.Upper, s.Lower)
		}
		switch {
		case st.has("exact"):
			s.Exact = true
			s.Change = float64(st.integer("exact", 1, 0, 100_000, false))
		case st.has("change"):
			s.Change, s.Percent = d.change(st)
		default:
			d.errorf(path, "a step needs change = 1 (or \"20%%\") or exact = 10")
		}
		st.known = append(st.known, "exact", "change")
		st.done(nil)
		r.Steps = append(r.Steps, s)
	}
	t.done(nil)
	return r
}

// change reads a step's change: a whole number of instances, or "20%".
func (d *decoder) change(t *table) (float64, bool) {
	v, _ := t.get("change")
	switch x := v.(type) {
	case int64:
		return float64(x), false
	case string:
		if p, ok := strings.CutSuffix(strings.TrimSpace(x), "%"); ok {
			if f, err := strconv.ParseFloat(strings.TrimSpace(p), 64); err == nil && f != 0 && !math.IsInf(f, 0) {
				return f, true
			}
		}
	}
	d.errorf(t.key("change"), "want a whole number of instances (2, -1) or a percentage (\"20%%\", \"-10%%\"), got %v", v)
	return 0, false
}
