package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	fitting "github.com/capsim/capsim/experiments/fit"
	"github.com/capsim/capsim/experiments/k6"
	"github.com/capsim/capsim/experiments/measure"
	"github.com/capsim/capsim/output"
)

// fitCommand is capsim fit: a prediction checked against a measurement
// (docs/validation.md).
func fitCommand(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("fit", pflag.ContinueOnError)
	addAllowPath(fs)
	var (
		sets      = fs.StringArray("set", nil, "override a scenario value, `PATH=VALUE` (repeatable)")
		tolerance = fs.Float64("tolerance", fitting.DefaultTolerance, "the largest relative error accepted (exit 3 beyond it)")
		outDir    = fs.StringP("out", "o", "", "write fit.json, the overlay plot and the prediction's report into `DIR`")
		asJSON    = fs.Bool("json", false, "print fit.json to stdout instead of the table")
		source    = fs.String("source", "", "the traffic source that replays the measured arrivals (default: the scenario's only one)")
		tag       = fs.String("tag", "", "only k6 samples with this tag, `NAME:VALUE` (a summary's sub-metric http_req_duration{NAME:VALUE})")
		unit      = fs.String("summary-time-unit", "ms", "the unit of a k6 summary's times (k6's --summary-time-unit: s, ms or us)")
		reps      = fs.Int("replications", 1, "replications of the prediction (`N`), averaged")
		seed      = fs.Uint64("seed", 0, "random seed (default: the scenario's run.seed)")
	)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: capsim fit SCENARIO MEASURED... [flags]\n\n"+
			"Runs the scenario at the load a test measured and compares throughput, mean, p50,\np90, p95, p99 and error rate: measured, predicted, relative error. MEASURED is a\n"+
			"k6 --summary-export JSON, k6 --out json output, vegeta results (vegeta encode\n--to json) or report (vegeta report -type=json), or traces (OTLP/JSON, Jaeger,\n"+
			"Zipkin: root and per-service latencies); gzip or not, detected by content. When\nit timestamps requests, the measured arrivals are replayed. Exit 3 when an error\nis beyond --tolerance. See docs/validation.md.\n\nFlags:\n%s", fs.FlagUsages())
	}
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() < 2 {
		fmt.Fprintln(stderr, "capsim fit: name a scenario and at least one measurement file")
		fs.Usage()
		return exitUsage
	}
	if *tolerance <= 0 || *tolerance > 10 {
		fmt.Fprintf(stderr, "capsim fit: --tolerance %v: want a fraction above 0 (0.10 is 10 %%)\n", *tolerance)
		return exitUsage
	}
	if *reps < 1 || *reps > 1000 {
		fmt.Fprintf(stderr, "capsim fit: --replications %d: want 1 to 1000\n", *reps)
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
	opts := fitting.Options{Source: *source, Replications: *reps, Tolerance: *tolerance}
	if fs.Changed("seed") {
		opts.Run.Seed = seed
	}
	sig := newInterrupts()
	defer sig.stop()
	opts.Run.Context = sig.ctx
	var results []*fitting.Result
	for _, name := range fs.Args()[1:] {
		m, err := readMeasurement(name, measure.Options{Tag: *tag, SummaryTimeUnit: *unit})
		if err != nil {
			fmt.Fprintf(stderr, "capsim: %v\n", err)
			return exitError
		}
		r, err := fitting.Fit(sc, m, opts)
		if code, stop := runFailed(err, sig, stderr); stop {
			return code
		}
		results = append(results, r)
	}
	met := true
	for _, r := range results {
		met = met && r.Met
	}
	var doc any = results[0]
	if len(results) > 1 {
		doc = struct {
			Fits      []*fitting.Result `json:"fits"`
			Tolerance float64           `json:"tolerance"`
			Met       bool              `json:"met"`
		}{results, *tolerance, met}
	}
	js, _ := json.MarshalIndent(doc, "", "  ")
	js = append(js, '\n')
	if *asJSON {
		stdout.Write(js)
	} else {
		for i, r := range results {
			if i > 0 {
				fmt.Fprintln(stdout)
			}
			io.WriteString(stdout, output.FitText(r))
		}
	}
	if *outDir != "" {
		var charts []output.Chart
		for _, r := range results {
			if c, ok := output.FitChart(r); ok {
				if len(results) > 1 {
					c.Name = fmt.Sprintf("fit-%d", len(charts)+1)
					c.Title += " (" + r.Measured + ")"
				}
				charts = append(charts, c)
			}
		}
		o := results[0].Outcome
		summary, err := output.JSON(o.Summary)
		if err != nil {
			fmt.Fprintf(stderr, "capsim: %v\n", err)
			return exitError
		}
		n, err := writeBundleWith(*outDir, summary, o, sc.Source, output.DefaultMetricsStart, charts, []bundleFile{{"fit.json", js}})
		if err != nil {
			fmt.Fprintf(stderr, "capsim: %v\n", err)
			return exitError
		}
		fmt.Fprintf(stderr, "wrote %d files to %s (fit.json; report.html is the prediction of %s)\n", n, *outDir, results[0].Measured)
	}
	if !met {
		return exitSLO
	}
	return exitOK
}

// readMeasurement opens and reads one measurement file.
func readMeasurement(name string, opts measure.Options) (*measure.Measurement, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("%s is a folder: name a measurement file", name)
	}
	return measure.Read(name, f, opts)
}

// exportCommand is capsim export k6: the load test of a scenario's
// traffic, as a k6 script.
func exportCommand(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("export", pflag.ContinueOnError)
	addAllowPath(fs)
	out := fs.StringP("output", "o", "", "write the script to this `FILE` (default: stdout)")
	url := fs.String("url", "http://localhost:8080", "the system's base `URL` (the script's default; k6 run -e BASE_URL=… overrides it)")
	sets := fs.StringArray("set", nil, "override a scenario value, `PATH=VALUE` (repeatable)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: capsim export k6 SCENARIO [-o script.js] [--url URL]\n\n"+
			"Writes a k6 script whose options.scenarios reproduce the scenario's traffic sources\n(constant-arrival-rate, ramping-arrival-rate, constant-vus, ramping-vus with sleep(think)),\n"+
			"with preAllocatedVUs and maxVUs by Little's law, thresholds from [slo], request\ntimeouts, and each endpoint as a URL path; a comment says what k6 cannot express.\n"+
			"capsim import k6 of its options gives back the same traffic. See docs/validation.md.\n\nFlags:\n%s", fs.FlagUsages())
	}
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() != 2 || fs.Arg(0) != "k6" {
		fs.Usage()
		return exitUsage
	}
	sc, err := load(fs.Arg(1), *sets)
	if err != nil {
		printLoadError(stderr, err)
		return exitError
	}
	script, err := k6.Export(sc, fs.Arg(1), *url)
	if err != nil {
		fmt.Fprintf(stderr, "capsim: %v\n", err)
		return exitError
	}
	if *out == "" {
		stdout.Write(script)
		return exitOK
	}
	if err := writeFileAtomic(*out, script); err != nil {
		fmt.Fprintf(stderr, "capsim: %v\n", err)
		return exitError
	}
	return exitOK
}
