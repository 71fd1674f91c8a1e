package main

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/capsim/capsim/experiments/calibrate"
	"github.com/capsim/capsim/experiments/k6"
	"github.com/capsim/capsim/experiments/kube"
	"github.com/capsim/capsim/experiments/prometheus"
	"github.com/capsim/capsim/experiments/scenario"
)

func importCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "traces" {
		return importTracesCommand(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "prometheus" {
		return importPrometheusCommand(args[1:], stdout, stderr)
	}
	fs := pflag.NewFlagSet("import", pflag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: capsim import k6 OPTIONS.json\n       capsim import kubernetes FILE.yaml...\n       capsim import traces FILE... (capsim import traces --help)\n       capsim import prometheus FILE.json -o traffic.toml (capsim import prometheus --help)\n\n"+
			"k6: prints [traffic] tables equivalent to a k6 test's options (export them with\nJSON.stringify(options)): constant-arrival-rate, ramping-arrival-rate,\nconstant-vus and ramping-vus scenarios, or the vus/duration/stages shortcuts.\n\n"+
			"kubernetes: prints [service] tables for Deployments and StatefulSets (replicas,\ncpu requests), their autoscaling/v2 HorizontalPodAutoscalers (min, max,\nmetrics, behavior) and [balancer] tables for the Services in front of them,\nwith comments for what does not map (multi-document YAML, or kubectl's List).\n\n"+
			"traces: learns a whole scenario from OpenTelemetry (OTLP/JSON), Jaeger or Zipkin traces.")
	}
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() >= 2 && fs.Arg(0) == "kubernetes" {
		var files []kube.File
		for _, name := range fs.Args()[1:] {
			data, err := readInput(name)
			if err != nil {
				fmt.Fprintf(stderr, "capsim: %v\n", err)
				return exitError
			}
			files = append(files, kube.File{Name: name, Data: data})
		}
		out, err := kube.Import(files)
		if err != nil {
			fmt.Fprintf(stderr, "capsim: %v\n", err)
			return exitError
		}
		stdout.Write(out)
		return exitOK
	}
	if fs.NArg() != 2 || fs.Arg(0) != "k6" {
		fs.Usage()
		return exitUsage
	}
	args = fs.Args()
	data, err := readInput(args[1])
	if err != nil {
		fmt.Fprintf(stderr, "capsim: %v\n", err)
		return exitError
	}
	out, err := k6.Import(args[1], data)
	if err == nil {
		err = loadsOnceWired(out)
	}
	if err != nil {
		fmt.Fprintf(stderr, "capsim: %v\n", err)
		return exitError
	}
	stdout.Write(out)
	return exitOK
}

// loadsOnceWired checks that imported [traffic] tables load once their
// `to` points at a component: capsim never prints a scenario it would
// refuse.
func loadsOnceWired(traffic []byte) error {
	var b strings.Builder
	for _, line := range strings.Split(string(traffic), "\n") {
		switch {
		case strings.HasPrefix(line, "to = "):
			line = `to = "check"`
		case strings.HasPrefix(line, "endpoint = "):
			line = "# " + line
		}
		b.WriteString(line + "\n")
	}
	b.WriteString("\n[service.check]\nsteps = [ { cpu = \"1ms\" } ]\n")
	if _, err := scenario.Parse("imported.toml", []byte(b.String()), nil, nil); err != nil {
		return fmt.Errorf("the options map to traffic capsim cannot load:\n%v", err)
	}
	return nil
}

// readInput reads a file to import, refusing one over 16 MB (an options
// object or a set of manifests is far smaller; /dev/zero is endless).
func readInput(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	const limit = 16 << 20
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err == nil && len(data) > limit {
		err = fmt.Errorf("%s: larger than 16 MB: not a file to import", name)
	}
	return data, err
}

// importTracesCommand is capsim import traces: a scenario learned from
// traces (docs/calibration.md).
func importTracesCommand(args []string, stdout, stderr io.Writer) int {
	flags := pflag.NewFlagSet("import traces", pflag.ContinueOnError)
	out := flags.StringP("output", "o", "", "write the scenario to this file (default: stdout)")
	with := flags.StringArray("with", nil, "a Kubernetes manifest giving the services' instances, cores and autoscalers (repeatable)")
	selfTime := flags.String("self-time", "cpu", "write self time as cpu (holds a core) or sleep steps")
	replay := flags.Bool("replay", false, "replay the roots' start times (a trace file beside -o) instead of a rate")
	asJSON := flags.Bool("json", false, "print the fit table as JSON on stdout (needs -o for the scenario)")
	flags.Usage = func() {
		fmt.Fprintln(flags.Output(), "Usage: capsim import traces FILE... [-o scenario.toml] [--with k8s.yaml] [--self-time cpu|sleep] [--replay] [--json]\n\n"+
			"Learns a scenario from the traces of a system that exists: OpenTelemetry OTLP/JSON\n(the Collector's file exporter, Tempo), Jaeger UI JSON or Zipkin v2 JSON, gzip or not.\n"+
			"A [service] per service.name, an endpoint per server span name, its steps in\nobserved order (self time fitted, calls with their probability, overlapping calls in\nparallel), the network from client minus server time, the root rate as [traffic].\nThe fit table goes to stderr. See docs/calibration.md.\n\nFlags:")
		flags.PrintDefaults()
	}
	if code, done := parseFlags(flags, args, stdout, stderr); done {
		return code
	}
	if flags.NArg() == 0 {
		fmt.Fprintln(stderr, "capsim import traces: name at least one trace file")
		flags.Usage()
		return exitUsage
	}
	if *selfTime != "cpu" && *selfTime != "sleep" {
		fmt.Fprintf(stderr, "capsim import traces: --self-time: want cpu or sleep, got %q\n", *selfTime)
		return exitUsage
	}
	if (*replay || *asJSON) && *out == "" {
		fmt.Fprintln(stderr, "capsim import traces: --replay and --json need -o FILE for the scenario")
		return exitUsage
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(calibrate.MemoryLimit)
	}
	var files []calibrate.File
	for _, name := range flags.Args() {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintf(stderr, "capsim: %v\n", err)
			return exitError
		}
		defer f.Close()
		files = append(files, calibrate.File{Name: name, R: f})
	}
	m, err := calibrate.Learn(files, *selfTime == "cpu")
	if err != nil {
		fmt.Fprintf(stderr, "capsim: %v\n", err)
		return exitError
	}
	opts := calibrate.Options{Sources: flags.Args(), Fleets: map[string]calibrate.Fleet{}}
	for _, name := range *with {
		data, err := readInput(name)
		if err != nil {
			fmt.Fprintf(stderr, "capsim: %v\n", err)
			return exitError
		}
		imported, err := kube.Import([]kube.File{{Name: name, Data: data}})
		if err != nil {
			fmt.Fprintf(stderr, "capsim: %v\n", err)
			return exitError
		}
		for k, v := range calibrate.FleetsFrom(imported, name) {
			opts.Fleets[k] = v
		}
	}
	var replayFile string
	if *replay {
		replayFile = strings.TrimSuffix(filepath.Base(*out), filepath.Ext(*out)) + ".roots.csv"
		opts.Replay = replayFile
	}
	if *out != "" {
		opts.Samples = strings.TrimSuffix(filepath.Base(*out), filepath.Ext(*out)) + ".samples"
	}
	scenarioSrc, samples := m.ScenarioFiles(opts)
	src := append(scenarioSrc, '\n')
	var dir fs.FS
	if *out != "" {
		dir = os.DirFS(filepath.Dir(*out))
	}
	// The observed distributions of the times no family fits, beside the
	// scenario (its steps draw from them with empirical(FILE)).
	names := make([]string, 0, len(samples))
	for name := range samples {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		path := filepath.Join(filepath.Dir(*out), filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			fmt.Fprintf(stderr, "capsim: %v\n", err)
			return exitError
		}
		if err := writeFileAtomic(path, samples[name]); err != nil {
			fmt.Fprintf(stderr, "capsim: %v\n", err)
			return exitError
		}
	}
	if *replay {
		// The scenario names the roots' file: write it first, to load the
		// scenario as a user will.
		if err := writeFileAtomic(filepath.Join(filepath.Dir(*out), replayFile), m.ReplayCSV()); err != nil {
			fmt.Fprintf(stderr, "capsim: %v\n", err)
			return exitError
		}
	}
	// Never write a scenario capsim would refuse.
	if _, err := scenario.Parse("imported.toml", src, nil, dir); err != nil {
		fmt.Fprintf(stderr, "capsim: the learned scenario does not load (a bug: please report it):\n%v\n", err)
		return exitError
	}
	rep := m.Report()
	rep.WriteTable(stderr)
	if len(names) > 0 {
		fmt.Fprintf(stderr, "note: %d times fit no family; their steps draw from the observed distributions in %s\n", len(names), opts.Samples)
	} else if n := rep.Misfits(); n > 0 && *out == "" {
		fmt.Fprintf(stderr, "note: %d times fit no family and are written as the closest one; with -o FILE they draw from the observed distributions instead\n", n)
	}
	for _, s := range m.Services {
		if _, ok := opts.Fleets[s.Name]; len(*with) > 0 && !ok {
			fmt.Fprintf(stderr, "note: no Deployment named %q in %s: its instances and cores are assumed\n", s.Name, strings.Join(*with, ", "))
		}
	}
	if *out == "" {
		stdout.Write(src)
		return exitOK
	}
	if err := writeFileAtomic(*out, src); err != nil {
		fmt.Fprintf(stderr, "capsim: %v\n", err)
		return exitError
	}
	if *asJSON {
		b, _ := json.MarshalIndent(rep, "", "  ")
		stdout.Write(append(b, '\n'))
	}
	return exitOK
}

// importPrometheusCommand is capsim import prometheus: recorded traffic
// (a range query's answer) as a counts trace and the [traffic] table that
// replays it.
func importPrometheusCommand(args []string, stdout, stderr io.Writer) int {
	flags := pflag.NewFlagSet("import prometheus", pflag.ContinueOnError)
	out := flags.StringP("output", "o", "", "write the [traffic] table to this `FILE`, and the counts trace beside it (FILE's name + .counts.csv)")
	match := flags.StringArray("metric", nil, "keep only the series with this label, `label=value` (repeatable); the rest are summed")
	values := flags.String("values", "rate", "what the values are: rate (per second, a rate() query) or count (per step, an increase() query)")
	gaps := flags.String("gaps", "error", "steps a series leaves out: error, or zero (no requests)")
	name := flags.String("name", "prometheus", "the traffic source's `NAME`")
	flags.Usage = func() {
		fmt.Fprintln(flags.Output(), "Usage: capsim import prometheus FILE.json -o traffic.toml [--metric label=value] [--values rate|count] [--gaps error|zero]\n\n"+
			"Turns a Prometheus range query's answer (/api/v1/query_range, e.g. of\nsum(rate(http_requests_total[1m]))) into a per-window counts trace and a [traffic]\n"+
			"table that replays it: recorded production traffic for the autoscalers. Export it with\n  curl -G http://prometheus:9090/api/v1/query_range --data-urlencode 'query=sum(rate(http_requests_total[1m]))' \\\n"+
			"       --data-urlencode start=2026-11-27T00:00:00Z --data-urlencode end=2026-11-28T00:00:00Z -d step=60 > rate.json\n"+
			"(or promtool query range --start … --end … --step 1m -o json URL QUERY). See docs/validation.md.\n\nFlags:")
		flags.PrintDefaults()
	}
	if code, done := parseFlags(flags, args, stdout, stderr); done {
		return code
	}
	if flags.NArg() != 1 || *out == "" {
		fmt.Fprintln(stderr, "capsim import prometheus: name one answer file and -o FILE for the [traffic] table")
		flags.Usage()
		return exitUsage
	}
	if *values != "rate" && *values != "count" || *gaps != "error" && *gaps != "zero" {
		fmt.Fprintf(stderr, "capsim import prometheus: --values rate|count and --gaps error|zero, got %q and %q\n", *values, *gaps)
		return exitUsage
	}
	data, err := readInput(flags.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "capsim: %v\n", err)
		return exitError
	}
	trace := strings.TrimSuffix(filepath.Base(*out), filepath.Ext(*out)) + ".counts.csv"
	opts := prometheus.Options{Match: *match, Counts: *values == "count", ZeroGaps: *gaps == "zero", Source: *name, Trace: trace}
	r, err := prometheus.Read(flags.Arg(0), data, opts)
	if err != nil {
		fmt.Fprintf(stderr, "capsim: %v\n", err)
		return exitError
	}
	if err := writeFileAtomic(filepath.Join(filepath.Dir(*out), trace), r.CSV()); err != nil {
		fmt.Fprintf(stderr, "capsim: %v\n", err)
		return exitError
	}
	table := r.Traffic(flags.Arg(0), opts)
	if err := writeFileAtomic(*out, table); err != nil {
		fmt.Fprintf(stderr, "capsim: %v\n", err)
		return exitError
	}
	fmt.Fprintf(stderr, "wrote %s and %s: %d windows of %v, mean %.4g/s, peak %.4g/s\n", *out, trace, len(r.Counts), r.Step, r.Mean, r.Peak)
	return exitOK
}
