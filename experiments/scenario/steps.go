package scenario

import (
	"fmt"

	"github.com/capsim/capsim/model"
	"github.com/capsim/capsim/sim"
)

// stepKeys are the keys that say what a step does; a step has exactly one.
var stepKeys = []string{"cpu", "sleep", "call", "async", "parallel", "publish"}

// steps reads an endpoint's steps = [ … ].
func (d *decoder) steps(t *table, key string) []model.Step {
	list := t.list(key)
	if list == nil && t.has(key) {
		return nil
	}
	if list == nil {
		d.errorf(t.key(key), "missing: an endpoint needs steps = [ … ]")
		return nil
	}
	var out []model.Step
	for _, st := range d.tables(t, key, `a step table such as { cpu = "exp(5ms)" }`) {
		out = append(out, d.step(st))
	}
	return out
}

// step reads one step table.
func (d *decoder) step(st *table) model.Step {
	step := model.Step{P: 1}
	kinds := 0
	for _, k := range stepKeys {
		if st.has(k) {
			kinds++
		}
	}
	st.known = append(st.known, stepKeys...)
	if kinds != 1 {
		d.errorf(st.path, "a step needs exactly one of cpu, call, sleep, async, parallel or publish; this one has %d", kinds)
	}
	switch {
	case st.has("cpu"):
		step.Kind, step.Dist = model.StepCPU, st.distribution("cpu")
	case st.has("sleep"):
		step.Kind, step.Dist = model.StepSleep, st.distribution("sleep")
	case st.has("call"):
		step.Kind = model.StepCall
		d.callKeys(st, "call", &step)
		step.Timeout = st.duration("timeout", 0)
		d.retryKeys(st, &step)
		if b := st.sub("breaker"); b != nil {
			step.Breaker = d.breaker(b)
		}
		switch oe := st.str("on_error", "fail"); oe {
		case "fail":
		case "continue":
			step.ContinueOnError = true
		default:
			d.errorf(st.key("on_error"), "want \"fail\" (the endpoint fails with the call) or \"continue\" (it goes on; steps with if = \"error\" run), got %q", oe)
		}
	case st.has("async"):
		step.Kind = model.StepAsync
		d.callKeys(st, "async", &step)
	case st.has("parallel"):
		step.Kind = model.StepParallel
		d.parallel(st, &step)
	case st.has("publish"):
		step.Kind = model.StepPublish
		step.Target = st.str("publish", "")
	}
	switch cond := st.str("if", ""); cond {
	case "":
	case "hit":
		step.If = model.IfHit
	case "miss":
		step.If = model.IfMiss
	case "error":
		step.If = model.IfError
	default:
		d.errorf(st.key("if"), "want \"hit\" or \"miss\" (the endpoint's last cache lookup), or \"error\" (its last call failed, with on_error = \"continue\"), got %q", cond)
	}
	if p, ok := st.number("p"); ok {
		if p < 0 || p > 1 {
			d.errorf(st.key("p"), "probability must be from 0 to 1, got %v", p)
		} else {
			step.P = p
		}
	}
	// Keys the step's kind does not take.
	only := map[string]string{
		"endpoint": "only call and async steps take endpoint",
		"write":    "only call and async steps take write",
		"timeout":  "only call steps take timeout (a parallel step's branches take one each)",
		"wait":     "only parallel steps take wait",
	}
	takes := map[model.StepKind][]string{
		model.StepCall:     {"endpoint", "write", "timeout"},
		model.StepAsync:    {"endpoint", "write"},
		model.StepParallel: {"wait"},
	}
	for _, k := range []string{"endpoint", "write", "timeout", "wait"} {
		if st.has(k) && kinds == 1 && !contains(takes[step.Kind], k) {
			st.known = append(st.known, k)
			msg := only[k]
			if step.Kind == model.StepAsync && k == "timeout" {
				msg = "an async step does not wait for its answer, so it takes no timeout"
			}
			d.errorf(st.key(k), "%s", msg)
		}
	}
	st.done(map[string]string{
		"on_error": "on_error (fallback steps) is not available in this version yet",
	})
	return step
}

// retryKeys reads a call step's retries, backoff, backoff_max, jitter and
// retry_on.
func (d *decoder) retryKeys(st *table, step *model.Step) {
	keys := []string{"retries", "backoff", "backoff_max", "jitter", "retry_on", "retry_budget", "retry_min_per_s"}
	st.known = append(st.known, keys...)
	step.RetryOn = model.RetryOn{Timeout: true, Error: true, Rejected: true}
	if !st.has("retries") {
		for _, k := range keys[1:] {
			if st.has(k) {
				d.errorf(st.key(k), "%s applies to retries: give retries = N too", k)
			}
		}
		return
	}
	step.Retries = int(st.integer("retries", 0, 0, 100, false))
	if v, ok := st.number("retry_budget"); ok {
		if v < 0 || v > 10 {
			d.errorf(st.key("retry_budget"), "want the share of calls retries may add, from 0 to 10 (0.2: 20 %%), got %v", v)
		}
		step.Budget = &model.RetryBudget{Percent: v, MinPerSec: 10, TTL: 10 * sim.Second}
		if m, ok := st.number("retry_min_per_s"); ok {
			if m < 0 {
				d.errorf(st.key("retry_min_per_s"), "must be ≥ 0, got %v", m)
			}
			step.Budget.MinPerSec = m
		}
	} else if st.has("retry_min_per_s") {
		d.errorf(st.key("retry_min_per_s"), "applies to a retry budget: give retry_budget = 0.2 too")
	}
	step.Backoff = st.duration("backoff", 0)
	step.BackoffMax = st.duration("backoff_max", 0)
	if step.BackoffMax > 0 && step.BackoffMax < step.Backoff {
		d.errorf(st.key("backoff_max"), "backoff_max (%v) is below backoff (%v)", step.BackoffMax, step.Backoff)
	}
	switch j := st.str("jitter", "full"); j {
	case "full":
		step.Jitter = model.JitterFull
	case "equal":
		step.Jitter = model.JitterEqual
	case "none":
		step.Jitter = model.JitterNone
	default:
		d.errorf(st.key("jitter"), "want \"full\", \"equal\" or \"none\", got %q", j)
	}
	if st.has("retry_on") {
		step.RetryOn = model.RetryOn{}
		list := st.list("retry_on")
		if list == nil {
			d.errorf(st.key("retry_on"), "want a list such as [\"timeout\", \"error\", \"rejected\"]")
		}
		for i, v := range list {
			switch v {
			case "timeout":
				step.RetryOn.Timeout = true
			case "error":
				step.RetryOn.Error = true
			case "rejected":
				step.RetryOn.Rejected = true
			default:
				d.errorf(elem(st.key("retry_on"), i), "want \"timeout\", \"error\" or \"rejected\", got %s", quoted(v))
			}
		}
	}
}

// callKeys reads the target of a call or async step, and what it writes.
func (d *decoder) callKeys(st *table, key string, step *model.Step) {
	step.Target = st.str(key, "")
	if step.Target == "" && st.has(key) {
		d.errorf(st.key(key), "name the component to call")
	}
	step.Endpoint = st.str("endpoint", "")
	step.Write = st.boolean("write", false)
}

// parallel reads { parallel = [ {call…}, … ], wait = "all" | "any" | N }.
func (d *decoder) parallel(st *table, step *model.Step) {
	for _, b := range d.tables(st, "parallel", `a call such as { call = "recs" }`) {
		br := model.Step{Kind: model.StepCall, P: 1}
		if !b.has("call") {
			d.errorf(b.path, "a parallel branch is a call: { call = \"NAME\", endpoint = …, timeout = … }")
		}
		d.callKeys(b, "call", &br)
		br.Timeout = b.duration("timeout", 0)
		b.done(map[string]string{"retries": "retries are not available in this version yet"})
		step.Branches = append(step.Branches, br)
	}
	if list := st.list("parallel"); list != nil && len(list) == 0 {
		d.errorf(st.key("parallel"), "a parallel step needs at least one branch")
	}
	n := len(step.Branches)
	v, ok := st.get("wait")
	switch w := v.(type) {
	case nil:
		step.Wait = model.WaitAll
	case string:
		switch w {
		case "all":
			step.Wait = model.WaitAll
		case "any":
			step.Wait = 1
		default:
			d.errorf(st.key("wait"), "want \"all\", \"any\" or a number of branches from 1 to %d, got %q", n, w)
		}
	case int64:
		if w < 1 || int(w) > n {
			d.errorf(st.key("wait"), "want \"all\", \"any\" or a number of branches from 1 to %d, got %d", n, w)
		} else {
			step.Wait = int(w)
		}
	default:
		if ok {
			d.errorf(st.key("wait"), "want \"all\", \"any\" or a number of branches, got %s", typeName(v))
		}
	}
	st.known = append(st.known, "wait")
}

// quoted shows a TOML value in a message: strings quoted.
func quoted(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(v)
}

// breaker reads breaker = { window, failure_rate, min_calls, open,
// half_open_calls, slow_call, slow_rate, scope }, with resilience4j's defaults
// (window 100 calls, failure rate 50 %, min_calls 100 — at most the window —,
// open 60 s, 10 half-open calls, slow_call 60 s at a rate of 100 %).
func (d *decoder) breaker(t *table) *model.BreakerConfig {
	b := &model.BreakerConfig{Window: 100, FailureRate: 0.5, Open: 60 * sim.Second, HalfOpenCalls: 10, SlowRate: 1}
	if v, ok := t.get("window"); ok {
		switch w := v.(type) {
		case int64:
			b.Window = int(t.integer("window", 100, 1, 1_000_000, false))
		case string:
			b.WindowTime = t.duration("window", 0)
			if b.WindowTime < sim.Second {
				d.errorf(t.key("window"), "a time-based window must be at least 1s (it counts one-second buckets)")
				b.WindowTime = sim.Second
			}
		default:
			d.errorf(t.key("window"), "want a number of calls (100) or a duration (\"60s\"), got %s", typeName(w))
		}
	}
	b.FailureRate = d.rate01(t, "failure_rate", b.FailureRate)
	def := int64(100)
	if b.WindowTime == 0 {
		def = int64(min(b.Window, 100))
	}
	b.MinCalls = int(t.integer("min_calls", def, 1, 1_000_000, false))
	b.Open = d.positiveDuration(t, "open", b.Open)
	b.HalfOpenCalls = int(t.integer("half_open_calls", 10, 1, 100_000, false))
	b.SlowCall = t.duration("slow_call", 0)
	b.SlowRate = d.rate01(t, "slow_rate", b.SlowRate)
	switch scope := t.str("scope", "component"); scope {
	case "component":
	case "instance":
		b.PerInstance = true
	default:
		d.errorf(t.key("scope"), "want \"component\" (one breaker shared by the calling instances) or \"instance\" (one in each, as resilience4j in each process), got %q", scope)
	}
	t.done(nil)
	return b
}

// rate01 reads a fraction in (0, 1], or keeps def.
func (d *decoder) rate01(t *table, key string, def float64) float64 {
	v, ok := t.number(key)
	if !ok {
		return def
	}
	if v <= 0 || v > 1 {
		d.errorf(t.key(key), "want a fraction greater than 0 and at most 1, got %v", v)
		return def
	}
	return v
}
