package model_test

import (
	"runtime"
	"testing"

	"github.com/capsim/capsim/model"
	"github.com/capsim/capsim/model/dist"
	"github.com/capsim/capsim/policies"
	"github.com/capsim/capsim/sim"
)

// threeTier is the benchmark topology, built directly: Poisson → LB → web
// (lognormal cpu, 20 % call the db) → db, with a client timeout and a call
// timeout so that every code path that schedules is exercised.
func threeTier(duration, window sim.Time) *model.Config {
	rr, _ := policies.NewBalancer("round_robin")
	lc, _ := policies.NewBalancer("least_connections")
	return &model.Config{
		Duration: duration, Window: window,
		Traffic: []model.TrafficConfig{{Name: "in", To: "lb", Arrivals: &model.RateProcess{Rate: 1000}, Timeout: 2 * sim.Second,
			Keys: dist.NewZipf(0.9, 10000)}},
		Components: []model.ComponentConfig{
			&model.ServiceConfig{Name: "db", Fleet: model.Fleet{Instances: 1, Cores: 32, Concurrency: model.Unlimited, Queue: model.Unlimited, NewPicker: rr},
				Endpoints: []model.EndpointConfig{{Name: "default", Steps: []model.Step{
					{Kind: model.StepCPU, Dist: dist.NewExp(5e6), P: 1},
				}}}},
			&model.BalancerConfig{Name: "lb", To: "web", NewPicker: lc, Latency: dist.Const{V: 100 * sim.Microsecond}},
			&model.ServiceConfig{Name: "web", Fleet: model.Fleet{Instances: 10, Cores: 8, Concurrency: 64, Queue: 100, NewPicker: rr},
				Endpoints: []model.EndpointConfig{{Name: "default", Steps: []model.Step{
					{Kind: model.StepCPU, Dist: dist.NewLogNormalMeanSD(50e6, 50e6), P: 1},
					{Kind: model.StepCall, Target: "db", P: 0.2, Timeout: 500 * sim.Millisecond},
					{Kind: model.StepSleep, Dist: dist.NewExp(1e6), P: 1},
				}}}},
		},
	}
}

// Once the slabs and queues have grown to the run's working size, requests
// flow through without allocating.
func TestSteadyStateNoAllocs(t *testing.T) {
	cfg := threeTier(10_000*sim.Second, 0)
	s, err := model.New(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	s.RunUntil(200 * sim.Second)
	before := s.Events()
	allocs := testing.AllocsPerRun(10, func() { s.RunUntil(s.Now() + 10*sim.Second) })
	perRun := float64(s.Events()-before) / 11
	if allocs != 0 {
		t.Errorf("%v allocations per %.0f events", allocs, perRun)
	}
}

// Memory does not grow with the number of requests: a run 8 times longer
// (with the same number of time-series windows) holds the same heap.
func TestMemoryFlat(t *testing.T) {
	heap := func(d sim.Time) uint64 {
		s, err := model.New(threeTier(d, d/50), 1)
		if err != nil {
			t.Fatal(err)
		}
		r := s.Run()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		runtime.KeepAlive(s)
		runtime.KeepAlive(r)
		return m.HeapInuse
	}
	short, long := heap(250*sim.Second), heap(2000*sim.Second)
	t.Logf("heap in use: %d KiB after 250k requests, %d KiB after 2M", short/1024, long/1024)
	if long > short+512*1024 {
		t.Errorf("heap grew from %d KiB to %d KiB", short/1024, long/1024)
	}
}

// Fan-out and detached work allocate nothing either: parallel branches
// (one with a timeout) and async steps reuse the same slabs.
func TestSteadyStateNoAllocsParallelAsync(t *testing.T) {
	rr, _ := policies.NewBalancer("round_robin")
	leaf := func(name string, mean float64) *model.ServiceConfig {
		return &model.ServiceConfig{Name: name, Fleet: model.Fleet{Instances: 2, Cores: 4, Concurrency: model.Unlimited, Queue: model.Unlimited, NewPicker: rr},
			Endpoints: []model.EndpointConfig{{Name: "default", Steps: []model.Step{{Kind: model.StepCPU, Dist: dist.NewExp(mean), P: 1}}}}}
	}
	cfg := &model.Config{
		Duration: 10_000 * sim.Second,
		Traffic:  []model.TrafficConfig{{Name: "in", To: "front", Arrivals: &model.RateProcess{Rate: 500}, Keys: dist.NewZipf(0.9, 1000)}},
		Components: []model.ComponentConfig{
			leaf("a", 2e6), leaf("audit", 1e6), leaf("b", 3e6),
			&model.ServiceConfig{Name: "front", Fleet: model.Fleet{Instances: 2, Cores: 4, Concurrency: model.Unlimited, Queue: model.Unlimited, NewPicker: rr},
				Endpoints: []model.EndpointConfig{{Name: "default", Steps: []model.Step{
					{Kind: model.StepParallel, P: 1, Wait: 1, Branches: []model.Step{{Kind: model.StepCall, Target: "a"}, {Kind: model.StepCall, Target: "b", Timeout: 4 * sim.Millisecond}}},
					{Kind: model.StepAsync, Target: "audit", P: 1},
				}}}},
		},
	}
	s, err := model.New(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	s.RunUntil(200 * sim.Second)
	allocs := testing.AllocsPerRun(10, func() { s.RunUntil(s.Now() + 10*sim.Second) })
	if allocs != 0 {
		t.Errorf("%v allocations per 10 simulated seconds", allocs)
	}
}
