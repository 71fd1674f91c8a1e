package k6

import (
	"strings"
	"testing"

	"github.com/capsim/capsim/experiments/scenario"
	"github.com/capsim/capsim/model"
	"github.com/capsim/capsim/sim"
)

const system = `
[service.api]
steps = [ { cpu = "exp(1ms)" } ]
`

func TestImportScenarios(t *testing.T) {
	opts := `{
  "scenarios": {
    "steady": { "executor": "constant-arrival-rate", "rate": 30, "timeUnit": "1m", "duration": "5m", "preAllocatedVUs": 10 },
    "spike": { "executor": "ramping-arrival-rate", "startRate": 10, "timeUnit": "1s", "startTime": "1m",
               "stages": [ { "duration": "30s", "target": 200 }, { "duration": "1m", "target": 0 } ] },
    "browsers": { "executor": "constant-vus", "vus": 25, "duration": "2m", "exec": "browse" },
    "ramp": { "executor": "ramping-vus", "startVUs": 5, "stages": [ { "duration": "1m", "target": 50 } ] }
  }
}`
	out, err := Import("options.json", []byte(opts))
	if err != nil {
		t.Fatal(err)
	}
	src := strings.ReplaceAll(string(out), `"CHANGE_ME"`, `"api"`) + system + `
[service.api.endpoint.browse]
steps = [ { cpu = "exp(1ms)" } ]
[service.api.endpoint.default]
steps = [ { cpu = "exp(1ms)" } ]
`
	src = strings.Replace(src, "[service.api]\nsteps = [ { cpu = \"exp(1ms)\" } ]\n", "", 1)
	for _, k := range []string{"steady", "spike", "ramp"} {
		src = strings.Replace(src, "[traffic."+k+"]", "[traffic."+k+"]\nendpoint = \"default\"", 1)
	}
	sc, err := scenario.Parse("imported.toml", []byte(src), nil, nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	tr := map[string]int{}
	for i, c := range sc.Config.Traffic {
		tr[c.Name] = i
	}
	c := sc.Config.Traffic
	if s := c[tr["steady"]]; s.Stop != 5*sim.Minute {
		t.Errorf("steady: stop %v", s.Stop)
	} else if p, ok := s.Arrivals.(*model.RateProcess); !ok || p.Rate != 0.5 || !p.Uniform {
		t.Errorf("steady: %#v", s.Arrivals)
	}
	if s := c[tr["spike"]]; s.Start != sim.Minute {
		t.Errorf("spike: start %v", s.Start)
	} else if p, ok := s.Arrivals.(*model.StagesProcess); !ok || p.StartRate != 10 || len(p.Stages) != 2 || p.Stages[0].Target != 200 {
		t.Errorf("spike: %#v", s.Arrivals)
	}
	if s := c[tr["browsers"]]; s.Endpoint != "browse" || s.Stop != 2*sim.Minute {
		t.Errorf("browsers: %+v", s)
	} else if p, ok := s.Arrivals.(*model.VUProcess); !ok || p.VUs != 25 {
		t.Errorf("browsers: %#v", s.Arrivals)
	}
	if p, ok := c[tr["ramp"]].Arrivals.(*model.VUProcess); !ok || p.VUs != 5 || len(p.Stages) != 1 || p.Stages[0].Target != 50 {
		t.Errorf("ramp: %#v", c[tr["ramp"]].Arrivals)
	}
}

func TestImportShortcuts(t *testing.T) {
	out, err := Import("o.json", []byte(`{"stages": [{"duration": "30s", "target": 20}, {"duration": "1m", "target": 0}]}`))
	if err != nil || !strings.Contains(string(out), "vu_stages = [") || !strings.Contains(string(out), "vus = 0") {
		t.Errorf("stages shortcut: %v\n%s", err, out)
	}
	out, err = Import("o.json", []byte(`{"vus": 10, "duration": "30s"}`))
	if err != nil || !strings.Contains(string(out), "vus = 10") || !strings.Contains(string(out), `stop = "30s"`) {
		t.Errorf("vus shortcut: %v\n%s", err, out)
	}
	for _, bad := range []string{`{}`, `not json`, `{"scenarios": {"x": {"executor": "shared-iterations", "iterations": 100}}}`} {
		if _, err := Import("o.json", []byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// What capsim cannot take is refused with the scenario and the field, not
// copied through: an infinite rate, negative numbers, empty stages.
func TestImportRefusesBadNumbers(t *testing.T) {
	for _, c := range []struct{ json, want string }{
		{`{"scenarios":{"a":{"executor":"constant-arrival-rate","rate":1e308,"timeUnit":"1ns","duration":"1m"}}}`, "want 0 to 1e9 per second"},
		{`{"scenarios":{"a":{"executor":"constant-arrival-rate","rate":-5,"duration":"1m"}}}`, "rate -5"},
		{`{"scenarios":{"a":{"executor":"constant-vus","vus":-3,"duration":"1m"}}}`, "vus -3"},
		{`{"scenarios":{"a":{"executor":"ramping-vus","stages":[{"duration":"-1m","target":10}]}}}`, "negative"},
		{`{"scenarios":{"a":{"executor":"ramping-vus","stages":[{"duration":"1m","target":-10}]}}}`, "target -10"},
		{`{"scenarios":{"a":{"executor":"ramping-arrival-rate","stages":[]}}}`, "needs stages"},
	} {
		_, err := Import("o.json", []byte(c.json))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.json, err, c.want)
		}
	}
}
