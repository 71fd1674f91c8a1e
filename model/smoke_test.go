package model_test

import (
	"testing"

	"github.com/capsim/capsim/model"
	"github.com/capsim/capsim/model/dist"
	"github.com/capsim/capsim/policies"
	"github.com/capsim/capsim/sim"
)

func TestSmokeMM1(t *testing.T) {
	rr, _ := policies.NewBalancer("round_robin")
	cfg := &model.Config{
		Duration: 2000 * sim.Second, Window: 10 * sim.Second,
		Traffic: []model.TrafficConfig{{Name: "t", To: "s", Rate: 80, Endpoint: "e"}},
		Services: []model.ServiceConfig{{Name: "s", Instances: 1, Cores: 1, Concurrency: model.Unlimited, Queue: model.Unlimited, NewPicker: rr,
			Endpoints: []model.EndpointConfig{{Name: "e", Steps: []model.Step{{Kind: model.StepCPU, Dist: dist.NewExp(float64(10 * sim.Millisecond)), P: 1}}}}}},
	}
	s, err := model.New(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	r := s.Run()
	t.Logf("%+v", r.Requests)
	t.Logf("%+v", r.Latency)
	t.Logf("util %v events %d", r.Components[0].Utilization, r.Events)
}
