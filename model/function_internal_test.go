package model

import (
	"testing"

	"github.com/capsim/capsim/model/dist"
	"github.com/capsim/capsim/sim"
)

// warmScan is the definition warmEnvs keeps in a heap: among the live (or
// provisioned) environments, ready or starting, with a free slot, the
// provisioned ones first, then the most recently used, then the lowest
// slot.
func (f *function) warmScan() int32 {
	best := int32(-1)
	for i := range f.insts {
		in, st := &f.insts[i], &f.env[i]
		if !st.live && !st.provisioned || in.state != instReady && in.state != instStarting {
			continue
		}
		if f.cfg.Concurrency != Unlimited && in.load >= f.cfg.Concurrency {
			continue
		}
		if best < 0 || st.provisioned && !f.env[best].provisioned || st.provisioned == f.env[best].provisioned && st.lastUsed > f.env[best].lastUsed {
			best = int32(i)
		}
	}
	return best
}

// At every event of runs whose environments come and go (ramps up and
// down, cold starts, reclaims, slots reused, invocations waiting at
// max_instances), the heap's pick is the scan's.
func TestWarmEnvsMatchScan(t *testing.T) {
	for _, c := range []struct {
		name                     string
		concurrency, max, provis int
		async                    bool
	}{
		{"concurrency 3", 3, Unlimited, 0, false},
		{"provisioned and max", 4, 12, 3, false},
		{"async waits at max", 2, 6, 1, true},
	} {
		fn := &FunctionConfig{Name: "fn", Fleet: Fleet{Cores: 1, Concurrency: c.concurrency, Queue: Unlimited},
			Endpoints: []EndpointConfig{{Name: "default", Steps: []Step{{Kind: StepCPU, Dist: dist.NewExp(40e6), P: 1}}}},
			MemoryMB:  512, ColdStart: dist.NewExp(300e6), KeepAlive: 3 * sim.Second, MaxInstances: c.max, Provisioned: c.provis}
		steps := []Step{{Kind: StepCall, Target: "fn", P: 1}}
		if c.async {
			steps = []Step{{Kind: StepAsync, Target: "fn", P: 1}}
		}
		cfg := &Config{Duration: 120 * sim.Second,
			Traffic: []TrafficConfig{{Name: "in", To: "api", Arrivals: &StagesProcess{Stages: []Stage{
				{Target: 150, Duration: 20 * sim.Second}, {Target: 5, Duration: 20 * sim.Second},
				{Target: 5, Duration: 20 * sim.Second}, {Target: 200, Duration: 10 * sim.Second}, {Target: 0, Duration: 50 * sim.Second}}}}},
			Components: []ComponentConfig{
				&ServiceConfig{Name: "api", Fleet: Fleet{Instances: 1, Cores: 64, Concurrency: Unlimited, Queue: Unlimited},
					Endpoints: []EndpointConfig{{Name: "default", Steps: steps}}},
				fn,
			}}
		s, err := New(cfg, 7)
		if err != nil {
			t.Fatal(err)
		}
		var f *function
		for _, comp := range s.comps {
			if x, ok := comp.(*function); ok {
				f = x
			}
		}
		s.Start()
		events, most := 0, 0
		for s.eng.Now() < cfg.Duration && s.eng.Step() {
			events++
			most = max(most, len(f.insts))
			if got, want := f.warm(), f.warmScan(); got != want {
				t.Fatalf("%s: event %d at %v: heap picks %d, scan %d", c.name, events, s.eng.Now(), got, want)
			}
		}
		if int(f.coldStarts) <= most || most < 6 || events < 10_000 {
			t.Errorf("%s: %d events, %d cold starts, %d environment slots: too few to test anything (slots must be reused)", c.name, events, f.coldStarts, most)
		}
		t.Logf("%s: %d events, %d cold starts, %d slots", c.name, events, f.coldStarts, most)
	}
}
