// Package experiments runs scenarios and turns model results into the
// results contract (summary.json): load or build a scenario, override
// values, run it, and read or assert on the outcome.
//
// The typical use from a Go test:
//
//	sc, err := scenario.Load("testdata/shop.toml", []string{"service.web.instances=8"})
//	...
//	run, err := experiments.Run(sc, experiments.Options{})
//	...
//	if !run.Summary.SLO.Met { t.Errorf("SLO not met: %v", run.Summary.SLO.Checks) }
package experiments
