package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func capsim(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

const small = `
name = "small"
[run]
duration = "30s"
[slo]
p99 = "100ms"
[traffic.in]
to = "lb"
rate = 100
[balancer.lb]
to = "web"
[service.web]
instances = 2
steps = [ { cpu = "exp(5ms)" } ]
`

func writeScenario(t *testing.T, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "s.toml")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunDefaultExample(t *testing.T) {
	code, out, _ := capsim(t, "run", "--duration", "40s")
	if code != exitOK && code != exitSLO {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"ticketing-onsale", "SLO", "Latency ms", "p99", "web", "Cost"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

func TestRunJSONAndBundle(t *testing.T) {
	file := writeScenario(t, small)
	dir := filepath.Join(t.TempDir(), "out")
	code, out, errOut := capsim(t, "run", file, "--json", "-o", dir, "--seed", "7")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var s map[string]any
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("stdout is not JSON: %v", err)
	}
	if s["seed"].(float64) != 7 || s["scenario"] != "small" {
		t.Errorf("seed %v scenario %v", s["seed"], s["scenario"])
	}
	disk, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil || string(disk) != out {
		t.Errorf("summary.json differs from --json output (%v)", err)
	}
	csv, err := os.ReadFile(filepath.Join(dir, "timeseries.csv"))
	if err != nil || !strings.HasPrefix(string(csv), "t_s,arrivals_rps,") {
		t.Errorf("timeseries.csv: %v %.40q", err, csv)
	}
	var names []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			names = append(names, rel)
			if strings.HasPrefix(d.Name(), ".") && d.Name() != manifestName {
				t.Errorf("temporary file left behind: %s", rel)
			}
		}
		return nil
	})
	for _, want := range []string{"summary.json", "timeseries.csv", "report.html", "plots/latency.png", "plots/latency.svg", "plots/load.png", "plots/latency_spectrum.svg"} {
		found := false
		for _, n := range names {
			found = found || n == want
		}
		if !found {
			t.Errorf("bundle lacks %s (has %v)", want, names)
		}
	}
}

func TestCheckExitCode(t *testing.T) {
	file := writeScenario(t, small)
	if code, _, _ := capsim(t, "run", file, "--check"); code != exitOK {
		t.Errorf("SLO met: exit %d", code)
	}
	code, out, _ := capsim(t, "run", file, "--check", "--set", "slo.p99=1ms")
	if code != exitSLO {
		t.Errorf("SLO not met: exit %d, want %d", code, exitSLO)
	}
	if !strings.Contains(out, "✘ p99") {
		t.Errorf("no failed verdict in:\n%s", out)
	}
}

func TestSetAndDuration(t *testing.T) {
	file := writeScenario(t, small)
	_, out, _ := capsim(t, "run", file, "--json", "--duration", "10s", "--set", "service.web.instances=3", "--set", "traffic.in.rate=50")
	var s struct {
		DurationS  float64 `json:"duration_s"`
		Components map[string]struct {
			Instances struct{ Final int } `json:"instances"`
		} `json:"components"`
		Requests struct{ Arrived int } `json:"requests"`
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	if s.DurationS != 10 || s.Components["web"].Instances.Final != 3 || s.Requests.Arrived > 700 {
		t.Errorf("overrides not applied: %+v", s)
	}
}

func TestValidate(t *testing.T) {
	good := writeScenario(t, small)
	code, out, _ := capsim(t, "validate", good)
	if code != exitOK || !strings.Contains(out, "valid") {
		t.Errorf("valid file: exit %d, %q", code, out)
	}
	bad := writeScenario(t, strings.Replace(small, "instances = 2", "instnces = 2", 1)+"[service.db]\nsteps = [ { cpu = \"fast\" } ]\n")
	code, _, errOut := capsim(t, "validate", bad)
	if code != exitError {
		t.Errorf("bad file: exit %d", code)
	}
	for _, want := range []string{bad + ":13: service.web.instnces: unknown key; did you mean \"instances\"?", bad + ":16: service.db.steps[0].cpu:", "2 problems found"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	overloaded := writeScenario(t, strings.Replace(small, "rate = 100", "rate = 1000", 1))
	_, out, _ = capsim(t, "validate", overloaded)
	if !strings.Contains(out, "warning:") || !strings.Contains(out, "2.50× the capacity of service.web") {
		t.Errorf("no plausibility warning: %q", out)
	}
}

func TestExamples(t *testing.T) {
	code, out, _ := capsim(t, "examples")
	if code != exitOK || !strings.Contains(out, "ticketing-onsale") || !strings.Contains(out, "social-feed") || !strings.Contains(out, "(default)") {
		t.Errorf("examples: exit %d\n%s", code, out)
	}
	code, out, _ = capsim(t, "examples", "social-feed")
	if code != exitOK || !strings.Contains(out, `name = "social-feed"`) {
		t.Errorf("examples social-feed: exit %d", code)
	}
	if code, _, _ := capsim(t, "examples", "nope"); code != exitError {
		t.Errorf("unknown example: exit %d", code)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"fly"}, {"run", "--bogus"}, {"run", "a", "b"}, {"run", "--duration", "soon"}, {"validate"}} {
		if code, _, _ := capsim(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
	if code, _, errOut := capsim(t, "run", "no-such-thing"); code != exitError || !strings.Contains(errOut, "no such file, and no embedded example") {
		t.Errorf("missing scenario: exit %d %q", code, errOut)
	}
}

func TestImportK6(t *testing.T) {
	p := filepath.Join(t.TempDir(), "options.json")
	os.WriteFile(p, []byte(`{"scenarios": {"api": {"executor": "constant-arrival-rate", "rate": 100, "duration": "1m"}}}`), 0o644)
	code, out, errOut := capsim(t, "import", "k6", p)
	if code != exitOK || !strings.Contains(out, "[traffic.api]") || !strings.Contains(out, "rate = 100") {
		t.Errorf("exit %d: %s %s", code, out, errOut)
	}
	if code, _, _ := capsim(t, "import", "jmeter", p); code != exitUsage {
		t.Errorf("unknown importer: exit %d", code)
	}
}

func TestFormatMarkdown(t *testing.T) {
	file := writeScenario(t, small)
	code, out, _ := capsim(t, "run", file, "--format", "markdown")
	if code != exitOK || !strings.Contains(out, "| objective | measured | limit |") || !strings.Contains(out, "| component | kind |") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	if code, _, _ := capsim(t, "run", file, "--format", "yaml"); code != exitUsage {
		t.Errorf("--format yaml: exit %d", code)
	}
}

// A sharded sweep merged equals the unsharded sweep, byte for byte, and
// the shard index can come from a Kubernetes Indexed Job.
func TestSweepShardsMerge(t *testing.T) {
	file := writeScenario(t, small)
	dir := t.TempDir()
	args := []string{"sweep", file, "--vary", "service.web.instances=1..5", "--vary", "traffic.in.rate=50,100", "--replications", "2"}
	if code, _, errOut := capsim(t, append(args, "-o", filepath.Join(dir, "all"))...); code != exitOK {
		t.Fatalf("sweep: exit %d: %s", code, errOut)
	}
	var shards []string
	for i := 0; i < 3; i++ {
		out := filepath.Join(dir, "shard"+strconv.Itoa(i))
		shards = append(shards, out)
		extra := []string{"--shard", strconv.Itoa(i) + "/3"}
		if i == 2 {
			t.Setenv("JOB_COMPLETION_INDEX", "2")
			extra = []string{"--shard", "3"}
		}
		if code, _, errOut := capsim(t, append(append(args, extra...), "-o", out)...); code != exitOK {
			t.Fatalf("shard %d: exit %d: %s", i, code, errOut)
		}
	}
	merged := filepath.Join(dir, "merged")
	if code, _, errOut := capsim(t, append(append([]string{"merge"}, shards...), "-o", merged)...); code != exitOK {
		t.Fatalf("merge: exit %d: %s", code, errOut)
	}
	for _, f := range []string{"sweep.json", "sweep.csv"} {
		a, _ := os.ReadFile(filepath.Join(dir, "all", f))
		b, err := os.ReadFile(filepath.Join(merged, f))
		if err != nil || !bytes.Equal(a, b) || len(a) == 0 {
			t.Errorf("%s: merged shards differ from the unsharded sweep (%v)", f, err)
		}
	}
	if code, _, _ := capsim(t, "merge", shards[0], shards[1]); code != exitError {
		t.Error("merging incomplete shards succeeded")
	}
	// A sweep over two values draws its plots (one line per value of the
	// second), the merge too; a shard draws none, and has no plots folder.
	for _, d := range []string{filepath.Join(dir, "all"), merged} {
		for _, plot := range []string{"sweep_p99.svg", "sweep_p99_map.svg", "sweep_cost_map.png"} {
			if _, err := os.Stat(filepath.Join(d, "plots", plot)); err != nil {
				t.Errorf("%s: %v", d, err)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(shards[0], "plots")); !os.IsNotExist(err) {
		t.Errorf("a shard wrote a plots folder (%v)", err)
	}
}

// plan --json prints the chosen point keyed by path, with its evidence.
func TestPlanJSON(t *testing.T) {
	file := writeScenario(t, strings.Replace(small, "rate = 100", "rate = 600", 1))
	code, out, errOut := capsim(t, "plan", file, "--vary", "service.web.instances=1..40", "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res struct {
		Point     map[string]float64                 `json:"point"`
		Evidence  struct{ Point map[string]float64 } `json:"evidence"`
		Evaluated int                                `json:"evaluated"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	n := res.Point["service.web.instances"]
	if n < 4 || res.Evidence.Point["service.web.instances"] != n-1 || res.Evaluated > 8 {
		t.Errorf("plan: %+v", res)
	}
	// -o writes the same report and the plot of the settings evaluated.
	dir := t.TempDir()
	if code, _, errOut := capsim(t, "plan", file, "--vary", "service.web.instances=1..40", "--json", "-o", dir); code != exitOK {
		t.Fatalf("plan -o: exit %d: %s", code, errOut)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "plan.json")); err != nil || string(b) != out {
		t.Errorf("plan.json differs from --json (%v)", err)
	}
	if svg, err := os.ReadFile(filepath.Join(dir, "plots", "plan.svg")); err != nil || !strings.Contains(string(svg), "chosen: service.web.instances") {
		t.Errorf("plots/plan.svg: %v, want the chosen setting labelled", err)
	}
}

func TestCompareCommand(t *testing.T) {
	file := writeScenario(t, small)
	code, out, errOut := capsim(t, "compare", file, "--vs-set", "service.web.instances=3", "--replications", "3")
	if code != exitOK || !strings.Contains(out, "latency_ms.p99") || !strings.Contains(out, "common random numbers") {
		t.Errorf("exit %d: %s %s", code, out, errOut)
	}
}

// Every subcommand follows the same conventions: --help (and "capsim help
// CMD") prints its usage to stdout and exits 0; an unknown flag or a bad
// value is named on stderr with the usage, exit 2, nothing on stdout.
func TestFlagConventions(t *testing.T) {
	file := writeScenario(t, small)
	subcommands := map[string][]string{ // the arguments a command needs before its flags
		"run": {file}, "validate": {file}, "examples": nil, "import": {"k6", "o.json"},
		"sweep": {file, "--vary", "service.web.instances=1,2"}, "merge": {"dir"},
		"plan": {file, "--vary", "service.web.instances=1..4"}, "compare": {file, "--vs-set", "service.web.instances=3"},
	}
	for cmd, pre := range subcommands {
		for _, c := range []struct {
			name string
			args []string
			code int
			out  string // in stdout
			err  string // in stderr
		}{
			{"--help", []string{"--help"}, exitOK, "Usage: capsim " + cmd, ""},
			{"-h", []string{"-h"}, exitOK, "Usage: capsim " + cmd, ""},
			{"unknown flag", []string{"--bogus"}, exitUsage, "", "capsim " + cmd + ": unknown flag: --bogus"},
			{"unknown shorthand", []string{"-Z"}, exitUsage, "", "unknown shorthand flag: 'Z'"},
		} {
			args := append(append([]string{cmd}, pre...), c.args...)
			code, out, errOut := capsim(t, args...)
			if code != c.code || !strings.Contains(out, c.out) || !strings.Contains(errOut, c.err) {
				t.Errorf("capsim %s: exit %d, stdout %.60q, stderr %.80q; want exit %d, stdout with %q, stderr with %q",
					strings.Join(args, " "), code, out, errOut, c.code, c.out, c.err)
			}
			if c.code != exitOK && (out != "" || !strings.Contains(errOut, "Usage: capsim "+cmd)) {
				t.Errorf("capsim %s: a usage error prints nothing on stdout and the usage on stderr; got stdout %.60q", strings.Join(args, " "), out)
			}
			if c.code == exitOK && errOut != "" {
				t.Errorf("capsim %s: help prints nothing on stderr, got %q", strings.Join(args, " "), errOut)
			}
		}
		code, out, _ := capsim(t, "help", cmd)
		if code != exitOK || !strings.Contains(out, "Usage: capsim "+cmd) {
			t.Errorf("capsim help %s: exit %d, %.60q", cmd, code, out)
		}
	}
	for _, c := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"run", file, "--seed", "abc"}, exitUsage, `invalid argument "abc" for "--seed"`},
		{[]string{"run", file, "--replication", "3"}, exitUsage, "unknown flag: --replication"},
		{[]string{"run", file, "--replications", "x"}, exitUsage, `invalid argument "x" for "--replications"`},
		{[]string{"help", "nope"}, exitUsage, `unknown command "nope"`},
	} {
		code, out, errOut := capsim(t, c.args...)
		if code != c.code || out != "" || !strings.Contains(errOut, c.err) {
			t.Errorf("capsim %s: exit %d, stdout %.60q, stderr %.80q; want %d and %q", strings.Join(c.args, " "), code, out, errOut, c.code, c.err)
		}
	}
	for _, v := range []string{"--version", "version"} {
		if code, out, _ := capsim(t, v); code != exitOK || !strings.HasPrefix(out, "capsim ") {
			t.Errorf("capsim %s: exit %d, %q", v, code, out)
		}
	}
}

// validate --json gives editors and CI the problems as objects, exit 1
// when the scenario is invalid, 0 (warnings included) when it is valid.
func TestValidateJSON(t *testing.T) {
	bad := writeScenario(t, "[traffic.in]\nto = \"web\"\nrate = -1\n")
	code, out, _ := capsim(t, "validate", bad, "--json")
	var res struct {
		Valid    bool
		Problems []struct {
			File, Key, Message, Severity string
			Line                         int
		}
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if code != exitError || res.Valid || len(res.Problems) == 0 || res.Problems[0].Line != 3 || res.Problems[0].Key != "traffic.in.rate" || res.Problems[0].Severity != "error" {
		t.Errorf("exit %d, %+v", code, res)
	}
	code, out, _ = capsim(t, "validate", "news-cache", "--json")
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if code != exitOK || !res.Valid || len(res.Problems) != 1 || res.Problems[0].Severity != "warning" {
		t.Errorf("news-cache: exit %d, %+v", code, res)
	}
}

// A bundle replaces the previous run's as a set: files that run wrote and
// this one does not (decisions.csv, plots) go; files capsim did not write
// stay; nothing temporary is left. A bad -o fails before the run.
func TestBundleReplacesPreviousRun(t *testing.T) {
	dir := t.TempDir()
	if code, _, errOut := capsim(t, "run", "ticketing-onsale", "--duration", "20s", "-o", dir, "-q"); code != exitOK && code != exitSLO {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "decisions.csv")); err != nil {
		t.Fatalf("the autoscaled run wrote no decisions.csv: %v", err)
	}
	mine := filepath.Join(dir, "notes.txt")
	os.WriteFile(mine, []byte("mine"), 0o644)
	file := writeScenario(t, small)
	if code, _, errOut := capsim(t, "run", file, "-o", dir, "-q"); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, gone := range []string{"decisions.csv", "plots/instances.png", "plots/timeline.svg"} {
		if _, err := os.Stat(filepath.Join(dir, gone)); !os.IsNotExist(err) {
			t.Errorf("%s of the previous run is still there (%v)", gone, err)
		}
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("a file capsim did not write was removed: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".capsim-tmp") {
			t.Errorf("temporary folder left: %s", e.Name())
		}
	}
	// -o names a file: refused before simulating, by run, sweep and plan
	// alike (an hour at a million requests a second would take minutes).
	long := writeScenario(t, "[run]\nduration = \"1h\"\n[traffic.in]\nto = \"s\"\nrate = 1000000\n[service.s]\ninstances = 100\ncores = 16\nsteps = [ { cpu = \"exp(1ms)\" } ]\n")
	for _, args := range [][]string{
		{"run", file, "-o", mine},
		{"run", long, "-o", mine},
		{"sweep", long, "--vary", "service.s.cores=16,32", "-o", mine},
		{"plan", long, "--vary", "service.s.instances=50..100", "-o", mine},
	} {
		start := time.Now()
		code, _, errOut := capsim(t, args...)
		if code != exitError || !strings.Contains(errOut, "-o:") || time.Since(start) > 5*time.Second {
			t.Errorf("%s with -o on a file: exit %d after %v, %q", args[0], code, time.Since(start), errOut)
		}
	}
}

// SIGINT ends a long run (an hour at a million requests a second) within a
// second, with exit status 130 and no files written; SIGTERM likewise with
// 143.
func TestSignalEndsRunPromptly(t *testing.T) {
	file := writeScenario(t, `
[run]
duration = "1h"
[traffic.in]
to = "s"
rate = 1000000
[service.s]
instances = 100
cores = 16
steps = [ { cpu = "exp(1ms)" } ]
`)
	for _, c := range []struct {
		args []string // the output folder is appended
		sig  syscall.Signal
		code int
	}{
		{[]string{"run", file, "-q", "-o"}, syscall.SIGINT, exitInterrupted},
		{[]string{"run", file, "-q", "-o"}, syscall.SIGTERM, exitTerminated},
		{[]string{"sweep", file, "--vary", "service.s.cores=16,32", "-o"}, syscall.SIGINT, exitInterrupted},
		{[]string{"plan", file, "--vary", "service.s.instances=50..100", "-o"}, syscall.SIGTERM, exitTerminated},
		{[]string{"compare", file, "--vs-set", "service.s.cores=32", "--replications", "2", "-o"}, syscall.SIGINT, exitInterrupted},
	} {
		name := c.args[0] + " " + c.sig.String()
		dir := filepath.Join(t.TempDir(), "out")
		args := append(c.args, dir)
		if c.args[0] == "compare" {
			args = c.args[:len(c.args)-1] // writes no files
		}
		done := make(chan int)
		go func() {
			code, _, _ := capsim(t, args...)
			done <- code
		}()
		time.Sleep(500 * time.Millisecond)
		sent := time.Now()
		syscall.Kill(os.Getpid(), c.sig)
		select {
		case code := <-done:
			if took := time.Since(sent); took > time.Second || code != c.code {
				t.Errorf("%s: exit %d after %v, want %d within a second", name, code, took, c.code)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: did not stop", name)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 0 {
			t.Errorf("%s: files written: %v", name, entries)
		}
	}
}

// merge refuses what is not one sweep, and malformed shards, with an
// error rather than a panic or a nonsense table; sweep and plan refuse
// spaces too large to count.
func TestMergeAndSweepRefuseBadInput(t *testing.T) {
	file := writeScenario(t, small)
	dir := t.TempDir()
	shard := func(name string, extra ...string) string {
		out := filepath.Join(dir, name)
		args := append([]string{"sweep", file, "--vary", "service.web.instances=1..4", "-o", out}, extra...)
		if code, _, errOut := capsim(t, args...); code != exitOK {
			t.Fatalf("%s: exit %d: %s", name, code, errOut)
		}
		return out
	}
	a := shard("a", "--shard", "0/2")
	b := shard("b", "--shard", "1/2", "--set", "service.web.cores=4")
	if code, _, errOut := capsim(t, "merge", a, b); code != exitError || !strings.Contains(errOut, "different sweep") {
		t.Errorf("shards with different --set: exit %d, %q", code, errOut)
	}
	good := shard("c", "--shard", "1/2")
	edit := func(name, from, to string) string {
		data, _ := os.ReadFile(filepath.Join(good, "sweep.json"))
		d := filepath.Join(dir, name)
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, "sweep.json"), []byte(strings.Replace(string(data), from, to, 1)), 0o644)
		return d
	}
	for _, c := range []struct{ name, from, to, want string }{
		{"range", `"index": 1`, `"index": 9`, "out of range"},
		{"values", `"values": [
          "2"
        ]`, `"values": [
          "3"
        ]`, "but the varies give"},
		{"null", `"summary": {`, `"summary": null, "x": {`, "no summary"},
		{"zero", `"points": 4`, `"points": 0`, "but its varies make 4"},
	} {
		d := edit(c.name, c.from, c.to)
		code, _, errOut := capsim(t, "merge", d, a, "-o", filepath.Join(dir, "m-"+c.name))
		if code != exitError || !strings.Contains(errOut, c.want) {
			t.Errorf("%s: exit %d, %q; want %q", c.name, code, errOut, c.want)
		}
	}
	if code, _, errOut := capsim(t, "merge", a, good, good); code != exitError || !strings.Contains(errOut, "twice") {
		t.Errorf("a shard given twice: exit %d, %q", code, errOut)
	}
	big := []string{"--vary", "service.web.instances=1..65536", "--vary", "service.web.cores=1..65536", "--vary", "traffic.in.rate=1..65536"}
	if code, _, errOut := capsim(t, append([]string{"sweep", file}, big...)...); code != exitUsage || !strings.Contains(errOut, "more than") {
		t.Errorf("sweep over 2.8e14 settings: exit %d, %q", code, errOut)
	}
	if code, _, errOut := capsim(t, append([]string{"plan", file}, big...)...); code != exitError || !strings.Contains(errOut, "more than") {
		t.Errorf("plan over 2.8e14 settings: exit %d, %q", code, errOut)
	}
}

// The memory guard stops an hour of 10× overload into an unbounded queue
// with a message naming the queue, how fast it grew and what to change,
// in well under 1 GB of memory (measured on a child process's peak
// resident set).
func TestMemoryGuardBoundsRSS(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector multiplies memory use: the bound does not apply")
	}
	src := "[run]\nduration = \"1h\"\n[traffic.in]\nto = \"s\"\nrate = 10000\n[service.s]\ncores = 1\nsteps = [ { cpu = \"exp(1ms)\" } ]\n"
	if os.Getenv("CAPSIM_GUARD_CHILD") != "" {
		file := filepath.Join(t.TempDir(), "over.toml")
		os.WriteFile(file, []byte(src), 0o644)
		code, _, errOut := capsim(t, "run", file)
		fmt.Fprint(os.Stderr, errOut)
		os.Exit(code)
	}
	if testing.Short() {
		t.Skip("runs a child process with a million queued requests")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestMemoryGuardBoundsRSS$")
	cmd.Env = append(os.Environ(), "CAPSIM_GUARD_CHILD=1")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitError {
		t.Fatalf("child: %v\n%s", err, out)
	}
	for _, want := range []string{"run.max_in_flight", "service.s has 999999 waiting in an unbounded queue", "growing by about 9", "bound its queue"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("message lacks %q:\n%s", want, out)
		}
	}
	rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss * 1024 // KB on Linux
	t.Logf("peak resident set: %.0f MB", float64(rss)/1e6)
	if rss > 1e9 {
		t.Errorf("peak resident set %.0f MB, want under 1 GB", float64(rss)/1e6)
	}
}

// A scenario reads files only in its own folder (or one --allow-path
// names): "../", absolute paths and symbolic links are refused, and no
// message quotes more than a short excerpt of a file. Oversized files and
// lines are errors; validate reads traces through as a run would.
func TestFileAccessAndTraceChecks(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "scn")
	os.MkdirAll(dir, 0o755)
	secret := filepath.Join(root, "secret.csv")
	os.WriteFile(secret, []byte("root:x:0:0:root:/root:/bin/bash\n"), 0o644)
	os.Symlink(secret, filepath.Join(dir, "link.csv"))
	scen := func(trace string) string {
		p := filepath.Join(dir, "s.toml")
		os.WriteFile(p, []byte(fmt.Sprintf("[traffic.tr]\nto = \"s\"\ntrace = %q\n[service.s]\nsteps = [ { cpu = \"exp(1ms)\" } ]\n", trace)), 0o644)
		return p
	}
	for _, trace := range []string{"../secret.csv", secret, "link.csv"} {
		code, _, errOut := capsim(t, "validate", scen(trace))
		if code != exitError || !strings.Contains(errOut, "outside the scenario's folder") || strings.Contains(errOut, "root:x") {
			t.Errorf("trace %s: exit %d, %q", trace, code, errOut)
		}
	}
	// --allow-path lets it (the file is then read as a trace: a header
	// and no rows).
	code, out, errOut := capsim(t, "validate", scen("../secret.csv"), "--allow-path", root)
	if code != exitOK || !strings.Contains(out, "no rows") {
		t.Errorf("--allow-path: exit %d, %q %q", code, out, errOut)
	}
	write := func(name, data string) { os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644) }
	write("long.csv", "t"+strings.Repeat("x", 2<<20)+"\n0\n")
	write("huge.csv", "timestamp_s\n0\n1e300\n")
	write("ragged.csv", "timestamp_s,key\n0,a\n1\n")
	write("unsorted.csv", "timestamp_s\n5\n3\n")
	write("empty.csv", "timestamp_s\n")
	for _, c := range []struct{ trace, want string }{
		{"long.csv", "a line longer than 1024 KB"},
		{"huge.csv", "out of range"},
		{"ragged.csv", "wrong number of fields"},
		{"unsorted.csv", "goes back"},
	} {
		code, _, errOut := capsim(t, "validate", scen(c.trace))
		if code != exitError || !strings.Contains(errOut, c.want) || len(errOut) > 600 {
			t.Errorf("%s: exit %d, %.300q; want %q", c.trace, code, errOut, c.want)
		}
	}
	if code, out, _ := capsim(t, "validate", scen("empty.csv")); code != exitOK || !strings.Contains(out, "no rows") {
		t.Errorf("header-only trace: exit %d, %q; want a warning", code, out)
	}
	// A FIFO (or a device) is no trace: refused without opening it, which
	// would block.
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.csv"), 0o644); err == nil {
		if code, _, errOut := capsim(t, "validate", scen("pipe.csv")); code != exitError || !strings.Contains(errOut, "not a regular file") {
			t.Errorf("FIFO trace: exit %d, %q", code, errOut)
		}
	}
	// A scenario that is not one: refused without reading gigabytes.
	if code, _, errOut := capsim(t, "validate", "/dev/zero"); code != exitError || !strings.Contains(errOut, "larger than 16 MB") {
		t.Errorf("/dev/zero: exit %d, %q", code, errOut)
	}
}
