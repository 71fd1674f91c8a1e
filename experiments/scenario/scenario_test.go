package scenario

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/capsim/capsim/examples"
	"github.com/capsim/capsim/model"
	"github.com/capsim/capsim/sim"
)

var update = flag.Bool("update", false, "rewrite the expected-message files in testdata/")

// Every broken scenario under testdata/bad has its expected messages in a
// .err file beside it (regenerate with go test -update after checking them).
func TestBadScenarios(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad/*.toml")
	if len(files) < 20 {
		t.Fatalf("only %d bad scenarios", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			_, err := Load(f, nil)
			if err == nil {
				t.Fatal("no error")
			}
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			for _, p := range se.Problems {
				if p.File != f || p.Msg == "" {
					t.Errorf("problem without file or message: %+v", p)
				}
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(f, ".toml") + ".err"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("messages differ from %s:\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

// Problems name the line of the offending key, including keys inside inline
// tables and multi-line arrays.
func TestProblemLines(t *testing.T) {
	src := `[traffic.in]
to = "web"
rate = 10

[service.web]
steps = [ { cpu = "exp(5ms)" },
          { call = "nowhere" } ]
`
	_, err := Parse("x.toml", []byte(src), nil, nil)
	var se *Error
	if !errors.As(err, &se) || len(se.Problems) != 1 {
		t.Fatalf("want one problem, got %v", err)
	}
	p := se.Problems[0]
	if p.Line != 7 || p.Key != "service.web.steps[1].call" {
		t.Errorf("problem at line %d key %s, want line 7 key service.web.steps[1].call", p.Line, p.Key)
	}
}

func TestPositions(t *testing.T) {
	src := `name = "x" # comment
[run]
duration = "1m"
[service."web"]
steps = [
  { cpu = "1ms", p = 0.5 },   # a comment with [brackets] and "quotes"
  { call = 'db' },
]
str = """multi
line = fake"""
after = 1
[[fault]]
at = "1s"
[[fault]]
at = "2s"
`
	pos := scanPositions(src)
	for path, line := range map[string]int{
		"name": 1, "run": 2, "run.duration": 3, "service.web": 4, "service.web.steps": 5,
		"service.web.steps[0].cpu": 6, "service.web.steps[0].p": 6, "service.web.steps[1].call": 7,
		"service.web.str": 9, "service.web.after": 11, "fault[0].at": 13, "fault[1].at": 15,
	} {
		if pos[path] != line {
			t.Errorf("%s: line %d, want %d", path, pos[path], line)
		}
	}
	if _, ok := pos["service.web.line"]; ok {
		t.Error("text inside a multi-line string was taken for a key")
	}
}

const minimal = `
[traffic.in]
to = "web"
rate = 10
[service.web]
steps = [ { cpu = "exp(5ms)" } ]
`

// web is the minimal scenario's service.
func web(c *model.Config) *model.ServiceConfig {
	return c.Find("web").(*model.ServiceConfig)
}

func TestSet(t *testing.T) {
	cases := []struct {
		set   string
		check func(*model.Config) bool
	}{
		{"service.web.instances=12", func(c *model.Config) bool { return web(c).Instances == 12 }},
		{"service.web.concurrency=unlimited", func(c *model.Config) bool { return web(c).Concurrency == model.Unlimited }},
		{"service.web.steps[0].cpu=const(2ms)", func(c *model.Config) bool { return web(c).Endpoints[0].Steps[0].Dist.Mean() == 2e6 }},
		{"traffic.in.rate=5k/s", func(c *model.Config) bool { return c.Traffic[0].Arrivals.(*model.RateProcess).Rate == 5000 }},
		{"run.duration=10m", func(c *model.Config) bool { return c.Duration == 10*sim.Minute }},
		{"traffic.in.timeout=2s", func(c *model.Config) bool { return c.Traffic[0].Timeout == 2*sim.Second }}, // a key the file leaves out
		{"service.web.price_per_hour=0.5", func(c *model.Config) bool { return web(c).PricePerHour == 0.5 }},
		{`name="with spaces"`, func(c *model.Config) bool { return c.Name == "with spaces" }},
	}
	for _, c := range cases {
		sc, err := Parse("m.toml", []byte(minimal), []string{c.set}, nil)
		if err != nil {
			t.Errorf("--set %s: %v", c.set, err)
			continue
		}
		if !c.check(sc.Config) {
			t.Errorf("--set %s had no effect", c.set)
		}
	}
	for _, c := range []struct{ set, want string }{
		{"service.web.instances", "want PATH=VALUE"},
		{"service.web.steps[3].cpu=1ms", "out of range"},
		{"service.web.instances.x=1", "want a whole number, got a table"},
		{"service.web.steps.x=1", "is not a table"},
		{"service.web.instnces=3", `did you mean "instances"`},
		{"traffic.in.rate=-1", "rate must be from 0"},
	} {
		_, err := Parse("m.toml", []byte(minimal), []string{c.set}, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("--set %s: error %v, want %q", c.set, err, c.want)
		}
	}
}

func TestDefaults(t *testing.T) {
	sc, err := Parse("m.toml", []byte(minimal), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := sc.Config
	s := web(c)
	if c.Duration != sim.Minute || c.Seed != 1 || c.Warmup != 0 || c.Window != 250*sim.Millisecond {
		t.Errorf("run defaults: duration %v seed %d warmup %v window %v", c.Duration, c.Seed, c.Warmup, c.Window)
	}
	if s.Instances != 1 || s.Cores != 1 || s.Concurrency != model.Unlimited || s.Queue != model.Unlimited || s.Algorithm != "round_robin" {
		t.Errorf("service defaults: %+v", s)
	}
}

func TestRates(t *testing.T) {
	for in, want := range map[any]float64{int64(1200): 1200, 2.5: 2.5, "5k/s": 5000, "300/min": 5, "2.5k": 2500, "36/h": 0.01, "1M/min": 1e6 / 60} {
		got, err := parseRate(in)
		if err != nil || got != want {
			t.Errorf("parseRate(%v) = %v, %v; want %v", in, got, err, want)
		}
	}
}

func TestPlausibilityWarning(t *testing.T) {
	sc, err := Parse("w.toml", []byte(minimal), []string{"traffic.in.rate=300"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Warnings) != 1 || !strings.Contains(sc.Warnings[0].String(), "1.50× the capacity of service.web") {
		t.Errorf("warnings: %v", sc.Warnings)
	}
	sc, _ = Parse("w.toml", []byte(minimal), nil, nil)
	if len(sc.Warnings) != 0 {
		t.Errorf("unexpected warnings: %v", sc.Warnings)
	}
}

// The warnings follow the model's own call graph: a database called with
// no endpoint reads; async steps and every parallel branch carry load; the
// warning names the component that saturates, at its own line.
func TestPlausibilityFollowsTheCallGraph(t *testing.T) {
	const src = `[traffic.in]
to = "lb"
rate = 1000
[balancer.lb]
to = "web"
[service.web]
cores = 8
steps = [ { call = "db" }, { parallel = [ { call = "db", endpoint = "read" }, { call = "a" } ] }, { async = "b" } ]
[service.a]
steps = [ { cpu = "exp(2ms)" } ]
[service.b]
steps = [ { cpu = "exp(2ms)" } ]
[database.db]
cores = 1
read = "const(2.5ms)"
`
	sc, err := Parse("w.toml", []byte(src), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range sc.Warnings {
		got = append(got, w.String())
	}
	want := []string{
		"w.toml:9: service.a: offered cpu load at the traffic's peak is 2.00× the capacity of service.a (1 instance × 1 core): queues will grow while the peak lasts; its queue is unbounded, so memory grows with it (set queue = N to reject the excess instead)",
		"w.toml:11: service.b: offered cpu load at the traffic's peak is 2.00× the capacity of service.b (1 instance × 1 core): queues will grow while the peak lasts; its queue is unbounded, so memory grows with it (set queue = N to reject the excess instead)",
		"w.toml:13: database.db: offered cpu load at the traffic's peak is 5.00× the capacity of database.db (its busiest node, s0.primary, with 1 core): queues will grow while the peak lasts; its queue is unbounded, so memory grows with it (set queue = N to reject the excess instead)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The estimate counts what a run would: a cache in front takes its hits
// off the database (a fixed ratio, or Che's estimate for a key-level
// cache), an autoscaled service is judged at its max, and a sharded,
// replicated database at its busiest node (the hot shard's primary for
// writes under range sharding of Zipf keys).
func TestPlausibilityCapacity(t *testing.T) {
	cases := []struct {
		name, src string
		want      []string // substrings of the warnings, in order; none: no warning
	}{
		{"fixed hit ratio shields the database", `[traffic.in]
to = "web"
rate = 1000
[service.web]
cores = 8
steps = [ { call = "c" }, { call = "db", if = "miss" } ]
[cache.c]
hit_ratio = 0.9
[database.db]
cores = 1
read = "const(5ms)"
`, nil},
		{"the same without the cache saturates it", `[traffic.in]
to = "web"
rate = 1000
[service.web]
cores = 8
steps = [ { call = "db" } ]
[database.db]
cores = 1
read = "const(5ms)"
`, []string{"database.db: offered cpu load at the traffic's peak is 5.00×"}},
		{"key-level LRU estimated by Che", `[traffic.in]
to = "web"
rate = 1000
keys = "zipf(s=1.0, n=10000)"
[service.web]
cores = 8
steps = [ { call = "c" }, { call = "db", if = "miss" } ]
[cache.c]
capacity = 5000
[database.db]
cores = 1
read = "const(2ms)"
`, nil},
		{"autoscaled service at its max", `[traffic.in]
to = "web"
rate = 1000
[service.web]
instances = 2
autoscale = { policy = "hpa", target = 0.6, max = 20 }
steps = [ { cpu = "exp(10ms)" } ]
`, nil},
		{"autoscaled service beyond even its max", `[traffic.in]
to = "web"
rate = 1000
[service.web]
instances = 2
autoscale = { policy = "hpa", target = 0.6, max = 5 }
steps = [ { cpu = "exp(10ms)" } ]
`, []string{"2.00× the capacity of service.web (5 instances × 1 core, its autoscaler's max)"}},
		{"range-sharded writes on the hot shard", `[traffic.in]
to = "web"
rate = 2000
keys = "zipf(s=1.1, n=10000)"
[service.web]
cores = 8
steps = [ { call = "db", write = true } ]
[database.db]
shards = 8
shard_by = "range"
cores = 2
write = "const(2ms)"
queue = 100
`, []string{"database.db: offered cpu load at the traffic's peak is", "its busiest node, s0.primary, with 2 cores"}},
	}
	for _, c := range cases {
		sc, err := Parse("w.toml", []byte(c.src), nil, nil)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var got []string
		for _, w := range sc.Warnings {
			got = append(got, w.String())
		}
		all := strings.Join(got, "\n")
		if len(c.want) == 0 && len(got) > 0 {
			t.Errorf("%s: unexpected warnings:\n%s", c.name, all)
		}
		for _, w := range c.want {
			if !strings.Contains(all, w) {
				t.Errorf("%s: warnings\n%s\nwant %q", c.name, all, w)
			}
		}
	}
}

// Validating a scenario opens no file it keeps: a trace is opened only by
// a run, which closes it.
func TestLoadLeavesNoFileOpen(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "t.csv"), []byte("t\n0\n1\n2\n"), 0o644)
	p := filepath.Join(dir, "s.toml")
	os.WriteFile(p, []byte("[traffic.tr]\nto = \"s\"\ntrace = \"t.csv\"\n[service.s]\nsteps = [ { cpu = \"1ms\" } ]\n"), 0o644)
	fds := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Skip("no /proc/self/fd here")
		}
		return len(ents)
	}
	before := fds()
	for range 50 {
		if _, err := Load(p, nil); err != nil {
			t.Fatal(err)
		}
	}
	if after := fds(); after > before+2 {
		t.Errorf("50 loads: %d open descriptors before, %d after", before, after)
	}
}

// Every embedded example parses without problems.
// The warnings of the examples are the ones their stories intend (the hot
// shard's replica, Redis's single thread at the burst's peak, the API
// during the retry storm's spike), and no
// others: a trace with a key column supplies keys, a cache in front takes
// its hits off the database, an autoscaler's max counts.
func TestExamplesParse(t *testing.T) {
	intended := map[string]string{
		"leaderboard-shards": "database.scores: offered cpu load at the traffic's peak is 100 % of the capacity of database.scores (its busiest node, s0.replica1",
		"news-cache":         "cache.redis: offered cpu load at the traffic's peak is 98 %",
		"retry-storm":        "service.api: offered cpu load at the traffic's peak is 1.20×",
	}
	for _, n := range examples.Names() {
		data, _ := examples.Get(n)
		sc, err := Parse(n+".toml", data, nil, examples.Files())
		if err != nil {
			t.Errorf("%s: %v", n, err)
			continue
		}
		for _, w := range sc.Warnings {
			if want := intended[n]; want == "" || !strings.Contains(w.String(), want) {
				t.Errorf("%s: unexpected warning %s", n, w)
			}
		}
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/bad/*.toml")
	for _, n := range examples.Names() {
		data, _ := examples.Get(n)
		f.Add(data)
	}
	for _, file := range files {
		data, _ := os.ReadFile(file)
		f.Add(data)
	}
	f.Add([]byte(minimal))
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := Parse("fuzz.toml", data, nil, nil) // no files: traces are reported, not read
		if err != nil {
			var se *Error
			if !errors.As(err, &se) || len(se.Problems) == 0 {
				t.Fatalf("error without problems: %v", err)
			}
			return
		}
		// A valid scenario must also build.
		if _, err := model.New(sc.Config, 1); err != nil {
			t.Fatalf("valid scenario does not build: %v", err)
		}
		_ = bytes.MinRead
	})
}

// The position scanner ends on any input, valid TOML or not.
func FuzzPositions(f *testing.F) {
	f.Add(minimal)
	f.Add("a = 1}\n]]\n{ = ,\n[x\n\"\"\"")
	f.Fuzz(func(t *testing.T, src string) {
		scanPositions(src)
	})
}

// A fleet KEDA scales may start at zero instances; any other fleet may not.
func TestOnlyKEDAFleetsStartEmpty(t *testing.T) {
	const src = `
[traffic.in]
to = "api"
rate = 10
[service.api]
steps = [ { publish = "orders" } ]
[queue.orders]
consumer = "worker"
[service.worker]
instances = 0
autoscale = { policy = "keda", queue = "orders", min = 0, max = 4 }
steps = [ { cpu = "exp(5ms)" } ]
`
	sc, err := Parse("k.toml", []byte(src), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if w := sc.Config.Find("worker").(*model.ServiceConfig); w.Instances != 0 || w.Autoscale.Min != 0 {
		t.Errorf("worker starts with %d instances (min %d), want 0 (0)", w.Instances, w.Autoscale.Min)
	}
	_, err = Parse("k.toml", []byte(src), []string{"service.api.instances=0"}, nil)
	if err == nil || !strings.Contains(err.Error(), "service.api.instances: must be from 1") {
		t.Errorf("api with 0 instances: error %v, want one naming service.api.instances", err)
	}
}
