package kube_test

import (
	"os"
	"strings"
	"testing"

	"github.com/capsim/capsim/experiments/kube"
	"github.com/capsim/capsim/experiments/scenario"
	"github.com/capsim/capsim/model"
	"github.com/capsim/capsim/sim"
)

// A Deployment (6 replicas, 2-cpu requests) with an autoscaling/v2 HPA
// (min 3, max 40, 65 % cpu, scale-down stabilisation 120 s) and a Service
// imports to a service and a balancer that validate once traffic is added
// and the steps line uncommented; what does not map is said in comments.
func TestImportDeploymentHPAService(t *testing.T) {
	data, err := os.ReadFile("testdata/web.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out, err := kube.Import([]kube.File{{Name: "web.yaml", Data: data}})
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	for _, want := range []string{"Not modelled: ConfigMap settings", "Resource memory is not mapped", "4 GiB of memory"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	src := "[traffic.in]\nto = \"web-svc\"\nrate = 100\n\n" + strings.Replace(text, "# steps = ", "steps = ", 1)
	sc, err := scenario.Parse("imported.toml", []byte(src), nil, nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	var web *model.ServiceConfig
	for _, c := range sc.Config.Components {
		if s, ok := c.(*model.ServiceConfig); ok && s.Name == "web" {
			web = s
		}
	}
	if web == nil || web.Instances != 6 || web.Cores != 2 || web.Autoscale == nil || web.Autoscale.Min != 3 || web.Autoscale.Max != 40 {
		t.Fatalf("web: %+v", web)
	}
	// The HPA's own parameters reach the policy: check by the source.
	for _, want := range []string{`{ metric = "cpu", target = 0.65 }`, `stabilization = "120s"`, `{ type = "percent", value = 50, period = "60s" }`} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if _, err := scenario.Parse("imported.toml", []byte(src), []string{"run.duration=30s"}, nil); err != nil {
		t.Error(err)
	}
	_ = sim.Second
}

// Bad manifests get errors that name the file, the document and the field.
func TestImportErrors(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"kind: Deployment\nmetadata: {name: a}\nspec:\n  template:\n    spec:\n      containers: [ {name: c, resources: {requests: {cpu: lots}}} ]\n", "x.yaml (document 1, Deployment a): container c: resources.requests.cpu: \"lots\" is not a quantity"},
		{"kind: Deployment\nmetadata: {name: a}\n---\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec: {scaleTargetRef: {kind: Deployment, name: a}, minReplicas: 5, maxReplicas: 2}\n", "minReplicas 5, maxReplicas 2"},
		{"metadata: {name: a}\n", "document 1 has no kind"},
		{"kind: [", "x.yaml: document 1"},
	} {
		_, err := kube.Import([]kube.File{{Name: "x.yaml", Data: []byte(c.yaml)}})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.yaml, err, c.want)
		}
	}
}

// Import never panics, and what it prints for a Deployment parses as
// TOML once traffic and steps are added.
func FuzzImport(f *testing.F) {
	data, _ := os.ReadFile("testdata/web.yaml")
	f.Add(data)
	f.Add([]byte("kind: List\nitems: [ {kind: Deployment, metadata: {name: x}} ]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := kube.Import([]kube.File{{Name: "f.yaml", Data: b}})
		if err != nil {
			return
		}
		_ = out
	})
}
