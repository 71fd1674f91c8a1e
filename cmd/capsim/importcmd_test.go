package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const shopTraces = "../../experiments/calibrate/testdata/shop.otlp.jsonl.gz"

// import traces prints a scenario that runs, and the fit table on stderr.
func TestImportTraces(t *testing.T) {
	code, out, errOut := capsim(t, "import", "traces", shopTraces)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"[service.gateway.endpoint.GET]", `{ call = "audit", endpoint = "log", p = `, "parallel = [", "[traffic.traces]", "[network]"} {
		if !strings.Contains(out, want) {
			t.Errorf("scenario lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "Learned from 300 traces") || !strings.Contains(errOut, "gateway.GET") {
		t.Errorf("fit table: %s", errOut)
	}
	file := filepath.Join(t.TempDir(), "traced.toml")
	os.WriteFile(file, []byte(out), 0o644)
	if code, _, errOut := capsim(t, "run", file, "--duration", "30s"); code != exitOK {
		t.Errorf("run: exit %d: %s", code, errOut)
	}
	for _, args := range [][]string{{}, {"--self-time", "disk", shopTraces}, {"--replay", shopTraces}} {
		if code, _, _ := capsim(t, append([]string{"import", "traces"}, args...)...); code != exitUsage {
			t.Errorf("import traces %v: exit %d, want usage", args, code)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte("hello"), 0o644)
	if code, _, errOut := capsim(t, "import", "traces", bad); code != exitError || !strings.Contains(errOut, "bad.json") {
		t.Errorf("not a trace file: exit %d: %s", code, errOut)
	}
}

// --with takes instances, cores and the HPA from a Kubernetes manifest for
// the services it names; --replay writes the roots' start times beside the
// scenario, which replays them; --json prints the fit table.
func TestImportTracesWithManifest(t *testing.T) {
	dir := t.TempDir()
	manifest := filepath.Join(dir, "gateway.yaml")
	os.WriteFile(manifest, []byte(`apiVersion: apps/v1
kind: Deployment
metadata: {name: gateway}
spec:
  replicas: 3
  template:
    spec:
      containers:
      - name: app
        resources: {requests: {cpu: "2"}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: gateway}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: gateway}
  minReplicas: 3
  maxReplicas: 12
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}
`), 0o644)
	out := filepath.Join(dir, "traced.toml")
	code, js, errOut := capsim(t, "import", "traces", shopTraces, "--with", manifest, "--replay", "--json", "-o", out)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	src, _ := os.ReadFile(out)
	s := string(src)
	gw := s[strings.Index(s, "[service.gateway]"):]
	gw = gw[:strings.Index(gw, "[service.gateway.endpoint")]
	for _, want := range []string{"instances = 3", "cores = 2", "[service.gateway.autoscale]", "max = 12", "from " + manifest} {
		if !strings.Contains(gw, want) {
			t.Errorf("gateway table lacks %q:\n%s", want, gw)
		}
	}
	if !strings.Contains(s, "[service.users]\n# ASSUMED") || !strings.Contains(errOut, `no Deployment named "users"`) {
		t.Errorf("users is not in the manifest: its fleet must say it is assumed\n%s\n%s", s, errOut)
	}
	if !strings.Contains(s, `trace = "traced.roots.csv"`) {
		t.Errorf("no replayed trace:\n%s", s)
	}
	roots, err := os.ReadFile(filepath.Join(dir, "traced.roots.csv"))
	if err != nil || strings.Count(string(roots), "\n") != 301 {
		t.Errorf("roots file: %v, %d lines", err, strings.Count(string(roots), "\n"))
	}
	var rep struct {
		Traces    int64
		Endpoints []struct{ Endpoint string }
	}
	if err := json.Unmarshal([]byte(js), &rep); err != nil || rep.Traces != 300 || len(rep.Endpoints) != 5 {
		t.Errorf("--json: %v %+v\n%s", err, rep, js)
	}
	code, sum, errOut := capsim(t, "run", out, "--json")
	if code != exitOK || !strings.Contains(sum, `"arrived": 300`) {
		t.Errorf("run of the replay: exit %d: %s %.400s", code, errOut, sum)
	}
}

// import prometheus on a real Prometheus's answer, replayed through an
// HPA: each window of the run gets exactly the requests of its window of
// the series.
func TestImportPrometheus(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "traffic.toml")
	code, _, errOut := capsim(t, "import", "prometheus", "../../experiments/prometheus/testdata/query_range.json", "-o", out)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	table, _ := os.ReadFile(out)
	counts, _ := os.ReadFile(filepath.Join(dir, "traffic.counts.csv"))
	rows := strings.Split(strings.TrimSpace(string(counts)), "\n")[1:]
	if len(rows) != 120 {
		t.Fatalf("%d rows", len(rows))
	}
	scenario := strings.Replace(string(table), `to = "CHANGE_ME"`, `to = "web"`, 1) + `
[run]
duration = "2h"
window = "1m"
[service.web]
instances = 2
cores = 2
steps = [ { cpu = "exp(5ms)" } ]
[service.web.autoscale]
policy = "hpa"
min = 1
max = 20
metric = "cpu"
target = 0.6
`
	file := filepath.Join(dir, "replay.toml")
	os.WriteFile(file, []byte(scenario), 0o644)
	res := filepath.Join(dir, "out")
	if code, _, errOut := capsim(t, "run", file, "-o", res, "-q"); code != exitOK {
		t.Fatalf("run: exit %d: %s", code, errOut)
	}
	ts, _ := os.ReadFile(filepath.Join(res, "timeseries.csv"))
	lines := strings.Split(strings.TrimSpace(string(ts)), "\n")
	header := strings.Split(lines[0], ",")
	col := slices.Index(header, "arrivals_rps")
	if col < 0 || len(lines)-1 != 120 {
		t.Fatalf("timeseries: %d rows, header %v", len(lines)-1, header)
	}
	for i, row := range rows {
		want, _ := strconv.ParseFloat(strings.Split(row, ",")[1], 64)
		got, _ := strconv.ParseFloat(strings.Split(lines[i+1], ",")[col], 64)
		// timeseries.csv prints rates to 0.01/s (±0.3 a minute): the
		// arrivals, a whole number, are its nearest.
		if math.Round(got*60) != want {
			t.Errorf("window %d: %v arrivals, the series %v", i, got*60, want)
		}
	}
	if _, err := os.Stat(filepath.Join(res, "decisions.csv")); err != nil {
		t.Errorf("the HPA made no decisions file: %v", err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[60,"1"],[120,"NaN"]]}]}}`), 0o644)
	if code, _, errOut := capsim(t, "import", "prometheus", bad, "-o", filepath.Join(dir, "x.toml")); code != exitError || !strings.Contains(errOut, "bad.json: series {} at") {
		t.Errorf("NaN: exit %d: %s", code, errOut)
	}
}
