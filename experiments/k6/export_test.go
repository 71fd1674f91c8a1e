package k6

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dop251/goja"

	"github.com/capsim/capsim/examples"
	"github.com/capsim/capsim/experiments/scenario"
	"github.com/capsim/capsim/model"
)

// evaluated is an exported script run by a JavaScript engine: its options
// (as JSON.stringify gives them to capsim import k6), the scenarios'
// functions, and what each did when called once.
type evaluated struct {
	options  map[string]any
	json     string
	requests map[string][]string  // exec function → URLs it requested
	params   map[string][]any     // exec function → the params of its requests
	sleeps   map[string][]float64 // exec function → its sleeps (s)
	hasMain  bool
}

// evaluate runs a script in goja. goja has no ES module loader, so the
// import lines become bindings to stub k6, k6/http and k6/metrics objects
// and the exports plain declarations — the rest is the script as k6 would
// run it.
func evaluate(t *testing.T, script string) *evaluated {
	t.Helper()
	src := script
	for _, r := range []struct{ re, with string }{
		{`(?m)^import http from 'k6/http';$`, "const http = __k6http;"},
		{`(?m)^import \{ sleep \} from 'k6';$`, "const { sleep } = __k6;"},
		{`(?m)^import .* from 'k6/metrics';$`, "const { Trend, Rate, Counter } = __k6metrics;"},
		{`(?m)^export const `, "const "},
		{`(?m)^export default function `, "function __default"},
		{`(?m)^export function `, "function "},
	} {
		src = regexp.MustCompile(r.re).ReplaceAllString(src, r.with)
	}
	if regexp.MustCompile(`(?m)^\s*(import|export)\b`).MatchString(src) {
		t.Fatalf("the script has imports or exports the stubs do not cover:\n%s", script)
	}
	vm := goja.New()
	ev := &evaluated{requests: map[string][]string{}, params: map[string][]any{}, sleeps: map[string][]float64{}}
	current := ""
	vm.Set("__ENV", map[string]any{"BASE_URL": "http://sut:8080"})
	vm.Set("__k6", map[string]any{"sleep": func(s float64) { ev.sleeps[current] = append(ev.sleeps[current], s) }})
	vm.Set("__k6http", map[string]any{"get": func(url string, params any) {
		ev.requests[current] = append(ev.requests[current], url)
		ev.params[current] = append(ev.params[current], params)
	}})
	vm.Set("__k6metrics", map[string]any{})
	if _, err := vm.RunString(src); err != nil {
		t.Fatalf("the script does not run: %v\n%s", err, script)
	}
	js, err := vm.RunString("JSON.stringify(options)")
	if err != nil {
		t.Fatal(err)
	}
	ev.json = js.String()
	if err := json.Unmarshal([]byte(ev.json), &ev.options); err != nil {
		t.Fatal(err)
	}
	_, ev.hasMain = goja.AssertFunction(vm.Get("__default"))
	for name, sc := range ev.options["scenarios"].(map[string]any) {
		exec := sc.(map[string]any)["exec"].(string)
		fn, ok := goja.AssertFunction(vm.Get(exec))
		if !ok {
			t.Fatalf("scenario %s: exec %q is not a function of the script", name, exec)
		}
		current = exec
		if _, err := fn(goja.Undefined()); err != nil {
			t.Fatalf("scenario %s: %s(): %v", name, exec, err)
		}
	}
	return ev
}

// k6 duration strings: a number and a unit, repeated (Go's ParseDuration
// form, which k6's types.ParseExtendedDuration accepts).
var k6Duration_ = regexp.MustCompile(`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`)

// checkSchema checks an options object against k6's documented scenario
// schema: each executor's name and required fields, whole numbers where
// k6 takes integers, and duration strings
// (https://grafana.com/docs/k6/latest/using-k6/scenarios/executors/).
func checkSchema(t *testing.T, opts map[string]any) {
	t.Helper()
	required := map[string][]string{
		"constant-arrival-rate": {"rate", "duration", "preAllocatedVUs"},
		"ramping-arrival-rate":  {"stages", "preAllocatedVUs"},
		"constant-vus":          {"vus", "duration"},
		"ramping-vus":           {"stages"},
		"per-vu-iterations":     {"vus", "iterations"},
	}
	ints := []string{"rate", "startRate", "preAllocatedVUs", "maxVUs", "vus", "startVUs", "iterations"}
	durations := []string{"duration", "timeUnit", "startTime", "gracefulStop"}
	scenarios, ok := opts["scenarios"].(map[string]any)
	if !ok || len(scenarios) == 0 {
		t.Fatalf("options.scenarios: %v", opts["scenarios"])
	}
	for name, v := range scenarios {
		if !regexp.MustCompile(`^[0-9A-Za-z_-]+$`).MatchString(name) {
			t.Errorf("scenario name %q: k6 takes letters, digits, _ and -", name)
		}
		sc := v.(map[string]any)
		ex, _ := sc["executor"].(string)
		req, known := required[ex]
		if !known {
			t.Errorf("scenario %s: executor %q is not one of k6's", name, ex)
			continue
		}
		for _, k := range req {
			if _, ok := sc[k]; !ok {
				t.Errorf("scenario %s (%s): no %s, which k6 requires", name, ex, k)
			}
		}
		for _, k := range ints {
			if x, ok := sc[k]; ok {
				if f, isNum := x.(float64); !isNum || f != math.Trunc(f) || f < 0 {
					t.Errorf("scenario %s: %s = %v: k6 wants a whole number", name, k, x)
				}
			}
		}
		if r, ok := sc["rate"].(float64); ok && r < 1 {
			t.Errorf("scenario %s: rate %v", name, r)
		}
		if p, m := sc["preAllocatedVUs"], sc["maxVUs"]; p != nil && m != nil && m.(float64) < p.(float64) {
			t.Errorf("scenario %s: maxVUs %v below preAllocatedVUs %v", name, m, p)
		}
		for _, k := range durations {
			if d, ok := sc[k]; ok && !k6Duration_.MatchString(d.(string)) {
				t.Errorf("scenario %s: %s %q is not a k6 duration", name, k, d)
			}
		}
		if st, ok := sc["stages"]; ok {
			for i, s := range st.([]any) {
				s := s.(map[string]any)
				if d, _ := s["duration"].(string); !k6Duration_.MatchString(d) {
					t.Errorf("scenario %s: stages[%d].duration %q", name, i, d)
				}
				if x, _ := s["target"].(float64); x != math.Trunc(x) || x < 0 {
					t.Errorf("scenario %s: stages[%d].target %v", name, i, s["target"])
				}
			}
		}
	}
	if th, ok := opts["thresholds"].(map[string]any); ok {
		for metric, exprs := range th {
			if !regexp.MustCompile(`^http_req_(duration|failed)(\{scenario:[0-9A-Za-z_-]+\})?$`).MatchString(metric) {
				t.Errorf("threshold on %q", metric)
			}
			for _, e := range exprs.([]any) {
				if !regexp.MustCompile(`^(avg|max|p\([0-9.]+\)|rate)<[0-9.e+-]+$`).MatchString(e.(string)) {
					t.Errorf("threshold %s: %q is not a k6 threshold expression", metric, e)
				}
			}
		}
	}
}

// roundTrip imports the evaluated options with capsim import k6 and
// loads the tables it prints (each `to` pointed at a stub service, over
// the scenario's run), so that each source's arrivals can be compared
// with the original's.
func roundTrip(t *testing.T, sc *scenario.Scenario, ev *evaluated) map[string]model.TrafficConfig {
	t.Helper()
	tables, err := Import("options.json", []byte(ev.json))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, line := range strings.Split(string(tables), "\n") {
		switch {
		case strings.HasPrefix(line, "to = "):
			line = `to = "check"`
		case strings.HasPrefix(line, "endpoint = "):
			line = "# " + line
		}
		b.WriteString(line + "\n")
	}
	fmt.Fprintf(&b, "\n[run]\nduration = \"%ds\"\nmax_in_flight = 10000000\n\n[service.check]\nsteps = [ { cpu = \"1ms\" } ]\n", int64(sc.Config.Duration/1e9))
	got, err := scenario.Parse("roundtrip.toml", []byte(b.String()), nil, nil)
	if err != nil {
		t.Fatalf("the round trip does not load: %v\n%s", err, b.String())
	}
	out := map[string]model.TrafficConfig{}
	for _, tr := range got.Config.Traffic {
		out[tr.Name] = tr
	}
	return out
}

func TestExportExamples(t *testing.T) {
	for _, name := range examples.Names() {
		t.Run(name, func(t *testing.T) {
			data, _ := examples.Get(name)
			sc, err := scenario.Parse(name+".toml", data, nil, examples.Files())
			if err != nil {
				t.Fatal(err)
			}
			script, err := Export(sc, name+".toml", "http://localhost:8080")
			if err != nil {
				if strings.Contains(err.Error(), "no traffic source k6 can express") {
					t.Skipf("%v", err)
				}
				t.Fatal(err)
			}
			ev := evaluate(t, string(script))
			if !ev.hasMain {
				t.Error("no default function")
			}
			checkSchema(t, ev.options)
			back := roundTrip(t, sc, ev)
			for _, tr := range sc.Config.Traffic {
				k := strings.ReplaceAll(tr.Name, ".", "_")
				got, ok := back[k]
				if !ok {
					if !strings.Contains(string(script), tr.Name+": ") {
						t.Errorf("source %s left out without a comment saying why", tr.Name)
					}
					continue
				}
				sameTraffic(t, sc.Config, tr, got)
				exec := jsIdent(tr.Name)
				if len(ev.requests[exec]) == 0 {
					t.Errorf("source %s: its function sends no request", tr.Name)
				}
				for _, u := range ev.requests[exec] {
					if !strings.HasPrefix(u, "http://sut:8080/") {
						t.Errorf("source %s: request to %s, not under BASE_URL", tr.Name, u)
					}
				}
			}
			sameThresholds(t, sc, ev)
		})
	}
}

// sameTraffic compares a source with its round trip through k6: the same
// rates over the same times (arrival-rate executors are evenly spaced:
// Uniform is not compared), or the same VUs.
func sameTraffic(t *testing.T, cfg *model.Config, want, got model.TrafficConfig) {
	t.Helper()
	stop := func(tr model.TrafficConfig) int64 {
		if tr.Stop == 0 || tr.Stop > cfg.Duration {
			return int64(cfg.Duration)
		}
		return int64(tr.Stop)
	}
	wantStop := stop(want)
	if u, ok := want.Arrivals.(*model.UsersProcess); ok && u.Over > 0 {
		wantStop = min(wantStop, int64(want.Start+u.Over)) // its users arrive within Over
	}
	if want.Start != got.Start || wantStop != stop(got) {
		t.Errorf("%s: from %v to %v; round trip %v to %v", want.Name, want.Start, wantStop, got.Start, stop(got))
	}
	switch w := want.Arrivals.(type) {
	case *model.RateProcess:
		if w.Flash != nil {
			g, ok := got.Arrivals.(*model.StagesProcess)
			if !ok || g.StartRate != w.Rate || g.PeakRate() != w.PeakRate() {
				t.Errorf("%s: flash crowd %+v came back as %+v", want.Name, w, got.Arrivals)
			}
			return
		}
		g, ok := got.Arrivals.(*model.RateProcess)
		if !ok || math.Abs(g.Rate-w.Rate) > 1e-9*w.Rate {
			t.Errorf("%s: rate %v came back as %+v", want.Name, w.Rate, got.Arrivals)
		}
	case *model.StagesProcess:
		g, ok := got.Arrivals.(*model.StagesProcess)
		if !ok || g.StartRate != w.StartRate || !slices.Equal(g.Stages, w.Stages) {
			t.Errorf("%s: stages %+v came back as %+v", want.Name, w, got.Arrivals)
		}
	case *model.UsersProcess:
		g, ok := got.Arrivals.(*model.RateProcess)
		if w.Shape == model.ShapeAtOnce {
			return // per-vu-iterations: capsim import k6 does not read it back
		}
		if !ok || math.Abs(g.Rate-float64(w.Users)/w.Over.Seconds()) > 1e-9*g.Rate {
			t.Errorf("%s: %d users over %v came back as %+v", want.Name, w.Users, w.Over, got.Arrivals)
		}
	case *model.VUProcess:
		g, ok := got.Arrivals.(*model.VUProcess)
		if !ok || g.VUs != w.VUs || !slices.Equal(g.Stages, w.Stages) {
			t.Errorf("%s: VUs %+v came back as %+v", want.Name, w, got.Arrivals)
		}
	}
}

// sameThresholds: every latency and error-rate objective of the whole run
// or of a source is a k6 threshold with the same limit.
func sameThresholds(t *testing.T, sc *scenario.Scenario, ev *evaluated) {
	t.Helper()
	th, _ := ev.options["thresholds"].(map[string]any)
	for _, o := range sc.SLO.Objectives {
		if o.Stat != "error_rate" && !o.Latency() {
			continue
		}
		metric := "http_req_duration"
		if o.Stat == "error_rate" {
			metric = "http_req_failed"
		}
		if o.Scope != "" {
			metric += "{scenario:" + o.Scope + "}"
		}
		found := false
		for _, e := range th[metric].([]any) {
			if strings.HasSuffix(e.(string), fmt.Sprintf("<%v", o.Limit)) {
				found = true
			}
		}
		if !found {
			t.Errorf("slo %s (%v): no k6 threshold on %s with that limit: %v", o.Name(), o.Limit, metric, th[metric])
		}
	}
}

var update = flag.Bool("update", false, "rewrite testdata/*.js")

// shop is the README's minimal scenario.
const shop = `name = "shop"
[run]
duration = "5m"
window = "5s"
[slo]
p99 = "250ms"
error_rate = 0.001
[traffic.users]
to = "lb"
rate = 1200
timeout = "2s"
[balancer.lb]
to = "web"
algorithm = "least_connections"
[service.web]
instances = 4
cores = 2
concurrency = 64
queue = 256
steps = [ { cpu = "lognormal(median=4ms, p99=20ms)" }, { call = "db", timeout = "500ms" } ]
[service.db]
cores = 16
steps = [ { cpu = "exp(3ms)" } ]
`

// TestExportShopAndTicketing checks the two scenarios of the README field
// by field: the executors, rates, durations, VU pools by Little's law,
// thresholds and requests; and pins the scripts (testdata/*.js, -update).
func TestExportShopAndTicketing(t *testing.T) {
	ticketing, _ := examples.Get("ticketing-onsale")
	for _, c := range []struct {
		name, src string
		want      map[string]map[string]any
		thresh    map[string][]any
		requests  map[string][]string
		sleeps    int
	}{
		{"shop", shop,
			// 1,200/s for 5 minutes; p99 250 ms → 1.5 × 1200 × 0.25 = 450
			// pre-allocated, 1200 × the 2 s timeout = 2,400 at most.
			map[string]map[string]any{"users": {"executor": "constant-arrival-rate", "rate": 1200.0, "timeUnit": "1s", "duration": "300s", "preAllocatedVUs": 450.0, "maxVUs": 2400.0, "exec": "source_users"}},
			map[string][]any{"http_req_duration": {"p(99)<250"}, "http_req_failed": {"rate<0.001"}},
			map[string][]string{"source_users": {"http://sut:8080/"}}, 0},
		{"ticketing-onsale", string(ticketing),
			// 200k users over 30 s from 30 s: 200,000 per 30 s for 30 s;
			// 800/s of background for the whole 3 minutes.
			map[string]map[string]any{
				"buyers":     {"executor": "constant-arrival-rate", "startTime": "30s", "rate": 200000.0, "timeUnit": "30s", "duration": "30s", "preAllocatedVUs": 10000.0, "maxVUs": 66667.0, "exec": "source_buyers"},
				"background": {"executor": "constant-arrival-rate", "rate": 800.0, "timeUnit": "1s", "duration": "180s", "preAllocatedVUs": 1200.0, "maxVUs": 3200.0, "exec": "source_background"},
			},
			map[string][]any{"http_req_duration": {"p(99)<1000"}, "http_req_failed": {"rate<0.01"}},
			map[string][]string{"source_buyers": {"http://sut:8080/event_page", "http://sut:8080/checkout"}, "source_background": {"http://sut:8080/event_page"}}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			sc, err := scenario.Parse(c.name+".toml", []byte(c.src), nil, examples.Files())
			if err != nil {
				t.Fatal(err)
			}
			script, err := Export(sc, c.name+".toml", "http://localhost:8080")
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", c.name+".js")
			if *update {
				os.WriteFile(golden, script, 0o644)
			}
			if want, _ := os.ReadFile(golden); !bytes.Equal(want, script) {
				t.Errorf("the script differs from %s (go test -update rewrites it):\n%s", golden, script)
			}
			ev := evaluate(t, string(script))
			checkSchema(t, ev.options)
			got := ev.options["scenarios"].(map[string]any)
			if len(got) != len(c.want) {
				t.Errorf("%d scenarios, want %d", len(got), len(c.want))
			}
			for name, want := range c.want {
				if !reflect.DeepEqual(got[name], map[string]any(want)) {
					t.Errorf("scenario %s:\n got %v\nwant %v", name, got[name], want)
				}
			}
			th := ev.options["thresholds"].(map[string]any)
			for m, want := range c.thresh {
				if !reflect.DeepEqual(th[m], want) {
					t.Errorf("threshold %s: %v, want %v", m, th[m], want)
				}
			}
			for fn, want := range c.requests {
				if !slices.Equal(ev.requests[fn], want) {
					t.Errorf("%s requested %v, want %v", fn, ev.requests[fn], want)
				}
			}
			if n := len(ev.sleeps["source_buyers"]); n != c.sleeps {
				t.Errorf("buyers slept %d times, want %d (the think before checkout)", n, c.sleeps)
			}
		})
	}
}
