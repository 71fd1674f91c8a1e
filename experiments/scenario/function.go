package scenario

import (
	"github.com/capsim/capsim/model"
	"github.com/capsim/capsim/sim"
)

// AWS Lambda's list prices (x86, us-east-1): $0.20 per million requests,
// $0.0000166667 per GB-second, provisioned concurrency $0.0000041667 per
// GB-second.
const (
	lambdaPerRequest        = 0.0000002
	lambdaPerGBs            = 0.0000166667
	lambdaPerProvisionedGBs = 0.0000041667
)

// function reads [function.NAME]: a serverless function (Lambda, Cloud
// Run).
func (d *decoder) function(t *table) model.ComponentConfig {
	f := &model.FunctionConfig{Name: t.name()}
	f.Cores = int(t.integer("cores", 1, 1, 64, false))
	f.Concurrency = int(t.integer("concurrency", 1, 1, 1000, false))
	f.Queue = model.Unlimited
	f.Algorithm, f.NewPicker = d.picker(t, "balancer", "round_robin") // unused: environments are chosen most recently used first
	f.MemoryMB = int(t.integer("memory_mb", 128, 128, 10240, false))
	f.ColdStart = t.distribution("cold_start")
	f.KeepAlive = t.duration("keep_alive", 10*sim.Minute)
	if f.KeepAlive <= 0 {
		d.errorf(t.key("keep_alive"), "must be greater than 0: an idle environment is reclaimed after it")
		f.KeepAlive = 10 * sim.Minute
	}
	f.MaxInstances = int(t.integer("max_instances", 1000, 1, 1_000_000, true))
	f.Provisioned = int(t.integer("provisioned", 0, 0, 100_000, false))
	if f.MaxInstances != model.Unlimited && f.Provisioned > f.MaxInstances {
		d.errorf(t.key("provisioned"), "%d provisioned environments exceed max_instances (%d): provisioned concurrency counts against the function's limit", f.Provisioned, f.MaxInstances)
	}
	f.Instances = f.Provisioned
	f.PricePerRequest = d.defaultPrice(t, "price_per_request", lambdaPerRequest, "US dollars per invocation")
	f.PricePerGBs = d.defaultPrice(t, "price_per_gb_s", lambdaPerGBs, "US dollars per GB-second")
	f.PricePerProvisionedGBs = d.defaultPrice(t, "price_per_provisioned_gb_s", lambdaPerProvisionedGBs, "US dollars per GB-second")
	if t.has("duration") {
		if t.has("steps") || t.has("endpoint") {
			d.errorf(t.key("duration"), "give either duration (the work of one invocation) or steps, not both")
		}
		if dd := t.distribution("duration"); dd != nil {
			f.Endpoints = append(f.Endpoints, model.EndpointConfig{Name: "default", Steps: []model.Step{{Kind: model.StepCPU, Dist: dd, P: 1}}})
		}
	}
	if t.has("steps") {
		f.Endpoints = append(f.Endpoints, model.EndpointConfig{Name: "default", Steps: d.steps(t, "steps")})
	}
	for _, e := range t.named("endpoint") {
		f.Endpoints = append(f.Endpoints, model.EndpointConfig{Name: e.name(), Steps: d.steps(e, "steps"), Write: e.boolean("write", false)})
		e.done(nil)
	}
	if t.has("steps") && t.has("endpoint") {
		d.errorf(t.key("steps"), "give either steps (one endpoint) or [%s.endpoint.NAME] tables, not both", t.path)
	}
	if len(f.Endpoints) == 0 && !t.has("duration") {
		d.errorf(t.path, "has no work: add duration = \"lognormal(median=120ms, p99=800ms)\" or steps = [ … ]")
	}
	f.Region = t.str("region", "")
	t.done(map[string]string{"zones": "a function runs in every zone of its region: give region = \"NAME\" (with [network.regions.NAME]), or nothing: each call is served in its caller's zone", "autoscale": "a function scales by itself: one environment per concurrent invocation (concurrency per environment), up to max_instances"})
	return f
}

// defaultPrice reads a price that has a default.
func (d *decoder) defaultPrice(t *table, key string, def float64, unit string) float64 {
	if !t.has(key) {
		return def
	}
	return d.nonNegative(t, key, unit)
}
