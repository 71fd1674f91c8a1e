package calibrate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/capsim/capsim/experiments/fit"
	"github.com/capsim/capsim/experiments/measure"
	"github.com/capsim/capsim/experiments/scenario"
)

// TestPredictTracedSystem: calibrated from the recorded low-load traces
// of the real traced system (testdata/otel, TestRecordTracedSystem), the
// learned scenario — plus the one thing traces cannot show, recs's 2
// slots — predicts the gateway's p50 within 10 % and p99 within 15 % of
// what vegeta measured at 100/s (recs 50 % busy) and 155/s (81 %), the
// measured arrivals replayed. The recorded spans also recover the system
// as TestRealTracedSystem checks live.
func TestPredictTracedSystem(t *testing.T) {
	dir := filepath.Join("testdata", "otel")
	var tr otelTruth
	doc, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(doc, &tr); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, "low.otlp.jsonl.gz")
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Learn([]File{{Name: name, R: f}}, false)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	checkRecovered(t, m, func(seg string) []float64 { return sortedCopy(tr.Drawn[seg]) }, tr.Requests, tr.Audits)
	src, files := m.ScenarioFiles(Options{Sources: []string{name}, Samples: "learned.samples"})
	fsys := fstest.MapFS{}
	for k, v := range files {
		fsys[k] = &fstest.MapFile{Data: v}
	}
	sc, err := scenario.Parse("learned.toml", src, []string{"service.recs.concurrency=2"}, fsys)
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	if !strings.Contains(string(src), "empirical(learned.samples/") {
		t.Log("every time fits a family")
	}
	for _, load := range tr.Loads[1:] {
		t.Run(load.Name, func(t *testing.T) {
			mf, err := os.Open(filepath.Join(dir, load.Name+".vegeta.json.gz"))
			if err != nil {
				t.Fatal(err)
			}
			defer mf.Close()
			meas, err := measure.Read(load.Name, mf, measure.Options{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := fit.Fit(sc, meas, fit.Options{Replications: 8, Tolerance: 0.10})
			if err != nil {
				t.Fatal(err)
			}
			for _, mt := range res.Metrics {
				rel := 0.0
				if mt.RelativeError != nil {
					rel = *mt.RelativeError
				}
				t.Logf("%d/s %-10s measured %9.3f predicted %9.3f error %+.3f", load.Rate, mt.Name, mt.Measured, mt.Predicted, rel)
				bar := map[string]float64{"p50": 0.10, "p99": 0.15}[mt.Name]
				if bar > 0 && (mt.RelativeError == nil || *mt.RelativeError > bar || *mt.RelativeError < -bar) {
					t.Errorf("%d/s: gateway %s predicted %.3f ms, measured %.3f ms: beyond %.0f %%", load.Rate, mt.Name, mt.Predicted, mt.Measured, 100*bar)
				}
			}
		})
	}
}
