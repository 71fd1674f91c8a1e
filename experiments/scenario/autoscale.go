package scenario

import (
	"fmt"
	"strings"

	"github.com/capsim/capsim/model"
	"github.com/capsim/capsim/policies"
	"github.com/capsim/capsim/sim"
)

var metrics = map[string]model.Metric{"cpu": model.MetricCPU, "concurrency": model.MetricConcurrency, "rps": model.MetricRPS}

// autoscalePolicies lists the autoscaling policies this version has.
var autoscalePolicies = []string{"hpa"}

var plannedPolicies = map[string]string{
	"target_tracking": "the AWS target-tracking policy is not available in this version yet",
	"step":            "AWS step scaling is not available in this version yet",
	"threshold":       "threshold (simple) scaling is not available in this version yet",
	"schedule":        "scheduled scaling is not available in this version yet",
	"queue":           "queue-lag (KEDA) scaling is not available in this version yet",
}

func (d *decoder) autoscale(t *table, instances int) *model.AutoscaleConfig {
	a := &model.AutoscaleConfig{}
	a.Policy = t.str("policy", "")
	switch {
	case a.Policy == "":
		d.errorf(t.key("policy"), "missing: name the autoscaling policy (%s)", strings.Join(autoscalePolicies, ", "))
	case plannedPolicies[a.Policy] != "":
		d.errorf(t.key("policy"), "%s", plannedPolicies[a.Policy])
	case !contains(autoscalePolicies, a.Policy):
		msg := fmt.Sprintf("unknown policy %q; allowed: %s", a.Policy, strings.Join(autoscalePolicies, ", "))
		if s := suggest(a.Policy, autoscalePolicies); s != "" {
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
	a.Min = int(t.integer("min", 1, 1, 100_000, false))
	a.Max = int(t.integer("max", int64(max(a.Min, instances)), 1, 100_000, false))
	if a.Max < a.Min {
		d.errorf(t.key("max"), "max (%d) is below min (%d)", a.Max, a.Min)
	}
	if !t.has("max") {
		d.errorf(t.key("max"), "missing: the most instances the autoscaler may run")
	}
	target, ok := t.number("target")
	if !ok && !t.has("target") {
		d.errorf(t.key("target"), "missing: the metric's target per instance (cpu: a fraction such as 0.6)")
	} else if ok && !(target > 0) {
		d.errorf(t.key("target"), "must be greater than 0, got %v", target)
	}
	tol := 0.1
	if v, ok := t.number("tolerance"); ok {
		if v < 0 || v >= 1 {
			d.errorf(t.key("tolerance"), "must be from 0 to below 1, got %v", v)
		} else {
			tol = v
		}
	}
	a.Sync = t.duration("sync", 15*sim.Second)
	a.Scrape = t.duration("scrape", 15*sim.Second)
	for _, k := range []string{"sync", "scrape"} {
		if v := map[string]sim.Time{"sync": a.Sync, "scrape": a.Scrape}[k]; v <= 0 {
			d.errorf(t.key(k), "must be greater than 0")
		}
	}
	up := d.scalingRules(t, "scale_up", policies.DefaultScaleUp())
	down := d.scalingRules(t, "scale_down", policies.DefaultScaleDown())
	t.done(nil)
	cfg := policies.HPAConfig{Metric: m, Target: target, Tolerance: tol, ScaleUp: up, ScaleDown: down}
	a.New = func() model.Scaler { return policies.NewHPA(cfg) }
	if a.Sync <= 0 {
		a.Sync = 15 * sim.Second
	}
	if a.Scrape <= 0 {
		a.Scrape = 15 * sim.Second
	}
	return a
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
		for i, v := range t.list("policies") {
			path := elem(t.key("policies"), i)
			m, ok := v.(map[string]any)
			if !ok {
				d.errorf(path, "want { type = \"pods\", value = 4, period = \"15s\" }, got %s", typeName(v))
				continue
			}
			pt := d.table(path, m)
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
