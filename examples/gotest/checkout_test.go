package gotest

import (
	"testing"

	"github.com/capsim/capsim/experiments"
	"github.com/capsim/capsim/experiments/scenario"
)

func run(t *testing.T, overrides ...string) *experiments.Outcome {
	t.Helper()
	sc, err := scenario.Load("checkout.toml", overrides)
	if err != nil {
		t.Fatal(err)
	}
	o, err := experiments.Run(sc, experiments.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.InvariantError(); err != nil {
		t.Fatal(err)
	}
	return o
}

// The planned fleet meets the SLO at the peak, and the HPA does not thrash.
func TestCheckoutMeetsSLO(t *testing.T) {
	o := run(t)
	if err := o.SLOError(); err != nil {
		t.Error(err)
	}
	if err := o.ThrashError(0); err != nil {
		t.Error(err)
	}
}

// With the autoscaler capped at the minimum fleet, the peak is too much:
// the model is sensitive to the capacity it is meant to guard.
func TestCheckoutWithoutAutoscalingFails(t *testing.T) {
	o := run(t, "service.api.instances=5", "service.api.autoscale.min=5", "service.api.autoscale.max=5")
	if o.SLOError() == nil {
		t.Errorf("5 fixed instances meet the SLO (p99 %.0f ms); the scenario no longer tests the peak", o.Summary.Latency.P99)
	}
}
