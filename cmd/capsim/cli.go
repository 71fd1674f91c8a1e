package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/capsim/capsim/examples"
	"github.com/capsim/capsim/experiments"
	"github.com/capsim/capsim/experiments/scenario"
	"github.com/capsim/capsim/output"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
	exitSLO   = 3
	// exitInterrupted is the shell's code for a process ended by SIGINT
	// (128 + 2), which scripts test for.
	exitInterrupted = 130
)

const usage = `capsim — deterministic capacity-planning simulator

Usage:
  capsim run [FILE|EXAMPLE] [flags]   run a scenario (default: the embedded %s example)
  capsim validate FILE|EXAMPLE        report every problem in a scenario, with warnings
  capsim examples [NAME]              list the embedded examples, or print one as TOML
  capsim sweep FILE --vary PATH=VALUES run every combination of varied values (--shard i/n)
  capsim merge DIR...                 combine the shards of a sweep
  capsim plan FILE --vary PATH=A..B   the cheapest setting that meets every SLO (bisection)
  capsim compare A B                  two variants with common random numbers, differences with CIs
  capsim import k6 OPTIONS.json       turn a k6 test's options into [traffic] tables
  capsim import traces FILE...        learn a scenario from OpenTelemetry, Jaeger or Zipkin traces
  capsim fit SCENARIO MEASURED...     check a prediction against a load test (k6, vegeta) or traces
  capsim export k6 SCENARIO           write the k6 load test of the scenario's traffic
  capsim help [COMMAND]               show this help, or a command's
  capsim version                      print the version (also --version)

Run "capsim help run" (or "capsim run --help") for the run flags. Exit codes:
0 ok, 1 error, 2 usage, 3 SLO not met (run --check) or fit beyond tolerance, 130 interrupted (Ctrl-C).
`

// commands are the subcommands, for "capsim help COMMAND".
var commands = map[string]bool{"run": true, "validate": true, "examples": true, "import": true,
	"sweep": true, "merge": true, "plan": true, "compare": true, "fit": true, "export": true}

// version is the module's version, or the VCS revision the binary was built
// from.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown version)"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && (v == "" || v == "(devel)") {
			v = "devel " + s.Value[:min(12, len(s.Value))]
		}
	}
	if v == "" {
		v = "(devel)"
	}
	return v + " " + bi.GoVersion
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintf(stderr, usage, examples.Default)
		return exitUsage
	}
	switch args[0] {
	case "run":
		return runCommand(args[1:], stdout, stderr)
	case "validate":
		return validateCommand(args[1:], stdout, stderr)
	case "examples":
		return examplesCommand(args[1:], stdout, stderr)
	case "import":
		return importCommand(args[1:], stdout, stderr)
	case "sweep":
		return sweepCommand(args[1:], stdout, stderr)
	case "merge":
		return mergeCommand(args[1:], stdout, stderr)
	case "plan":
		return planCommand(args[1:], stdout, stderr)
	case "compare":
		return compareCommand(args[1:], stdout, stderr)
	case "fit":
		return fitCommand(args[1:], stdout, stderr)
	case "export":
		return exportCommand(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		if len(args) > 1 && args[0] == "help" && args[1] != "help" {
			if _, ok := commands[args[1]]; ok {
				return run([]string{args[1], "--help"}, stdout, stderr)
			}
			fmt.Fprintf(stderr, "capsim help: unknown command %q\n\n", args[1])
			fmt.Fprintf(stderr, usage, examples.Default)
			return exitUsage
		}
		fmt.Fprintf(stdout, usage, examples.Default)
		return exitOK
	case "version", "--version":
		fmt.Fprintf(stdout, "capsim %s\n", version())
		return exitOK
	}
	fmt.Fprintf(stderr, "capsim: unknown command %q\n\n", args[0])
	fmt.Fprintf(stderr, usage, examples.Default)
	return exitUsage
}

// load reads a scenario from a file or, failing that, an embedded example.
// allowPaths are the folders besides a scenario's own whose files it may
// read (--allow-path).
var allowPaths []string

// addAllowPath registers --allow-path on a command that loads scenarios.
func addAllowPath(fs *pflag.FlagSet) {
	fs.StringArrayVar(&allowPaths, "allow-path", nil, "a `DIR` whose files (traces, samples) the scenario may read besides its own folder's (repeatable)")
}

func load(arg string, overrides []string) (*scenario.Scenario, error) {
	if arg == "" {
		arg = examples.Default
	}
	if _, err := os.Stat(arg); err == nil {
		return scenario.Load(arg, overrides, allowPaths...)
	}
	if data, ok := examples.Get(arg); ok {
		return scenario.Parse(arg+".toml", data, overrides, examples.Files())
	}
	return nil, fmt.Errorf("%s: no such file, and no embedded example of that name (examples: %s)", arg, strings.Join(examples.Names(), ", "))
}

func printLoadError(stderr io.Writer, err error) {
	var se *scenario.Error
	if errors.As(err, &se) {
		for _, p := range se.Problems {
			fmt.Fprintln(stderr, p.String())
		}
		n := len(se.Problems)
		fmt.Fprintf(stderr, "%d problem%s found\n", n, plural(n))
		return
	}
	fmt.Fprintf(stderr, "capsim: %v\n", err)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func runCommand(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	addAllowPath(fs)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: capsim run [FILE|EXAMPLE] [flags]\n\nRuns a scenario file or an embedded example (default %s).\n\nFlags:\n%s", examples.Default, fs.FlagUsages())
	}
	var (
		jsonOut  = fs.Bool("json", false, "print summary.json to stdout instead of the text summary (same as --format json)")
		format   = fs.String("format", "text", "summary `format` on stdout: text, json, markdown, or openmetrics (the time series as metrics.om)")
		outDir   = fs.StringP("out", "o", "", "write the report bundle (summary.json, timeseries.csv, report.html, plots, metrics.om, …) into `DIR` (created if needed)")
		sets     = fs.StringArray("set", nil, "override a scenario value, `PATH=VALUE` (repeatable), e.g. service.web.instances=12")
		seed     = fs.Uint64("seed", 0, "random seed (default: the scenario's run.seed)")
		duration = fs.String("duration", "", "simulated `time` to run (default: the scenario's run.duration), e.g. 10m")
		check    = fs.Bool("check", false, "exit with status 3 when an SLO is not met")
		quiet    = fs.BoolP("quiet", "q", false, "no progress or file messages on stderr")
		reps     = fs.Int("replications", 1, "independent replications (`N`); numbers become means with 95 % confidence intervals")
		prec     = fs.String("precision", "", "add replications until the p99's 95 % CI half-width is within this `fraction` of it (2% or 0.02; at most 100)")
		workers  = fs.Int("workers", 0, "replications run in parallel on `N` goroutines (default: GOMAXPROCS); results do not depend on it")
		mstart   = fs.String("metrics-start", output.DefaultMetricsStart.Format(time.RFC3339), "wall-clock `time` (RFC 3339) of simulated time 0 in metrics.om and grafana-dashboard.json")
	)
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	metricsStart, err := time.Parse(time.RFC3339, *mstart)
	if err != nil {
		fmt.Fprintf(stderr, "capsim run: --metrics-start: want a time such as 2026-11-28T09:00:00Z, got %q\n", *mstart)
		return exitUsage
	}
	if fs.NArg() > 1 {
		fmt.Fprintf(stderr, "capsim run: want at most one scenario, got %d: %s\n", fs.NArg(), strings.Join(fs.Args(), " "))
		return exitUsage
	}
	if *jsonOut {
		*format = "json"
	}
	if *format != "text" && *format != "json" && *format != "markdown" && *format != "openmetrics" {
		fmt.Fprintf(stderr, "capsim run: --format: want text, json, markdown or openmetrics, got %q\n", *format)
		return exitUsage
	}
	sc, err := load(fs.Arg(0), *sets)
	if err != nil {
		printLoadError(stderr, err)
		return exitError
	}
	if code := checkOut(*outDir, stderr); code != exitOK {
		return code
	}
	var opts experiments.Options
	if fs.Changed("seed") {
		opts.Seed = seed
	}
	if *duration != "" {
		d, err := scenario.ParseDuration(*duration)
		if err != nil || d <= 0 {
			fmt.Fprintf(stderr, "capsim run: --duration: want a positive duration such as 10m, got %q\n", *duration)
			return exitUsage
		}
		opts.Duration = d
	}
	var bar *progress
	if !*quiet {
		for _, w := range sc.Warnings {
			fmt.Fprintf(stderr, "warning: %s\n", w)
		}
		if isTerminal(stderr) {
			bar = newProgress(stderr)
			opts.Progress = bar.update
		}
	}
	// Ctrl-C or SIGTERM stops the run within milliseconds; nothing is
	// written. A second one ends capsim at once.
	sig := newInterrupts()
	defer sig.stop()
	opts.Context = sig.ctx
	var o *experiments.Outcome
	switch {
	case *prec != "":
		rel, perr := parseFraction(*prec)
		if perr != nil {
			fmt.Fprintf(stderr, "capsim run: --precision: %v\n", perr)
			return exitUsage
		}
		var rp *experiments.Replicated
		var reached bool
		rp, reached, err = experiments.Precision(sc, rel, 100, *workers, opts)
		if err == nil {
			o = rp.Outcome()
			if !reached && !*quiet {
				fmt.Fprintf(stderr, "warning: after %d replications the p99's confidence interval is still wider than %s\n", len(rp.Runs), *prec)
			}
		}
	case *reps > 1:
		var rp *experiments.Replicated
		rp, err = experiments.Replicate(sc, *reps, *workers, opts)
		if err == nil {
			// Time series and plots show the first replication; the
			// summary is over all of them.
			o = rp.Outcome()
		}
	case *reps < 1:
		fmt.Fprintf(stderr, "capsim run: --replications must be at least 1\n")
		return exitUsage
	default:
		o, err = experiments.Run(sc, opts)
	}
	bar.finish()
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, "capsim: interrupted; no files were written")
		return sig.code()
	}
	if err != nil {
		fmt.Fprintf(stderr, "capsim: %v\n", err)
		return exitError
	}
	js, err := output.JSON(o.Summary)
	if err != nil {
		fmt.Fprintf(stderr, "capsim: %v\n", err)
		return exitError
	}
	files := 0
	if *outDir != "" {
		if files, err = writeBundle(*outDir, js, o, sc.Source, metricsStart); err != nil {
			fmt.Fprintf(stderr, "capsim: %v\n", err)
			return exitError
		}
	}
	switch *format {
	case "json":
		_, err = stdout.Write(js)
	case "markdown":
		err = output.Markdown(stdout, o)
	case "openmetrics":
		var om []byte
		if om, err = output.OpenMetrics(o, metricsStart); err == nil {
			_, err = stdout.Write(om)
		}
	default:
		if isTerminal(stdout) {
			err = output.Text(stdout, o, output.WithColor())
		} else {
			err = output.Text(stdout, o)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "capsim: %v\n", err)
		return exitError
	}
	if files > 0 && !*quiet { // last, where a reader's eye ends
		fmt.Fprintf(stderr, "wrote %d files to %s: open %s\n", files, *outDir, filepath.Join(*outDir, "report.html"))
	}
	if sig.ctx.Err() != nil { // a signal after the run: the files are whole, and capsim ends as asked
		return sig.code()
	}
	if *check && !o.Summary.SLO.Met {
		return exitSLO
	}
	return exitOK
}

// bundleFile is one file of the report bundle.
type bundleFile struct {
	name string
	data []byte
}

// writeBundle renders every file of the report bundle first, then writes
// each into dir atomically: summary.json, timeseries.csv, decisions.csv
// (with autoscalers), report.html, metrics.om and grafana-dashboard.json
// (simulated time 0 at metricsStart), and plots/NAME.{png,svg}. It returns the
// number of files written.
func writeBundle(dir string, summary []byte, o *experiments.Outcome, source []byte, metricsStart time.Time) (int, error) {
	return writeBundleWith(dir, summary, o, source, metricsStart, nil, nil)
}

// writeBundleWith writes a run's bundle with more files and charts (capsim
// fit's fit.json and overlay), the charts first in the report.
func writeBundleWith(dir string, summary []byte, o *experiments.Outcome, source []byte, metricsStart time.Time, first []output.Chart, more []bundleFile) (int, error) {
	files := append([]bundleFile{{"summary.json", summary}, {"timeseries.csv", output.TimeseriesCSV(o)}}, more...)
	if hasAutoscaler(o) {
		files = append(files, bundleFile{"decisions.csv", output.DecisionsCSV(o)})
	}
	charts := append(first, output.Charts(o)...)
	html, err := output.HTML(o, charts, source)
	if err != nil {
		return 0, err
	}
	files = append(files, bundleFile{"report.html", html})
	om, err := output.OpenMetrics(o, metricsStart)
	if err != nil {
		return 0, err
	}
	files = append(files, bundleFile{"metrics.om", om}, bundleFile{"grafana-dashboard.json", output.GrafanaDashboard(o, metricsStart)})
	plots, err := renderPlots(charts)
	if err != nil {
		return 0, err
	}
	files = append(files, plots...)
	return len(files), writeFiles(dir, files)
}

// renderPlots renders charts as plots/NAME.png and plots/NAME.svg.
func renderPlots(charts []output.Chart) ([]bundleFile, error) {
	var files []bundleFile
	for _, c := range charts {
		for _, format := range []string{"png", "svg"} {
			img, err := output.Render(c, format)
			if err != nil {
				return nil, fmt.Errorf("plot %s: %w", c.Name, err)
			}
			files = append(files, bundleFile{filepath.Join("plots", c.Name+"."+format), img})
		}
	}
	return files, nil
}

// manifestName lists, in an output folder, the files capsim wrote there
// last, so that the next run into it removes those it does not write again
// (a decisions.csv, a plot) and leaves everything else alone.
const manifestName = ".capsim-files"

// writeFiles writes files under dir as one set: into a temporary folder in
// dir first (a failure, or a signal, leaves dir as it was), then renamed
// into place one by one (each rename atomic, the set in microseconds); the
// files the previous run into dir wrote and this one does not are removed,
// and the manifest updated.
func writeFiles(dir string, files []bundleFile) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(dir, ".capsim-tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, f := range files {
		path := filepath.Join(tmp, f.name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, f.data, 0o644); err != nil {
			return err
		}
	}
	old, _ := os.ReadFile(filepath.Join(dir, manifestName))
	written := map[string]bool{}
	var list []string
	for _, f := range files {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(f.name)), 0o755); err != nil {
			return err
		}
		if err := os.Rename(filepath.Join(tmp, f.name), filepath.Join(dir, f.name)); err != nil {
			return err
		}
		written[filepath.ToSlash(f.name)] = true
		list = append(list, filepath.ToSlash(f.name))
	}
	for _, name := range strings.Split(string(old), "\n") {
		if name == "" || written[name] || strings.Contains(name, "..") || filepath.IsAbs(name) {
			continue
		}
		os.Remove(filepath.Join(dir, filepath.FromSlash(name))) // stale: the previous run's
	}
	return writeFileAtomic(filepath.Join(dir, manifestName), []byte(strings.Join(list, "\n")+"\n"))
}

// checkOutDir makes sure dir can take the bundle before a run begins.
func checkOutDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	probe, err := os.MkdirTemp(dir, ".capsim-tmp-")
	if err != nil {
		return fmt.Errorf("%s is not writable: %v", dir, err)
	}
	return os.Remove(probe)
}

func hasAutoscaler(o *experiments.Outcome) bool {
	for _, c := range o.Series.Components {
		if c.Autoscaled {
			return true
		}
	}
	return false
}

// writeFileAtomic writes data to a temporary file in the same directory and
// renames it into place, so that readers never see a half-written file.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	_, werr := tmp.Write(data)
	if werr == nil {
		werr = tmp.Sync()
	}
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(name, 0o644)
	}
	if werr == nil {
		werr = os.Rename(name, path)
	}
	if werr != nil {
		os.Remove(name)
		return fmt.Errorf("writing %s: %w", path, werr)
	}
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress draws a progress bar on a terminal for runs that take more than
// a second: simulated time done, events per second, time left.
type progress struct {
	w     io.Writer
	start time.Time
	bar   *progressbar.ProgressBar
}

func newProgress(w io.Writer) *progress { return &progress{w: w, start: time.Now()} }

func (p *progress) update(done, total time.Duration, events uint64) {
	el := time.Since(p.start)
	if el < time.Second || total <= 0 {
		return
	}
	if p.bar == nil {
		p.bar = progressbar.NewOptions64(total.Milliseconds(),
			progressbar.OptionSetWriter(p.w), progressbar.OptionSetPredictTime(true),
			progressbar.OptionClearOnFinish(), progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionShowElapsedTimeOnFinish())
	}
	p.bar.Describe(fmt.Sprintf("simulated %v of %v, %.1fM events/s", done, total, float64(events)/el.Seconds()/1e6))
	_ = p.bar.Set64(done.Milliseconds())
}

// finish clears the bar (p may be nil).
func (p *progress) finish() {
	if p != nil && p.bar != nil {
		_ = p.bar.Finish()
	}
}

func validateCommand(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("validate", pflag.ContinueOnError)
	addAllowPath(fs)
	fs.SetOutput(stderr)
	sets := fs.StringArray("set", nil, "override a scenario value, `PATH=VALUE` (repeatable)")
	jsonOut := fs.Bool("json", false, "print the problems as JSON objects (file, line, key, message, severity) for editors and CI")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: capsim validate FILE|EXAMPLE [--set PATH=VALUE] [--json]\n\nReports every problem in a scenario as file:line: key: message, then plausibility warnings.\n\nFlags:\n%s", fs.FlagUsages())
	}
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitUsage
	}
	sc, err := load(fs.Arg(0), *sets)
	if err == nil { // read the traces through, as a run would
		var warns []string
		warns, err = sc.ScanTraces()
		for _, w := range warns {
			sc.Warnings = append(sc.Warnings, scenario.Problem{File: fs.Arg(0), Msg: w})
		}
	}
	if *jsonOut {
		return validateJSON(fs.Arg(0), sc, err, stdout)
	}
	if err != nil {
		printLoadError(stderr, err)
		return exitError
	}
	for _, w := range sc.Warnings {
		fmt.Fprintf(stdout, "warning: %s\n", w)
	}
	fmt.Fprintf(stdout, "%s: valid (%s)\n", fs.Arg(0), sc.Contents())
	return exitOK
}

// problemJSON is one problem of validate --json.
type problemJSON struct {
	File     string `json:"file"`
	Line     int    `json:"line,omitempty"`
	Key      string `json:"key,omitempty"`
	Message  string `json:"message"`
	Severity string `json:"severity"` // error or warning
}

// validateJSON prints the outcome of validating file as one JSON object —
// {"file", "valid", "problems": [...]}, errors then warnings — and exits 0
// when the scenario is valid, 1 when not.
func validateJSON(file string, sc *scenario.Scenario, err error, stdout io.Writer) int {
	out := struct {
		File     string        `json:"file"`
		Valid    bool          `json:"valid"`
		Problems []problemJSON `json:"problems"`
	}{File: file, Valid: err == nil, Problems: []problemJSON{}}
	add := func(p scenario.Problem, severity string) {
		out.Problems = append(out.Problems, problemJSON{File: p.File, Line: p.Line, Key: p.Key, Message: p.Msg, Severity: severity})
	}
	var se *scenario.Error
	switch {
	case errors.As(err, &se):
		for _, p := range se.Problems {
			add(p, "error")
		}
	case err != nil:
		out.Problems = append(out.Problems, problemJSON{File: file, Message: err.Error(), Severity: "error"})
	default:
		for _, w := range sc.Warnings {
			add(w, "warning")
		}
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	stdout.Write(append(b, '\n'))
	if err != nil {
		return exitError
	}
	return exitOK
}

func examplesCommand(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("examples", pflag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: capsim examples [NAME]\n\nLists the embedded examples, or prints one as TOML (save it and edit it).")
	}
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	args = fs.Args()
	if len(args) > 1 {
		fs.Usage()
		return exitUsage
	}
	if len(args) == 1 {
		data, ok := examples.Get(args[0])
		if !ok {
			fmt.Fprintf(stderr, "capsim: no example %q; examples: %s\n", args[0], strings.Join(examples.Names(), ", "))
			return exitError
		}
		stdout.Write(data)
		return exitOK
	}
	width := 0
	for _, n := range examples.Names() {
		width = max(width, len(n))
	}
	for _, n := range examples.Names() {
		data, _ := examples.Get(n)
		desc := ""
		if sc, err := scenario.Parse(n, data, nil, examples.Files()); err == nil {
			desc = sc.Config.Description
		}
		def := ""
		if n == examples.Default {
			def = " (default)"
		}
		fmt.Fprintf(stdout, "%-*s  %s%s\n", width, n, desc, def)
	}
	return exitOK
}

// parseFraction reads "2%" or "0.02".
func parseFraction(s string) (float64, error) {
	s = strings.TrimSpace(s)
	scale := 1.0
	if strings.HasSuffix(s, "%") {
		s, scale = strings.TrimSuffix(s, "%"), 0.01
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v*scale > 0 && v*scale < 1) {
		return 0, fmt.Errorf("want a fraction such as 2%% or 0.02, got %q", s)
	}
	return v * scale, nil
}

// parseFlags parses a subcommand's flags; done reports that the command
// should end with code (after --help, or a usage error pflag has printed).
// parseFlags parses a subcommand's flags. --help prints its usage to
// stdout (exit 0); a bad flag or value is named on stderr, followed by the
// usage (exit 2). Later usage messages (a wrong number of arguments) go to
// stderr.
func parseFlags(fs *pflag.FlagSet, args []string, stdout, stderr io.Writer) (code int, done bool) {
	fs.SetOutput(stdout) // pflag prints the usage itself for --help
	err := fs.Parse(args)
	fs.SetOutput(stderr)
	switch {
	case err == nil:
		return 0, false
	case errors.Is(err, pflag.ErrHelp):
		return exitOK, true
	}
	fmt.Fprintf(stderr, "capsim %s: %v\n\n", fs.Name(), err)
	fs.Usage()
	return exitUsage, true
}

// parseVaries reads --vary values, reporting the first bad one.
func parseVaries(cmd string, list []string, stderr io.Writer) ([]experiments.Vary, bool) {
	var vs []experiments.Vary
	for _, x := range list {
		v, err := experiments.ParseVary(x)
		if err != nil {
			fmt.Fprintf(stderr, "capsim %s: --vary: %v\n", cmd, err)
			return nil, false
		}
		vs = append(vs, v)
	}
	return vs, true
}
