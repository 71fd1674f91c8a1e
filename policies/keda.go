package policies

import (
	"math"

	"github.com/capsim/capsim/model"
	"github.com/capsim/capsim/sim"
)

// KEDAConfig configures a KEDA ScaledObject with a Kafka-style lag trigger.
type KEDAConfig struct {
	LagThreshold float64  // lagThreshold: the HPA's AverageValue target, messages per replica
	Activation   float64  // activationLagThreshold: above it the object is active
	Cooldown     sim.Time // cooldownPeriod: inactive this long, the operator scales to zero
	Tolerance    float64  // the HPA's, 0.1
	ScaleUp      ScalingRules
	ScaleDown    ScalingRules
}

// KEDA reproduces a KEDA ScaledObject driving an HPA on a queue's lag
// (keda.sh docs, Kafka scaler and ScaledObject spec): the operator, at
// every polling interval, scales 0 → 1 when the lag exceeds the activation
// threshold and 1 → 0 once it has been at or below it for the cooldown
// period (with a minimum of 0); between 1 and N the HPA scales on the lag
// as an external metric with an AverageValue target of lagThreshold —
// desired = ceil(lag / lagThreshold), within the HPA's tolerance, through
// its stabilisation and rate limits. As the Kafka scaler does without
// allowIdleConsumers, the lag it reports is capped at lagThreshold ×
// partitions, so consumers never outnumber partitions.
type KEDA struct {
	cfg        KEDAConfig
	hpa        *HPA
	lastActive sim.Time
}

// NewKEDA returns a controller with no history.
func NewKEDA(cfg KEDAConfig) *KEDA {
	return &KEDA{cfg: cfg, hpa: NewHPA(HPAConfig{Tolerance: cfg.Tolerance, ScaleUp: cfg.ScaleUp, ScaleDown: cfg.ScaleDown})}
}

// Decide is one polling interval.
func (k *KEDA) Decide(now sim.Time, v model.ScaleView) (int, string) {
	lag := v.External
	if v.Partitions > 0 {
		lag = math.Min(lag, k.cfg.LagThreshold*float64(v.Partitions))
	}
	active := v.External > k.cfg.Activation
	if active {
		k.lastActive = now
	}
	switch {
	case v.Current == 0 && active:
		return max(1, v.Min), "KEDAScaledObjectActivated"
	case v.Current == 0:
		return 0, ""
	case !active && v.Min == 0 && now-k.lastActive >= k.cfg.Cooldown:
		return 0, "KEDAScaledObjectDeactivated"
	}
	// The HPA on an external AverageValue metric
	// (replica_calculator.go GetExternalPerPodMetricReplicas): usage ratio
	// lag/(target × current), tolerance, then ceil(lag/target).
	proposed := v.Current
	if ratio := lag / (k.cfg.LagThreshold * float64(v.Current)); math.Abs(ratio-1) > k.cfg.Tolerance {
		proposed = int(math.Ceil(lag / k.cfg.LagThreshold))
	}
	proposed = max(proposed, 1)
	if !k.hpa.started {
		k.hpa.started = true
		k.hpa.recommendations = append(k.hpa.recommendations, timestamped{0, v.Current})
	}
	desired, reason := k.hpa.Normalize(now, v.Current, proposed, max(1, v.Min), v.Max)
	if desired != v.Current {
		k.hpa.store(now, v.Current, desired)
	}
	return desired, reason
}
