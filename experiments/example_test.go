package experiments_test

import (
	"fmt"

	"github.com/capsim/capsim/experiments"
	"github.com/capsim/capsim/experiments/scenario"
)

const exampleScenario = `
name = "shop"
[run]
duration = "10m"
[slo]
p99 = "100ms"
[traffic.users]
to = "web"
rate = 600
[service.web]
instances = 4
cores = 2
steps = [ { cpu = "exp(10ms)" } ]
`

// Load a scenario (here from a string), override a value, run it, and read
// the results.
func ExampleRun() {
	sc, err := scenario.Parse("shop.toml", []byte(exampleScenario), []string{"service.web.instances=5"}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	o, err := experiments.Run(sc, experiments.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	s := o.Summary
	fmt.Printf("%d requests, p99 %.0f ms, web %.0f %% busy, SLO met: %v\n",
		s.Requests.Completed, s.Latency.P99, 100**s.Components["web"].Utilization, s.SLO.Met)
	// Output: 359464 requests, p99 53 ms, web 60 % busy, SLO met: true
}

// Replications give every number a 95 % confidence interval.
func ExampleReplicate() {
	sc, _ := scenario.Parse("shop.toml", []byte(exampleScenario), nil, nil)
	r, err := experiments.Replicate(sc, 10, 0, experiments.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	ci := r.Summary.CI95["latency_ms.p99"]
	fmt.Printf("p99 %.0f ms (95 %% CI %.0f–%.0f ms) over %d replications\n", r.Summary.Latency.P99, ci[0], ci[1], r.Summary.Replications)
	// Output: p99 69 ms (95 % CI 68–70 ms) over 10 replications
}

// The assertion helpers return errors, for any test framework.
func ExampleOutcome_SLOError() {
	sc, _ := scenario.Parse("shop.toml", []byte(exampleScenario), []string{"service.web.instances=3"}, nil)
	o, _ := experiments.Run(sc, experiments.Options{})
	fmt.Println(o.SLOError())
	fmt.Println(o.InvariantError())
	// Output:
	// shop: SLO not met: p99 2.24e+03 ms > 100 ms
	// <nil>
}
