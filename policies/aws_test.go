package policies

import (
	"testing"

	"github.com/capsim/capsim/model"
	"github.com/capsim/capsim/sim"
)

func minutes(m float64) sim.Time { return sim.FromSeconds(60 * m) }

// "Add one instance when average CPU > 70 % for 2 minutes, remove one when
// < 40 % for 5 minutes", 60 s periods, 300 s cooldown.
func TestThresholdAlarmsAndCooldown(t *testing.T) {
	p := NewThreshold(ThresholdConfig{Above: 0.7, Below: 0.4, UpFor: minutes(2), DownFor: minutes(5), AddN: 1, RemoveN: 1, Cooldown: minutes(5), Period: minutes(1)})
	current := 4
	var changes []sim.Time
	// 10 minutes at 90 %, then 20 minutes at 10 %.
	for m := 1; m <= 30; m++ {
		util := 0.9
		if m > 10 {
			util = 0.1
		}
		now := minutes(float64(m))
		d, reason := p.Decide(now, model.ScaleView{Current: current, Pods: pods(current, util), Min: 2, Max: 10})
		if d != current {
			changes = append(changes, now)
			if (d > current) != (util > 0.5) || reason == "" {
				t.Errorf("minute %d: %d → %d (%q)", m, current, d, reason)
			}
			current = d
		}
	}
	// Up at minute 2 (2 breaching periods), then again only after the
	// cooldown (minute 7); down after 5 low periods (minute 15), then every
	// 5 minutes (cooldown), to the minimum of 2.
	want := []sim.Time{minutes(2), minutes(7), minutes(15), minutes(20), minutes(25), minutes(30)}
	if len(changes) != len(want) {
		t.Fatalf("changes at %v, want %v", changes, want)
	}
	for i := range want {
		if changes[i] != want[i] {
			t.Fatalf("changes at %v, want %v", changes, want)
		}
	}
	for i := 1; i < len(changes); i++ {
		if changes[i]-changes[i-1] < minutes(5) {
			t.Errorf("acted twice within the cooldown: %v and %v", changes[i-1], changes[i])
		}
	}
	if current != 2 {
		t.Errorf("ended at %d instances, want the minimum 2", current)
	}
}

// Target tracking: scale out by ceil(n × metric/target) after 3 breaching
// minutes, scale in by floor(n × (1 − metric/target)) after 15 minutes below
// 90 % of the target. Reference: EC2 Auto Scaling user guide, "Target
// tracking scaling policies".
func TestTargetTracking(t *testing.T) {
	p := NewTargetTracking(TargetTrackingConfig{Target: 0.5, Warmup: minutes(5), Period: minutes(1)})
	v := func(n int, util float64) model.ScaleView {
		return model.ScaleView{Current: n, Pods: pods(n, util), Min: 1, Max: 100}
	}
	for m := 1; m <= 2; m++ {
		if d, _ := p.Decide(minutes(float64(m)), v(10, 0.61)); d != 10 {
			t.Fatalf("minute %d: acted before 3 breaching periods: %d", m, d)
		}
	}
	if d, _ := p.Decide(minutes(3), v(10, 0.61)); d != 13 { // 10 × 1.22 = 12.2 → 13
		t.Errorf("scale-out: %d, want 13", d)
	}
	p = NewTargetTracking(TargetTrackingConfig{Target: 0.5, Warmup: minutes(5), Period: minutes(1)})
	var d int
	for m := 1; m <= 15; m++ {
		d, _ = p.Decide(minutes(float64(m)), v(10, 0.32))
		if m < 15 && d != 10 {
			t.Fatalf("minute %d: scaled in early: %d", m, d)
		}
	}
	if d != 7 { // remove floor(10 × 0.36) = 3
		t.Errorf("scale-in: %d, want 7", d)
	}
	// Instances still warming up are left out of the metric and count as
	// capacity already on its way: 4 warm at 100 % and 6 new ones → 8
	// wanted, 10 already there: no change.
	p = NewTargetTracking(TargetTrackingConfig{Target: 0.5, Warmup: minutes(5), Period: minutes(1)})
	ps := pods(10, 1.0)
	for i := 4; i < 10; i++ {
		ps[i].Started = minutes(1)
		ps[i].Value = 0
	}
	var got int
	for m := 1; m <= 3; m++ {
		got, _ = p.Decide(minutes(float64(m)), model.ScaleView{Current: 10, Pods: ps, Min: 1, Max: 100})
	}
	if got != 10 {
		t.Errorf("with warming instances: %d, want 10", got)
	}
}
