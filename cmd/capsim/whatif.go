package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/capsim/capsim/experiments"
	"github.com/capsim/capsim/experiments/scenario"
	"github.com/capsim/capsim/output"
)

// loader loads a scenario (file or example) with base overrides plus a
// point's.
func loader(arg string, base []string) func([]string) (*scenario.Scenario, error) {
	return func(sets []string) (*scenario.Scenario, error) {
		return load(arg, append(append([]string{}, base...), sets...))
	}
}

func sweepCommand(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("sweep", pflag.ContinueOnError)
	addAllowPath(fs)
	fs.SetOutput(stderr)
	var (
		varies  = fs.StringArray("vary", nil, "a value to sweep, `PATH=LIST|A..B[:STEP]` (repeatable: the cartesian product)")
		sets    = fs.StringArray("set", nil, "override a scenario value for every point, `PATH=VALUE`")
		reps    = fs.Int("replications", 1, "replications per point (`N`); with more than one, p99 gets a 95 % CI")
		workers = fs.Int("workers", 0, "parallel runs (default GOMAXPROCS); results do not depend on it")
		outDir  = fs.StringP("out", "o", "", "write sweep.csv, sweep.json and plots into `DIR`")
		shard   = fs.String("shard", "", "run only shard `i/n` of the points (or n, with the index from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID); combine with capsim merge")
	)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: capsim sweep FILE|EXAMPLE --vary PATH=VALUES [flags]\n\nRuns every combination of the varied values and tabulates the results.\n\nFlags:\n%s", fs.FlagUsages())
	}
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() != 1 || len(*varies) == 0 || *reps < 1 {
		fs.Usage()
		return exitUsage
	}
	vs, ok := parseVaries("sweep", *varies, stderr)
	if !ok {
		return exitUsage
	}
	base, err := load(fs.Arg(0), *sets)
	if err != nil {
		printLoadError(stderr, err)
		return exitError
	}
	total, err := experiments.PointCount(vs)
	if err != nil {
		fmt.Fprintf(stderr, "capsim sweep: %v\n", err)
		return exitUsage
	}
	i, n := 0, 1
	file := &experiments.SweepFile{Scenario: base.Config.Name, Varies: vs, Replications: *reps, Points: total,
		Fingerprint: experiments.Fingerprint(base.Source, *sets, base.Config.Seed, vs, *reps)}
	if *shard != "" {
		if i, n, err = experiments.ParseShard(*shard, os.Getenv); err != nil {
			fmt.Fprintf(stderr, "capsim sweep: %v\n", err)
			return exitUsage
		}
		file.Shard = fmt.Sprintf("%d/%d", i, n)
	}
	// Every point of this shard is run and kept: refuse what cannot be.
	if mine := (total - i + n - 1) / n; mine > maxSweepPoints {
		fmt.Fprintf(stderr, "capsim sweep: %d settings to run (%d in all): at most %d per sweep or shard; narrow the ranges, or --shard the sweep over machines\n", mine, total, maxSweepPoints)
		return exitUsage
	}
	if code := checkOut(*outDir, stderr); code != exitOK {
		return code
	}
	var pts []experiments.Point
	for k := i; k < total; k += n {
		pts = append(pts, experiments.PointAt(vs, k))
	}
	sig := newInterrupts()
	defer sig.stop()
	res, err := experiments.Sweep(loader(fs.Arg(0), *sets), vs, pts, *reps, *workers, experiments.Options{Context: sig.ctx})
	if code, stop := runFailed(err, sig, stderr); stop {
		return code
	}
	file.Results = res
	return afterSignal(sig, finishSweep(file, *outDir, stdout, stderr))
}

// checkOut checks an -o folder before anything is simulated: a typo in
// -o must not cost a long run, sweep or plan.
func checkOut(dir string, stderr io.Writer) int {
	if dir == "" {
		return exitOK
	}
	if err := checkOutDir(dir); err != nil {
		fmt.Fprintf(stderr, "capsim: -o: %v\n", err)
		return exitError
	}
	return exitOK
}

// runFailed reports what a command ends with when its runs returned err:
// an interruption (nothing written, the signal's exit status) or an error.
func runFailed(err error, sig *interrupts, stderr io.Writer) (code int, stop bool) {
	switch {
	case err == nil:
		return exitOK, false
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "capsim: interrupted; no files were written")
		return sig.code(), true
	default:
		fmt.Fprintf(stderr, "capsim: %v\n", err)
		return exitError, true
	}
}

// afterSignal is code, unless a signal came while the results were being
// written: the files are whole, and capsim ends as it was asked to.
func afterSignal(sig *interrupts, code int) int {
	if code != exitError && sig.ctx.Err() != nil {
		return sig.code()
	}
	return code
}

// maxSweepPoints bounds the settings one sweep (or shard) runs: each is a
// whole simulation, and the table keeps them all.
const maxSweepPoints = 100_000

// finishSweep prints the table and writes the files (for sweep and merge).
func finishSweep(file *experiments.SweepFile, outDir string, stdout, stderr io.Writer) int {
	js, err := json.MarshalIndent(file, "", "  ")
	if err != nil {
		fmt.Fprintf(stderr, "capsim: %v\n", err)
		return exitError
	}
	js = append(js, '\n')
	csv := file.CSV()
	if outDir != "" {
		files := []bundleFile{{"sweep.json", js}, {"sweep.csv", csv}}
		charts := output.SweepCharts(file)
		switch {
		case file.Shard != "":
			fmt.Fprintf(stderr, "capsim: a shard draws no plots: capsim merge draws them from all the shards\n")
		case len(charts) == 0:
			fmt.Fprintf(stderr, "capsim: no plots: plots show one or two varied values, and this sweep varies %d\n", len(file.Varies))
		}
		if file.Shard == "" {
			plots, err := renderPlots(charts)
			if err != nil {
				fmt.Fprintf(stderr, "capsim: %v\n", err)
				return exitError
			}
			files = append(files, plots...)
		}
		if err := writeFiles(outDir, files); err != nil {
			fmt.Fprintf(stderr, "capsim: %v\n", err)
			return exitError
		}
	}
	table, err := output.CSVTable(csv)
	if err != nil {
		fmt.Fprintf(stderr, "capsim: %v\n", err)
		return exitError
	}
	stdout.Write(table)
	return exitOK
}

func mergeCommand(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("merge", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	outDir := fs.StringP("out", "o", "", "write the merged sweep.csv, sweep.json and plots into `DIR`")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: capsim merge DIR... [-o DIR]\n\nCombines the sweep.json files of sweep shards into the result of the whole sweep.\n\nFlags:\n%s", fs.FlagUsages())
	}
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitUsage
	}
	var shards []*experiments.SweepFile
	for _, dir := range fs.Args() {
		data, err := os.ReadFile(filepath.Join(dir, "sweep.json"))
		if err != nil {
			fmt.Fprintf(stderr, "capsim merge: %v\n", err)
			return exitError
		}
		var f experiments.SweepFile
		if err := json.Unmarshal(data, &f); err != nil {
			fmt.Fprintf(stderr, "capsim merge: %s: %v\n", dir, err)
			return exitError
		}
		shards = append(shards, &f)
	}
	merged, err := experiments.MergeSweeps(shards, fs.Args())
	if err != nil {
		fmt.Fprintf(stderr, "capsim merge: %v\n", err)
		return exitError
	}
	return finishSweep(merged, *outDir, stdout, stderr)
}

func planCommand(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("plan", pflag.ContinueOnError)
	addAllowPath(fs)
	fs.SetOutput(stderr)
	var (
		varies   = fs.StringArray("vary", nil, "a value to choose, `PATH=A..B[:STEP]|LIST` (larger settings must not hurt; repeatable)")
		minimize = fs.String("minimize", "cost", "what to minimise among the settings that meet every SLO: cost, or a varied `PATH`")
		sets     = fs.StringArray("set", nil, "override a scenario value, `PATH=VALUE`")
		reps     = fs.Int("replications", 1, "replications per point (`N`); the SLOs are judged on the means")
		jsonOut  = fs.Bool("json", false, "print the result as JSON")
		outDir   = fs.StringP("out", "o", "", "write plan.json and plots/plan.{png,svg} (the settings evaluated) to `DIR`")
	)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: capsim plan FILE|EXAMPLE --vary PATH=A..B [flags]\n\nFinds the cheapest setting that meets every SLO, by bisection (O(log n) runs).\n\nFlags:\n%s", fs.FlagUsages())
	}
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() != 1 || len(*varies) == 0 || *reps < 1 {
		fs.Usage()
		return exitUsage
	}
	vs, ok := parseVaries("plan", *varies, stderr)
	if !ok {
		return exitUsage
	}
	objective, err := experiments.PlanObjective(vs, *minimize)
	if err != nil {
		fmt.Fprintf(stderr, "capsim plan: --minimize: %v\n", err)
		return exitUsage
	}
	base, err := load(fs.Arg(0), *sets)
	if err != nil {
		printLoadError(stderr, err)
		return exitError
	}
	if code := checkOut(*outDir, stderr); code != exitOK {
		return code
	}
	sig := newInterrupts()
	defer sig.stop()
	res, err := experiments.PlanFrontier(vs, func(p experiments.Point) (*experiments.PointResult, error) {
		r, err := experiments.Sweep(loader(fs.Arg(0), *sets), vs, []experiments.Point{p}, *reps, 0, experiments.Options{Context: sig.ctx})
		if err != nil {
			return nil, err
		}
		return &r[0], nil
	}, objective)
	if code, stop := runFailed(err, sig, stderr); stop {
		return code
	}
	report, _ := json.MarshalIndent(res.Report(vs), "", "  ")
	report = append(report, '\n')
	if *outDir != "" {
		plots, err := renderPlots(output.PlanCharts(res, vs))
		if err == nil {
			err = writeFiles(*outDir, append([]bundleFile{{"plan.json", report}}, plots...))
		}
		if err != nil {
			fmt.Fprintf(stderr, "capsim: %v\n", err)
			return exitError
		}
	}
	if *jsonOut {
		stdout.Write(report)
	} else {
		io.WriteString(stdout, output.PlanText(res, vs, *minimize, base.Prices()))
	}
	if res.Best == nil {
		return afterSignal(sig, exitSLO)
	}
	return afterSignal(sig, exitOK)
}

func compareCommand(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("compare", pflag.ContinueOnError)
	addAllowPath(fs)
	fs.SetOutput(stderr)
	var (
		sets    = fs.StringArray("set", nil, "override a value in both variants, `PATH=VALUE`")
		vsSets  = fs.StringArray("vs-set", nil, "with one scenario: override a value in variant B only, `PATH=VALUE`")
		reps    = fs.Int("replications", 5, "paired replications (`N`, ≥ 2)")
		workers = fs.Int("workers", 0, "parallel runs (default GOMAXPROCS)")
		jsonOut = fs.Bool("json", false, "print the differences as JSON")
	)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: capsim compare A B [flags]   or   capsim compare FILE --vs-set PATH=VALUE [flags]\n\nRuns two variants with the same seeds (common random numbers) and reports\nthe differences with 95 %% confidence intervals.\n\nFlags:\n%s", fs.FlagUsages())
	}
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	var a, b *scenario.Scenario
	var err error
	switch {
	case fs.NArg() == 2 && len(*vsSets) == 0:
		if a, err = load(fs.Arg(0), *sets); err == nil {
			b, err = load(fs.Arg(1), *sets)
		}
	case fs.NArg() == 1 && len(*vsSets) > 0:
		if a, err = load(fs.Arg(0), *sets); err == nil {
			b, err = load(fs.Arg(0), append(append([]string{}, *sets...), *vsSets...))
		}
	default:
		fs.Usage()
		return exitUsage
	}
	if err != nil {
		printLoadError(stderr, err)
		return exitError
	}
	if *reps < 2 {
		fmt.Fprintln(stderr, "capsim compare: --replications must be at least 2")
		return exitUsage
	}
	sig := newInterrupts()
	defer sig.stop()
	ra, err := experiments.Replicate(a, *reps, *workers, experiments.Options{Context: sig.ctx})
	if code, stop := runFailed(err, sig, stderr); stop {
		return code
	}
	seed := a.Config.Seed // the same seeds for B: common random numbers
	rb, err := experiments.Replicate(b, *reps, *workers, experiments.Options{Seed: &seed, Context: sig.ctx})
	if code, stop := runFailed(err, sig, stderr); stop {
		return code
	}
	diffs := experiments.Compare(ra.Runs, rb.Runs)
	if *jsonOut {
		out, _ := json.MarshalIndent(diffs, "", "  ")
		stdout.Write(append(out, '\n'))
	} else {
		io.WriteString(stdout, output.CompareText(diffs, *reps))
	}
	return afterSignal(sig, exitOK)
}
