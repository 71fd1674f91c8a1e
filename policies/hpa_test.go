package policies

import (
	"testing"

	"github.com/capsim/capsim/model"
	"github.com/capsim/capsim/sim"
)

// pods returns n ready pods with 1-core requests, each with a cpu sample
// of util, started long ago.
func pods(n int, util float64) []model.PodState {
	p := make([]model.PodState, n)
	for i := range p {
		p[i] = model.PodState{Ready: true, Started: -time(1000), HasSample: true, Value: util,
			SampledAt: 0, Window: 15 * sim.Second, CoresMilli: 1000}
		p[i].Values[model.MetricCPU] = util
	}
	return p
}

func time(s float64) sim.Time { return sim.FromSeconds(s) }

func cpuHPA(target float64) *HPA {
	return NewHPA(HPAConfig{Metrics: []MetricTarget{{model.MetricCPU, target}}, Tolerance: 0.1, ScaleUp: DefaultScaleUp(), ScaleDown: DefaultScaleDown()})
}

// The replica calculation: desired = ceil(current × metric / target), and no
// change within the 10 % tolerance. Reference: Kubernetes docs, "Algorithm
// details" (desiredReplicas = ceil[currentReplicas × (currentMetricValue /
// desiredMetricValue)]); replica_calculator.go.
func TestHPAReplicaFormula(t *testing.T) {
	cases := []struct {
		name   string
		n      int
		util   float64
		target float64
		want   int
	}{
		{"double the target doubles", 1, 1.0, 0.5, 2},
		{"half the target halves", 4, 0.25, 0.5, 2},
		{"within tolerance (ratio 1.08)", 10, 0.54, 0.5, 10},
		{"just beyond tolerance (ratio 1.12)", 10, 0.56, 0.5, 12},
		{"rounds up", 3, 0.7, 0.6, 4},                              // 3 × 70/60 = 3.5 → 4
		{"integer percent (70.04 % is 70 %)", 10, 0.7004, 0.5, 14}, // a float ratio 1.4008 would give 15
		{"scale to one", 8, 0.05, 0.6, 1},
	}
	for _, c := range cases {
		h := cpuHPA(c.target)
		got, err := h.Replicas(0, model.ScaleView{Current: c.n, Pods: pods(c.n, c.util), Min: 1, Max: 100})
		if err != nil || got != c.want {
			t.Errorf("%s: %d (%v), want %d", c.name, got, err, c.want)
		}
	}
}

// Pods without metrics count as 100 % on a scale-down and 0 % on a
// scale-up; unready pods (cpu, within initialisation) count as 0 % on a
// scale-up; pending pods are ignored. Reference: replica_calculator.go.
func TestHPAMissingAndUnready(t *testing.T) {
	h := cpuHPA(0.5)
	// Scale-down: 4 pods at 10 %, 2 without metrics. Ratio over the 4 is
	// 0.2; with the missing at 100 %: (40+200)/6 = 40 % → ratio 0.8 → ceil(0.8 × 6) = 5.
	p := append(pods(4, 0.1), model.PodState{Ready: true, Started: -time(1000), CoresMilli: 1000}, model.PodState{Ready: true, Started: -time(1000), CoresMilli: 1000})
	if got, _ := h.Replicas(0, model.ScaleView{Current: 6, Pods: p}); got != 5 {
		t.Errorf("scale-down with missing metrics: %d, want 5", got)
	}
	// Scale-up: 2 pods at 100 %, 2 just started (unready: their sample
	// window began before they were ready) → counted as 0 %: 200/4 = 50 % →
	// ratio 1.0: no change.
	p = pods(2, 1.0)
	for i := 0; i < 2; i++ {
		p = append(p, model.PodState{Ready: true, Started: -time(5), HasSample: true, Values: [model.MetricCount]float64{model.MetricCPU: 0.9}, SampledAt: 0, Window: 15 * sim.Second, CoresMilli: 1000})
	}
	if got, _ := h.Replicas(0, model.ScaleView{Current: 4, Pods: p}); got != 4 {
		t.Errorf("scale-up with unready pods: %d, want 4", got)
	}
	// Same, but the new pods' samples cover a full window since ready:
	// they count: (200+180)/4 = 95 % → ratio 1.9 → 8.
	for i := 2; i < 4; i++ {
		p[i].Started = -time(20)
	}
	if got, _ := h.Replicas(0, model.ScaleView{Current: 4, Pods: p}); got != 8 {
		t.Errorf("initialised pods: %d, want 8", got)
	}
	// Pending pods are ignored: 2 ready at 100 % and 3 pending → ceil(2 × 2) = 4.
	p = append(pods(2, 1.0), model.PodState{}, model.PodState{}, model.PodState{})
	if got, _ := h.Replicas(0, model.ScaleView{Current: 5, Pods: p}); got != 4 {
		t.Errorf("with pending pods: %d, want 4", got)
	}
	if _, err := h.Replicas(0, model.ScaleView{Current: 2, Pods: []model.PodState{{}, {}}}); err == nil {
		t.Error("no metrics at all: no error")
	}
}

// Default scale-up behavior: at most max(4 pods, 100 %) per 15 s.
// Reference: Kubernetes docs, "Default Behavior".
func TestHPADefaultScaleUpLimit(t *testing.T) {
	h := cpuHPA(0.05) // pods at 100 %: the metric asks for 20× the replicas
	current := 2
	var got []int
	for i := 0; i < 5; i++ {
		now := time(15 * float64(i))
		d, reason := h.Decide(now, model.ScaleView{Current: current, Pods: pods(current, 1.0), Min: 1, Max: 1000})
		if reason != "ScaleUpLimit" {
			t.Errorf("t=%v: %d → %d with reason %q", now, current, d, reason)
		}
		current = d
		got = append(got, d)
	}
	// 2 → 6 (+4 pods) → 12 (+100 %) → 24 → 48 → 96.
	want := []int{6, 12, 24, 48, 96}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("replicas %v, want %v", got, want)
		}
	}
}

// The documented scale-down example: policies {4 pods / 60 s, 10 % / 60 s},
// select max (the policy allowing the biggest change). From 80 replicas the
// percent policy removes 8, then 8 (10 % of 72 = 7.2, rounded up), ...;
// below 40 the pods policy removes more. Reference: Kubernetes docs,
// "Scaling Policies".
func TestHPAScaleDownPolicies(t *testing.T) {
	rules := ScalingRules{Policies: []ScalingPolicy{{Value: 4, Period: time(60)}, {Percent: true, Value: 10, Period: time(60)}}, Select: "max"}
	cases := []struct {
		sel  string
		want []int
	}{
		{"max", []int{72, 64, 57, 51, 45, 40, 36, 32, 28, 24, 20}},
		{"min", []int{76, 72, 68, 64, 60, 56, 52, 48, 44, 40, 36}}, // the smaller change
		{"disabled", []int{80, 80, 80}},
	}
	for _, c := range cases {
		r := rules
		r.Select = c.sel
		h := NewHPA(HPAConfig{Metrics: []MetricTarget{{model.MetricCPU, 0.5}}, Tolerance: 0.1, ScaleUp: DefaultScaleUp(), ScaleDown: ScalingRules{Policies: r.Policies, Select: r.Select}})
		current := 80
		for i, want := range c.want {
			now := time(60 * float64(i))
			d, reason := h.Decide(now, model.ScaleView{Current: current, Pods: pods(current, 0.01), Min: 1, Max: 100})
			if d != want {
				t.Fatalf("select %s step %d: %d → %d, want %d", c.sel, i, current, d, want)
			}
			if d != current && reason != "ScaleDownLimit" {
				t.Errorf("select %s step %d: reason %q", c.sel, i, reason)
			}
			current = d
		}
	}
	// Within the period no more than the policy allows: a second decision
	// 30 s after the first removes nothing more.
	h := NewHPA(HPAConfig{Metrics: []MetricTarget{{model.MetricCPU, 0.5}}, Tolerance: 0.1, ScaleUp: DefaultScaleUp(), ScaleDown: rules})
	d1, _ := h.Decide(0, model.ScaleView{Current: 80, Pods: pods(80, 0.01), Min: 1, Max: 100})
	d2, _ := h.Decide(time(30), model.ScaleView{Current: d1, Pods: pods(d1, 0.01), Min: 1, Max: 100})
	if d1 != 72 || d2 != 72 {
		t.Errorf("80 → %d → %d within one period, want 72 → 72", d1, d2)
	}
}

// The scale-down stabilisation window keeps the highest recommendation of
// the last 300 s. Reference: Kubernetes docs, "Stabilization window".
func TestHPAStabilization(t *testing.T) {
	h := cpuHPA(0.5)
	view := func(n int, util float64) model.ScaleView {
		return model.ScaleView{Current: n, Pods: pods(n, util), Min: 1, Max: 100}
	}
	if d, r := h.Decide(0, view(10, 0.5)); d != 10 || r != "" {
		t.Fatalf("steady: %d %q", d, r)
	}
	// Load halves: the recommendation is 5, but 10 was recommended within
	// the window (which excludes its start: at 300 s the 0 s sample is out).
	for s := 15.0; s < 300; s += 15 {
		if d, r := h.Decide(time(s), view(10, 0.25)); d != 10 || r != "ScaleDownStabilized" {
			t.Fatalf("t=%vs: %d %q, want 10 ScaleDownStabilized", s, d, r)
		}
	}
	if d, r := h.Decide(time(300), view(10, 0.25)); d != 5 || r != "SucceededRescale" {
		t.Errorf("after the window: %d %q, want 5 SucceededRescale", d, r)
	}
}

func TestHPABounds(t *testing.T) {
	h := cpuHPA(0.5)
	if d, r := h.Decide(0, model.ScaleView{Current: 4, Pods: pods(4, 1.0), Min: 1, Max: 6}); d != 6 || r != "TooManyReplicas" {
		t.Errorf("above max: %d %q", d, r)
	}
	h = cpuHPA(0.5)
	if d, r := h.Decide(time(600), model.ScaleView{Current: 4, Pods: pods(4, 0.01), Min: 3, Max: 6}); d != 3 || r != "TooFewReplicas" {
		t.Errorf("below min: %d %q", d, r)
	}
	h = cpuHPA(0.5)
	if d, r := h.Decide(0, model.ScaleView{Current: 8, Pods: pods(8, 0.5), Min: 1, Max: 6}); d != 6 || r != "TooManyReplicas" {
		t.Errorf("current above max: %d %q", d, r)
	}
}

// Per-pod metrics (concurrency, rps): ratio of the average to the target.
func TestHPAPodsMetric(t *testing.T) {
	h := NewHPA(HPAConfig{Metrics: []MetricTarget{{model.MetricRPS, 100}}, Tolerance: 0.1, ScaleUp: DefaultScaleUp(), ScaleDown: DefaultScaleDown()})
	p := pods(3, 0)
	for i, v := range []float64{150, 250, 200} {
		p[i].Values[model.MetricRPS] = v
	}
	if got, _ := h.Replicas(0, model.ScaleView{Current: 3, Pods: p}); got != 6 {
		t.Errorf("3 pods at 200 rps, target 100: %d, want 6", got)
	}
}

// The controller starts as if it had run steadily at the initial count: no
// scale-down within the stabilisation window of the start.
func TestHPAStartsSteady(t *testing.T) {
	h := cpuHPA(0.5)
	v := model.ScaleView{Current: 30, Pods: pods(30, 0.05), Min: 1, Max: 100}
	if d, r := h.Decide(time(15), v); d != 30 || r != "ScaleDownStabilized" {
		t.Errorf("at 15 s: %d %q, want 30 ScaleDownStabilized", d, r)
	}
	if d, _ := h.Decide(time(300), v); d != 3 {
		t.Errorf("at 300 s: %d, want 3", d)
	}
}

// With several metrics each gives its own recommendation and the largest
// wins (computeReplicasForMetrics): 4 pods at 30 % cpu against 60 % want 2,
// at 160 rps against 80 want 8 → 8; at 40 rps (want 2) and 90 % cpu (want
// 6) → 6.
func TestHPAMultipleMetrics(t *testing.T) {
	h := NewHPA(HPAConfig{Metrics: []MetricTarget{{model.MetricCPU, 0.6}, {model.MetricRPS, 80}}, Tolerance: 0.1,
		ScaleUp: DefaultScaleUp(), ScaleDown: DefaultScaleDown()})
	for _, tc := range []struct {
		cpu, rps float64
		want     int
	}{{0.3, 160, 8}, {0.9, 40, 6}, {0.3, 40, 2}, {0.6, 80, 4}} {
		p := pods(4, tc.cpu)
		for i := range p {
			p[i].Values[model.MetricRPS] = tc.rps
		}
		if got, err := h.Replicas(0, model.ScaleView{Current: 4, Pods: p}); got != tc.want || err != nil {
			t.Errorf("cpu %v, rps %v: %d (%v), want %d", tc.cpu, tc.rps, got, err, tc.want)
		}
	}
	// No pod has a sample: every metric is invalid, no recommendation.
	p := pods(4, 0.3)
	for i := range p {
		p[i].HasSample = false
	}
	if got, err := h.Replicas(0, model.ScaleView{Current: 4, Pods: p}); got != 4 || err == nil {
		t.Errorf("no samples: %d (%v), want 4 and an error", got, err)
	}
}
