package policies

import (
	"errors"
	"math"

	"github.com/capsim/capsim/model"
	"github.com/capsim/capsim/sim"
)

// Kubernetes HPA constants (kube-controller-manager defaults).
const (
	hpaCPUInitializationPeriod = 5 * sim.Minute  // --horizontal-pod-autoscaler-cpu-initialization-period
	hpaInitialReadinessDelay   = 30 * sim.Second // --horizontal-pod-autoscaler-initial-readiness-delay
)

// ScalingPolicy is one HPA behavior policy: change by Value pods, or by
// Value percent, per Period.
type ScalingPolicy struct {
	Percent bool
	Value   int
	Period  sim.Time
}

// ScalingRules is one direction of an HPA's behavior.
type ScalingRules struct {
	Stabilization sim.Time
	Policies      []ScalingPolicy
	Select        string // "max" (default), "min" or "disabled"
}

// DefaultScaleUp is Kubernetes' default scale-up behavior: no stabilisation,
// at most max(4 pods, 100 %) per 15 s.
func DefaultScaleUp() ScalingRules {
	return ScalingRules{Policies: []ScalingPolicy{{Value: 4, Period: 15 * sim.Second}, {Percent: true, Value: 100, Period: 15 * sim.Second}}, Select: "max"}
}

// DefaultScaleDown is Kubernetes' default scale-down behavior: a 300 s
// stabilisation window, at most 100 % per 15 s.
func DefaultScaleDown() ScalingRules {
	return ScalingRules{Stabilization: 5 * sim.Minute, Policies: []ScalingPolicy{{Percent: true, Value: 100, Period: 15 * sim.Second}}, Select: "max"}
}

// HPAConfig configures a Kubernetes autoscaling/v2 HorizontalPodAutoscaler.
type HPAConfig struct {
	Metrics   []MetricTarget // at least one; the largest recommendation wins
	Tolerance float64        // 0.1
	ScaleUp   ScalingRules
	ScaleDown ScalingRules
}

// MetricTarget is one entry of an HPA's metrics.
type MetricTarget struct {
	Metric model.Metric
	Target float64 // cpu: utilisation fraction (0.6 = 60 %); others: per-pod average
}

// HPA reproduces the Kubernetes horizontal pod autoscaler controller
// (pkg/controller/podautoscaler: replica_calculator.go and horizontal.go):
// the replica calculation with its tolerance and its rules for pods that are
// starting or lack metrics, then stabilisation, then the behavior's rate
// limits, then the min/max clamp — in that order, with its reason strings.
type HPA struct {
	cfg             HPAConfig
	started         bool
	recommendations []timestamped
	upEvents        []timestamped
	downEvents      []timestamped
}

type timestamped struct {
	at sim.Time
	n  int
}

// NewHPA returns a controller with no history.
func NewHPA(cfg HPAConfig) *HPA { return &HPA{cfg: cfg} }

var errNoMetrics = errors.New("did not receive metrics for targeted pods (pods might be unready)")

// Replicas is the recommendation before stabilisation and rate limits
// over all the HPA's metrics (computeReplicasForMetrics in horizontal.go):
// the largest of the metrics' recommendations; an error when no metric
// has a value, or when one has none and the others would scale down.
func (h *HPA) Replicas(now sim.Time, v model.ScaleView) (int, error) {
	replicas, invalid := 0, 0
	var firstErr error
	for _, m := range h.cfg.Metrics {
		n, err := h.replicasFor(now, v, m)
		if err != nil {
			if invalid == 0 {
				firstErr = err
			}
			invalid++
			continue
		}
		if replicas == 0 || n > replicas {
			replicas = n
		}
	}
	if invalid >= len(h.cfg.Metrics) || (invalid > 0 && replicas < v.Current) {
		return v.Current, firstErr
	}
	return replicas, nil
}

// replicasFor is the replica calculator for one metric (GetResourceReplicas
// for cpu, GetMetricReplicas for per-pod metrics).
func (h *HPA) replicasFor(now sim.Time, v model.ScaleView, m MetricTarget) (int, error) {
	cpu := m.Metric == model.MetricCPU
	type podMetric struct{ value, request int64 }
	metrics := map[int]podMetric{}
	var order []int // pods in metrics, in pod order (no map-order dependence)
	var unready, missing []int
	readyCount := 0
	for i, p := range v.Pods {
		if !p.Ready { // Pending pods are ignored.
			continue
		}
		if !p.HasSample {
			missing = append(missing, i)
			continue
		}
		if cpu && h.unready(now, p) {
			unready = append(unready, i)
			continue
		}
		readyCount++
		metrics[i] = sample(p, m.Metric)
		order = append(order, i)
	}
	if len(metrics) == 0 {
		return v.Current, errNoMetrics
	}
	ratio := func() float64 {
		var sum, req int64
		for _, i := range order {
			sum += metrics[i].value
			req += metrics[i].request
		}
		if cpu {
			// Integer percent, as GetResourceUtilizationRatio computes it.
			utilization := sum * 100 / req
			return float64(utilization) / float64(targetPercent(m))
		}
		return float64(sum/int64(len(order))) / float64(targetMilli(m))
	}
	usageRatio := ratio()
	tol := h.cfg.Tolerance
	scaleUpWithUnready := len(unready) > 0 && usageRatio > 1
	if !scaleUpWithUnready && len(missing) == 0 {
		if math.Abs(1-usageRatio) <= tol {
			return v.Current, nil
		}
		return int(math.Ceil(usageRatio * float64(readyCount))), nil
	}
	fill := func(pods []int, value func(p model.PodState) int64) {
		for _, i := range pods {
			p := v.Pods[i]
			metrics[i] = podMetric{value: value(p), request: p.CoresMilli}
			order = append(order, i)
		}
	}
	if len(missing) > 0 {
		if usageRatio < 1 {
			// On a scale-down, missing pods count as using 100 % of their
			// request (or the target, if that is higher).
			fill(missing, func(p model.PodState) int64 {
				if cpu {
					return p.CoresMilli * max(100, targetPercent(m)) / 100
				}
				return targetMilli(m)
			})
		} else if usageRatio > 1 {
			fill(missing, func(model.PodState) int64 { return 0 }) // 0 % on a scale-up
		}
	}
	if scaleUpWithUnready {
		fill(unready, func(model.PodState) int64 { return 0 })
	}
	sortInts(order)
	newRatio := ratio()
	if math.Abs(1-newRatio) <= tol || (usageRatio < 1 && newRatio > 1) || (usageRatio > 1 && newRatio < 1) {
		return v.Current, nil // too small a change, or the direction would flip
	}
	n := int(math.Ceil(newRatio * float64(len(order))))
	if (newRatio < 1 && n > v.Current) || (newRatio > 1 && n < v.Current) {
		return v.Current, nil
	}
	return n, nil
}

// unready applies the cpu readiness rule: within the initialisation period
// after a pod started, its sample is ignored unless a whole metric window
// was collected after it became ready.
func (h *HPA) unready(now sim.Time, p model.PodState) bool {
	if p.Started+hpaCPUInitializationPeriod > now {
		return p.SampledAt < p.Started+p.Window
	}
	return false // ready, and past initialisation
}

// sample is a pod's value of metric m, in the controller's integer units
// (millicores of cpu against the request; milli-units per pod otherwise).
func sample(p model.PodState, m model.Metric) struct{ value, request int64 } {
	v := p.Values[m]
	if m == model.MetricCPU {
		return struct{ value, request int64 }{int64(math.Round(v * float64(p.CoresMilli))), p.CoresMilli}
	}
	return struct{ value, request int64 }{int64(math.Round(v * 1000)), 1000}
}

func targetPercent(m MetricTarget) int64 { return int64(math.Round(m.Target * 100)) }
func targetMilli(m MetricTarget) int64   { return int64(math.Round(m.Target * 1000)) }

func sortInts(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// Decide runs one controller sync (reconcileAutoscaler).
//
// A simulated controller starts as one that has been running steadily at
// the initial instance count: its first recommendation, at time 0, is that
// count (so a fleet sized by hand is not scaled down before the
// stabilisation window has passed).
func (h *HPA) Decide(now sim.Time, v model.ScaleView) (int, string) {
	current := v.Current
	if !h.started {
		h.started = true
		h.recommendations = append(h.recommendations, timestamped{0, current})
	}
	switch {
	case current > v.Max:
		h.store(now, current, v.Max)
		return v.Max, "TooManyReplicas"
	case current < v.Min:
		h.store(now, current, v.Min)
		return v.Min, "TooFewReplicas"
	}
	proposed, err := h.Replicas(now, v)
	if err != nil {
		return current, "FailedGetResourceMetric"
	}
	desired, reason := h.Normalize(now, current, proposed, v.Min, v.Max)
	if desired != current {
		h.store(now, current, desired)
	}
	return desired, reason
}

// Normalize applies stabilisation, then the rate limits of the behavior
// and the min/max bounds (normalizeDesiredReplicasWithBehaviors). The
// reason is, as the controller's conditions say it: the limit that bound
// the result (ScaleUpLimit, ScaleDownLimit, TooManyReplicas,
// TooFewReplicas); else SucceededRescale for a change; else the
// stabilisation that held the recommendation back (ScaleUpStabilized,
// ScaleDownStabilized); else "" (nothing wanted to change).
func (h *HPA) Normalize(now sim.Time, current, proposed, minR, maxR int) (int, string) {
	stabilized, stabReason := h.stabilize(now, current, proposed)
	desired, limitReason := h.rateLimit(now, current, stabilized, minR, maxR)
	switch {
	case desired != stabilized:
		return desired, limitReason
	case desired != current:
		return desired, "SucceededRescale"
	case stabilized != proposed:
		return desired, stabReason
	}
	return desired, ""
}

// stabilize (stabilizeRecommendationWithBehaviors): the recommendation is
// the current count, raised to the lowest recommendation of the scale-up
// window and lowered to the highest of the scale-down window.
func (h *HPA) stabilize(now sim.Time, current, proposed int) (int, string) {
	upCut := now - h.cfg.ScaleUp.Stabilization
	downCut := now - h.cfg.ScaleDown.Stabilization
	up, down := proposed, proposed
	old := -1
	for i, r := range h.recommendations {
		if r.at > upCut {
			up = min(up, r.n)
		}
		if r.at > downCut {
			down = max(down, r.n)
		}
		if r.at < upCut && r.at < downCut {
			old = i
		}
	}
	rec := current
	if rec < up {
		rec = up
	}
	if rec > down {
		rec = down
	}
	if old >= 0 {
		h.recommendations[old] = timestamped{now, proposed}
	} else {
		h.recommendations = append(h.recommendations, timestamped{now, proposed})
	}
	if proposed >= current {
		return rec, "ScaleUpStabilized"
	}
	return rec, "ScaleDownStabilized"
}

// rateLimit (convertDesiredReplicasWithBehaviorRate).
func (h *HPA) rateLimit(now sim.Time, current, desired, minR, maxR int) (int, string) {
	if desired > current {
		limit := scaleUpLimit(now, current, h.upEvents, h.downEvents, h.cfg.ScaleUp)
		if limit < current {
			limit = current
		}
		allowed, reason := maxR, "TooManyReplicas"
		if allowed > limit {
			allowed, reason = limit, "ScaleUpLimit"
		}
		if desired > allowed {
			return allowed, reason
		}
	} else if desired < current {
		limit := scaleDownLimit(now, current, h.upEvents, h.downEvents, h.cfg.ScaleDown)
		if limit > current {
			limit = current
		}
		allowed, reason := minR, "TooFewReplicas"
		if allowed < limit {
			allowed, reason = limit, "ScaleDownLimit"
		}
		if desired < allowed {
			return allowed, reason
		}
	}
	return desired, ""
}

// changeInPeriod sums the replica changes of events strictly after now −
// period (getReplicasChangePerPeriod).
func changeInPeriod(now, period sim.Time, events []timestamped) int {
	n := 0
	for _, e := range events {
		if e.at > now-period {
			n += e.n
		}
	}
	return n
}

func scaleUpLimit(now sim.Time, current int, up, down []timestamped, r ScalingRules) int {
	if r.Select == "disabled" {
		return current
	}
	result, pick := math.MinInt, func(a, b int) int { return max(a, b) }
	if r.Select == "min" {
		result, pick = math.MaxInt, func(a, b int) int { return min(a, b) }
	}
	for _, p := range r.Policies {
		start := current - changeInPeriod(now, p.Period, up) + changeInPeriod(now, p.Period, down)
		var proposed int
		if p.Percent {
			// Rounded up, so that a small fleet can still grow.
			proposed = int(math.Ceil(float64(start) * (1 + float64(p.Value)/100)))
		} else {
			proposed = start + p.Value
		}
		result = pick(result, proposed)
	}
	return result
}

func scaleDownLimit(now sim.Time, current int, up, down []timestamped, r ScalingRules) int {
	if r.Select == "disabled" {
		return current
	}
	result, pick := math.MaxInt, func(a, b int) int { return min(a, b) }
	if r.Select == "min" {
		result, pick = math.MinInt, func(a, b int) int { return max(a, b) }
	}
	for _, p := range r.Policies {
		start := current - changeInPeriod(now, p.Period, up) + changeInPeriod(now, p.Period, down)
		var proposed int
		if p.Percent {
			proposed = int(float64(start) * (1 - float64(p.Value)/100)) // truncated, as in Kubernetes
		} else {
			proposed = start - p.Value
		}
		result = pick(result, proposed)
	}
	return result
}

// store records a scale event, reusing a slot older than the longest
// policy period (storeScaleEvent).
func (h *HPA) store(now sim.Time, from, to int) {
	events, rules, change := &h.upEvents, h.cfg.ScaleUp, to-from
	if to < from {
		events, rules, change = &h.downEvents, h.cfg.ScaleDown, from-to
	}
	if change == 0 {
		return
	}
	var longest sim.Time
	for _, p := range rules.Policies {
		longest = max(longest, p.Period)
	}
	for i, e := range *events {
		if e.at < now-longest {
			(*events)[i] = timestamped{now, change}
			return
		}
	}
	*events = append(*events, timestamped{now, change})
}
