package fit_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/capsim/capsim/experiments/calibrate"
	"github.com/capsim/capsim/experiments/fit"
	"github.com/capsim/capsim/experiments/scenario"
)

// TestFitTraces closes the loop on traces: the scenario capsim import
// traces learns from the shop's traces, replaying their root arrivals,
// predicts each service's mean latency within 5 % of what the same traces
// measured (300 traces: the means' standard errors are 1–3 %), and every
// traced service is compared.
func TestFitTraces(t *testing.T) {
	name := filepath.Join("..", "calibrate", "testdata", "shop.otlp.jsonl.gz")
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	learned, err := calibrate.Learn([]calibrate.File{{Name: name, R: f}}, true)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scenario.Parse("learned.toml", learned.Scenario(calibrate.Options{Sources: []string{name}}), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := readFile(t, name)
	res, err := fit.Fit(sc, m, fit.Options{Replications: 10, Tolerance: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, mt := range res.Metrics {
		seen[mt.Scope] = true
		if mt.Name == "mean" || mt.Name == "throughput" {
			if !mt.Within {
				t.Errorf("%s %s: measured %v, predicted %v: beyond 5 %%", mt.Scope, mt.Name, mt.Measured, mt.Predicted)
			}
		}
	}
	for _, s := range []string{"total", "gateway", "users", "recs", "ads", "audit"} {
		if !seen[s] {
			t.Errorf("scope %s not compared (%v)", s, seen)
		}
	}
}
