package main

import (
	"encoding/json"
	"os"
	"path/filepath"
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
