package calibrate

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/capsim/capsim/experiments"
	"github.com/capsim/capsim/experiments/scenario"
)

func learnBytes(t *testing.T, name string, data []byte) *Model {
	t.Helper()
	m, err := Learn([]File{{Name: name, R: bytes.NewReader(data)}}, true)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The learner recovers a traced system it was not told: the call graph
// exactly (sequential calls, a parallel fan-out, a call made with p = 0.3,
// a service called twice), each self-time segment's mean within 5 % and
// p99 within 10 % of what was drawn, the call probability within four
// standard errors, the network hop, and the root rate.
func TestLearnRecoversTheSystem(t *testing.T) {
	const n = 4000
	g := newTruth(n, 50, 1)
	m := learnBytes(t, "otlp.json", g.otlp(512, false))
	if m.Drops.Traces != n || m.dropped() != 0 {
		t.Fatalf("%d traces used, %d spans dropped; want %d and 0 (%+v)", m.Drops.Traces, m.dropped(), n, m.Drops)
	}
	var names []string
	for _, s := range m.Services {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, " "); got != "ads audit gateway recs users" {
		t.Fatalf("services %q", got)
	}
	gw := find(t, m, "gateway", "GET")
	var shape []string
	for _, st := range gw.Steps {
		shape = append(shape, stepShape(st))
	}
	want := "self call:users.GET_users_id self parallel:recs.list,ads.show call:audit.log call:users.GET_users_id self"
	if got := strings.Join(shape, " "); got != want {
		t.Fatalf("gateway steps:\n got  %s\n want %s", got, want)
	}
	segs := map[string]Fit{"gateway.A": gw.Steps[0].Fit, "gateway.B": gw.Steps[2].Fit, "gateway.C": gw.Steps[6].Fit,
		"users.get": find(t, m, "users", "GET_users_id").Steps[0].Fit, "recs.list": find(t, m, "recs", "list").Steps[0].Fit,
		"ads.show": find(t, m, "ads", "show").Steps[0].Fit, "audit.log": find(t, m, "audit", "log").Steps[0].Fit}
	for name, f := range segs {
		xs := sortedCopy(g.drawn[name])
		var sum float64
		for _, x := range xs {
			sum += x
		}
		mean, p99 := sum/float64(len(xs)), quantile(xs, 0.99)
		if math.Abs(f.FitMean/mean-1) > 0.05 || math.Abs(f.FitP99/p99-1) > 0.10 {
			t.Errorf("%s: fitted %s: mean %.4g, p99 %.4g; drawn mean %.4g, p99 %.4g (n %d)", name, f.Dist, f.FitMean, f.FitP99, mean, p99, len(xs))
		}
		if f.N != len(xs) && name != "users.get" {
			t.Errorf("%s: fitted on %d samples, %d drawn", name, f.N, len(xs))
		}
	}
	if f := segs["audit.log"]; f.Name != "const" {
		t.Errorf("audit.log's constant 0.5 ms fitted as %s", f.Dist)
	}
	if f := segs["users.get"]; f.Name != "exp" && f.Name != "gamma" {
		t.Errorf("users.get's exponential fitted as %s", f.Dist)
	}
	audit := gw.Steps[4]
	p := float64(g.audit) / n
	if se := math.Sqrt(0.3 * 0.7 / n); audit.P != p || math.Abs(audit.P-0.3) > 4*se {
		t.Errorf("audit called with p %.4f; drawn %.4f, want 0.3 ± %.4f", audit.P, p, 4*math.Sqrt(0.3*0.7/n))
	}
	// One way: exp(0.1 ms) truncated to the µs, halved round trips.
	if nw := m.Network; nw == nil || math.Abs(nw.Mean/99.5e3-1) > 0.05 {
		t.Errorf("network %+v, want a mean one-way hop near 0.0995 ms", m.Network)
	}
	if r := m.Traffic[0].Rate; math.Abs(r/50-1) > 4/math.Sqrt(n) {
		t.Errorf("rate %.3f/s, want 50 ± %.2f", r, 200/math.Sqrt(n))
	}
}

// The same spans as OTLP (hex or base64 ids, int or string enums, Tempo's
// legacy names), Jaeger and Zipkin (shared server spans) give the same
// scenario, byte for byte.
func TestFormatsAgree(t *testing.T) {
	g := newTruth(500, 20, 2)
	want := learnBytes(t, "otlp.json", g.otlp(100, false)).Scenario(Options{Sources: []string{"x"}})
	for name, data := range map[string][]byte{
		"legacy otlp": g.otlp(37, true), "jaeger": g.jaeger(), "zipkin": g.zipkin(),
	} {
		got := learnBytes(t, name, data).Scenario(Options{Sources: []string{"x"}})
		if !bytes.Equal(got, want) {
			t.Errorf("%s: the scenario differs from OTLP's:\n%s", name, firstDiff(want, got))
		}
	}
}

func firstDiff(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return "  " + al[i] + "\n  " + bl[i]
		}
	}
	return "(lengths differ)"
}

func find(t *testing.T, m *Model, svc, ep string) *Endpoint {
	t.Helper()
	for _, s := range m.Services {
		for _, e := range s.Endpoints {
			if s.Name == svc && e.Name == ep {
				return e
			}
		}
	}
	t.Fatalf("no endpoint %s.%s", svc, ep)
	return nil
}

func stepShape(st Step) string {
	switch st.Kind {
	case SelfTime:
		return "self"
	case Call:
		return "call:" + st.Target.path()
	case Async:
		return "async:" + st.Target.path()
	case External:
		return "external:" + st.Name
	}
	var b []string
	for _, x := range st.Branches {
		b = append(b, x.Target.path())
	}
	return "parallel:" + strings.Join(b, ",")
}

// The scenario written validates and runs as it is, and at the traced rate
// (with the assumed fleets, too big to queue) reproduces the traced root
// latency: mean within 3 % and p99 within 10 % of the traces'.
func TestScenarioRunsAndReproducesTheTraces(t *testing.T) {
	g := newTruth(4000, 50, 3)
	m := learnBytes(t, "otlp.json", g.otlp(512, false))
	src := m.Scenario(Options{Sources: []string{"otlp.json"}})
	sc, err := scenario.Parse("traced.toml", src, []string{"run.duration=400s"}, nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	o, err := experiments.Run(sc, experiments.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.InvariantError(); err != nil {
		t.Error(err)
	}
	var durs []float64
	for _, s := range g.spans {
		if s.ParentID == "" {
			durs = append(durs, float64(s.End-s.Start)/1e6)
		}
	}
	durs = sortedCopy(durs)
	var sum float64
	for _, d := range durs {
		sum += d
	}
	mean, p99 := sum/float64(len(durs)), quantile(durs, 0.99)
	got := o.Summary.Latency
	if math.Abs(got.Mean/mean-1) > 0.03 || math.Abs(got.P99/p99-1) > 0.10 {
		t.Errorf("simulated mean %.3f ms, p99 %.3f ms; traced %.3f, %.3f", got.Mean, got.P99, mean, p99)
	}
}
