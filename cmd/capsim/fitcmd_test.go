package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	loopbackScenario = "../../experiments/fit/testdata/loopback/api.toml"
	loopbackHigh     = "../../experiments/fit/testdata/loopback/high.vegeta.json.gz"
	k6Summary        = "../../experiments/measure/testdata/k6/summary-export.json"
)

// capsim fit on the recorded vegeta run of the loopback server: the right
// model fits (exit 0, fit.json, the overlay in the report), half its
// concurrency does not (exit 3).
func TestFitCommand(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := capsim(t, "fit", loopbackScenario, loopbackHigh, "-o", dir)
	if code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, out, errOut)
	}
	for _, want := range []string{"vegeta-json", "96,000 requests", "the measured arrivals replayed", "p99", "every metric within ±10%"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	var doc struct {
		Metrics []struct {
			Name, Scope         string
			Measured, Predicted float64
			RelativeError       *float64 `json:"relative_error"`
			Within              bool
		}
		Tolerance float64
		Met       bool
	}
	data, err := os.ReadFile(filepath.Join(dir, "fit.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &doc); err != nil || !doc.Met || doc.Tolerance != 0.1 || len(doc.Metrics) != 7 {
		t.Fatalf("fit.json: %v %s", err, data)
	}
	for _, f := range []string{"report.html", "summary.json", "plots/fit.png", "plots/fit.svg"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("bundle: %v", err)
		}
	}
	if html, _ := os.ReadFile(filepath.Join(dir, "report.html")); !strings.Contains(string(html), "measured and predicted") {
		t.Error("report.html lacks the overlay chart")
	}
	code, out, _ = capsim(t, "fit", loopbackScenario, loopbackHigh, "--set", "service.api.concurrency=2", "--json")
	if code != exitSLO || !strings.Contains(out, `"met": false`) {
		t.Errorf("half the concurrency: exit %d, want 3:\n%s", code, out)
	}
	// A summary has no arrival times: the scenario's own traffic runs.
	if code, out, _ := capsim(t, "fit", loopbackScenario, k6Summary, "--tag", "phase:measure"); code != exitSLO || !strings.Contains(out, "k6-summary") || !strings.Contains(out, "no arrival times") {
		t.Errorf("k6 summary: exit %d:\n%s", code, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"type":"Point","metric":"http_req_duration","data":{"time":"2026-12-01T09:00:00Z","value":3}}`+"\n"+`{"type":"Point","metr`), 0o644)
	if code, _, errOut := capsim(t, "fit", loopbackScenario, bad); code != exitError || !strings.Contains(errOut, "bad.json: line 2") {
		t.Errorf("truncated NDJSON: exit %d: %s", code, errOut)
	}
	for _, args := range [][]string{{"fit", loopbackScenario}, {"fit", loopbackScenario, loopbackHigh, "--tolerance", "0"}} {
		if code, _, _ := capsim(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want usage", args, code)
		}
	}
}

func TestExportCommand(t *testing.T) {
	file := filepath.Join(t.TempDir(), "onsale.js")
	if code, _, errOut := capsim(t, "export", "k6", "ticketing-onsale", "-o", file, "--url", "http://staging:80"); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	js, _ := os.ReadFile(file)
	for _, want := range []string{`"executor": "constant-arrival-rate"`, `"rate": 200000`, `"timeUnit": "30s"`, `"p(99)<1000"`, `__ENV.BASE_URL || "http://staging:80"`, "sleep(exp(5))"} {
		if !strings.Contains(string(js), want) {
			t.Errorf("script lacks %q:\n%s", want, js)
		}
	}
	if code, _, errOut := capsim(t, "export", "k6", "nasa-replay"); code != exitError || !strings.Contains(errOut, "no traffic source k6 can express") {
		t.Errorf("a trace replay: exit %d: %s", code, errOut)
	}
	if code, _, _ := capsim(t, "export", "gatling", "shop"); code != exitUsage {
		t.Errorf("export gatling: exit %d, want usage", code)
	}
}
