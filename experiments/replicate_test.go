package experiments_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/capsim/capsim/experiments"
	"github.com/capsim/capsim/experiments/scenario"
	"github.com/capsim/capsim/output"
)

// Replications give the same bytes whatever the number of workers.
func TestReplicationsIndependentOfWorkers(t *testing.T) {
	sc, err := scenario.Parse("shop.toml", []byte(shop), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var outs [][]byte
	for _, w := range []int{1, 2, 5} {
		r, err := experiments.Replicate(sc, 5, w, experiments.Options{})
		if err != nil {
			t.Fatal(err)
		}
		js, _ := output.JSON(r.Summary)
		outs = append(outs, js)
		for _, run := range r.Runs {
			checkInvariants(t, run)
		}
	}
	if !bytes.Equal(outs[0], outs[1]) || !bytes.Equal(outs[0], outs[2]) {
		t.Error("summaries differ between worker counts")
	}
	if !bytes.Contains(outs[0], []byte(`"latency_ms.p99": [`)) || !bytes.Contains(outs[0], []byte(`"replications": 5`)) {
		t.Errorf("no confidence intervals:\n%s", outs[0])
	}
}

// Coverage: across 200 independent sets of 5 replications of an M/M/1
// queue (ρ = 0.5, T = 1/(μ−λ) = 20 ms), the 95 % confidence interval of the
// mean response time contains the true value in 93–97 % of the sets.
func TestConfidenceIntervalCoverage(t *testing.T) {
	if testing.Short() {
		t.Skip("1000 runs")
	}
	sc, err := scenario.Parse("mm1.toml", []byte(oneStation(50, "840s", "1", `"unlimited"`, `"unlimited"`, "exp(10ms)")), []string{"run.warmup=40s"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	covered, sum := 0, 0.0
	const sets = 200
	for j := 0; j < sets; j++ {
		seed := uint64(1_000_003 * (j + 1))
		r, err := experiments.Replicate(sc, 5, 0, experiments.Options{Seed: &seed})
		if err != nil {
			t.Fatal(err)
		}
		sum += r.Summary.Latency.Mean
		ci := r.Summary.CI95["latency_ms.mean"]
		if ci[0] <= 20 && 20 <= ci[1] {
			covered++
		}
	}
	frac := float64(covered) / sets
	t.Logf("coverage %.3f (%d of %d); grand mean %.4f ms", frac, covered, sets, sum/sets)
	if frac < 0.93 || frac > 0.97 {
		t.Errorf("95 %% intervals cover the true mean in %.1f %% of sets, want 93–97 %%", 100*frac)
	}
}

// Precision adds replications until the p99 is known to within the
// target.
func TestPrecision(t *testing.T) {
	sc, err := scenario.Parse("mm1.toml", []byte(oneStation(80, "500s", "1", `"unlimited"`, `"unlimited"`, "exp(10ms)")), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, ok, err := experiments.Precision(sc, 0.05, 60, 0, experiments.Options{})
	if err != nil || !ok {
		t.Fatalf("not reached (%v) after %d", err, len(r.Runs))
	}
	ci := r.Summary.CI95["latency_ms.p99"]
	if (ci[1]-ci[0])/2 > 0.05*r.Summary.Latency.P99 || len(r.Runs) < 3 {
		t.Errorf("%d replications, p99 %v CI %v", len(r.Runs), r.Summary.Latency.P99, ci)
	}
}

// A percentile resting on too few samples is flagged.
func TestFewSamplesWarning(t *testing.T) {
	o := runTOML(t, oneStation(10, "150s", "1", `"unlimited"`, `"unlimited"`, "exp(10ms)"))
	joined := strings.Join(o.Summary.Warnings, "\n")
	if !strings.Contains(joined, "latency_ms.p999") {
		t.Errorf("no warning for p99.9 from %d requests: %q", o.Summary.Requests.Completed, joined)
	}
}

// With two replications every headline number has its interval, a
// percentile too (even when both replications land in the same histogram
// bucket), and no bound leaves the quantity's domain.
func TestCIForEveryHeadline(t *testing.T) {
	sc, err := scenario.Parse("s.toml", []byte(`
[run]
duration = "20s"
[traffic.in]
to = "s"
rate = 50
[service.s]
steps = [ { cpu = "exp(5ms)" } ]
`), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := experiments.Replicate(sc, 2, 2, experiments.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"latency_ms.p50", "latency_ms.p99", "latency_ms.p999", "latency_ms.max", "throughput_rps", "error_rate", "cost.total_usd"} {
		ci, ok := r.Summary.CI95[k]
		if !ok {
			t.Errorf("no interval for %s", k)
			continue
		}
		if ci[0] < 0 || ci[1] < ci[0] {
			t.Errorf("%s: interval %v", k, ci)
		}
	}
	for k, ci := range r.Summary.CI95 {
		if ci[0] < 0 || (strings.HasSuffix(k, "utilization") || strings.HasSuffix(k, "error_rate")) && ci[1] > 1 {
			t.Errorf("%s: interval %v leaves the domain", k, ci)
		}
	}
}

// --precision that is not reached says so in summary.json's warnings.
func TestPrecisionWarning(t *testing.T) {
	sc, err := scenario.Parse("s.toml", []byte("[run]\nduration = \"5s\"\n[traffic.in]\nto = \"s\"\nrate = 20\n[service.s]\nsteps = [ { cpu = \"exp(20ms)\" } ]\n"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, reached, err := experiments.Precision(sc, 0.001, 4, 2, experiments.Options{})
	if err != nil || reached {
		t.Fatalf("reached %v, %v", reached, err)
	}
	found := false
	for _, w := range r.Summary.Warnings {
		found = found || strings.HasPrefix(w, "precision not reached: after 4 replications")
	}
	if !found {
		t.Errorf("warnings: %q", r.Summary.Warnings)
	}
}
