package experiments

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"sort"
	"strings"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/capsim/capsim/experiments/scenario"
)

// Replicated is a set of independent replications of one scenario and
// their summary: every number the mean over the replications, with its 95 %
// confidence interval (Student t) in CI95.
type Replicated struct {
	Runs    []*Outcome
	Summary *Summary
}

// Outcome is the replications as one outcome: the summary over all of
// them, the time series of the first.
func (r *Replicated) Outcome() *Outcome {
	first := r.Runs[0]
	return &Outcome{Config: first.Config, Result: first.Result, Summary: r.Summary, Series: first.Series}
}

// ReplicationSeed is the seed of replication i of a run seeded with base:
// replication 0 uses base itself (so one replication is the plain run), the
// others seeds derived from (base, i).
func ReplicationSeed(base uint64, i int) uint64 {
	if i == 0 {
		return base
	}
	x := base ^ uint64(i)*0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Replicate runs n replications on workers goroutines (GOMAXPROCS when
// ≤ 0). Results are gathered by index, so the summary is the same bytes
// whatever the number of workers.
func Replicate(sc *scenario.Scenario, n, workers int, opts Options) (*Replicated, error) {
	if n < 1 {
		return nil, fmt.Errorf("replications must be at least 1, got %d", n)
	}
	runs := make([]*Outcome, n)
	if err := runAll(sc, runs, 0, workers, opts); err != nil {
		return nil, err
	}
	return &Replicated{Runs: runs, Summary: Combine(runs)}, nil
}

// runAll fills runs[from:] in parallel.
func runAll(sc *scenario.Scenario, runs []*Outcome, from, workers int, opts Options) error {
	base := sc.Config.Seed
	if opts.Seed != nil {
		base = *opts.Seed
	}
	return forEach(opts.Context, from, len(runs), workers, func(ctx context.Context, i int) error {
		o := opts
		seed := ReplicationSeed(base, i)
		o.Seed, o.Progress, o.Context = &seed, nil, ctx
		var err error
		runs[i], err = Run(sc, o)
		return err
	})
}

// Precision runs replications until the 95 % confidence interval of the
// p99 latency is within rel of its mean (at least 3, at most max), and
// reports whether it got there.
func Precision(sc *scenario.Scenario, rel float64, max, workers int, opts Options) (*Replicated, bool, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var runs []*Outcome
	for {
		batch := workers
		if len(runs) < 3 {
			batch = max2(3-len(runs), workers)
		}
		if len(runs)+batch > max {
			batch = max - len(runs)
		}
		from := len(runs)
		runs = append(runs, make([]*Outcome, batch)...)
		if err := runAll(sc, runs, from, workers, opts); err != nil {
			return nil, false, err
		}
		s := Combine(runs)
		ci, ok := s.CI95["latency_ms.p99"]
		half := (ci[1] - ci[0]) / 2
		reached := !ok || half <= rel*s.Latency.P99
		if reached || len(runs) >= max {
			if !reached {
				s.Warnings = append(s.Warnings, fmt.Sprintf("precision not reached: after %d replications the 95 %% confidence interval of latency_ms.p99 is ±%.3g ms (%.2g %% of it), not within %.2g %%",
					len(runs), half, 100*half/s.Latency.P99, 100*rel))
			}
			return &Replicated{Runs: runs, Summary: s}, reached, nil
		}
	}
}

func max2(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// Combine summarises replications: each numeric field of summary.json is
// averaged over them (counts rounded), every field that varies gets its
// 95 % confidence interval in CI95, and the SLO verdicts are taken on the
// means.
func Combine(runs []*Outcome) *Summary {
	if len(runs) == 1 {
		s := *runs[0].Summary
		return &s
	}
	trees := make([]any, len(runs))
	for i, r := range runs {
		b, _ := json.Marshal(r.Summary)
		var t any
		_ = json.Unmarshal(b, &t)
		trees[i] = t
	}
	ci := map[string][2]float64{}
	mean := average(trees, "", ci)
	b, _ := json.Marshal(mean)
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		panic(fmt.Sprintf("experiments: combining summaries: %v", err)) // a field whose type lost its shape: a bug
	}
	s.Replications = len(runs)
	s.Seed = runs[0].Summary.Seed
	for k := range ci {
		if strings.HasPrefix(k, "bottleneck.") {
			delete(ci, k) // recomputed from the means below
		}
	}
	s.CI95 = ci
	s.Bottleneck = bottleneck(&s)
	s.SLO.Met = true
	for i := range s.SLO.Checks {
		c := &s.SLO.Checks[i]
		c.Met = c.Value <= c.Limit
		s.SLO.Met = s.SLO.Met && c.Met
	}
	s.Warnings = nil
	seen := map[string]bool{}
	for _, r := range runs {
		for _, w := range r.Summary.Warnings {
			if !seen[w] {
				seen[w] = true
				s.Warnings = append(s.Warnings, w)
			}
		}
	}
	return &s
}

// average walks parallel JSON trees, averaging numbers and recording the
// confidence interval of those that vary.
func average(trees []any, path string, ci map[string][2]float64) any {
	switch first := trees[0].(type) {
	case map[string]any:
		out := map[string]any{}
		keys := make([]string, 0, len(first))
		for k := range first {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			sub := make([]any, len(trees))
			for i, t := range trees {
				if m, ok := t.(map[string]any); ok {
					sub[i] = m[k]
				}
			}
			p := k
			if path != "" {
				p = path + "." + k
			}
			out[k] = average(sub, p, ci)
		}
		return out
	case []any:
		out := make([]any, len(first))
		for j := range first {
			sub := make([]any, len(trees))
			for i, t := range trees {
				if a, ok := t.([]any); ok && j < len(a) {
					sub[i] = a[j]
				}
			}
			out[j] = average(sub, fmt.Sprintf("%s[%d]", path, j), ci)
		}
		return out
	case float64:
		xs := make([]float64, 0, len(trees))
		for _, t := range trees {
			if x, ok := t.(float64); ok {
				xs = append(xs, x)
			}
		}
		m, half := meanCI(xs)
		if len(xs) >= 2 && (half > 0 || headline(path)) {
			lo, hi := m-half, m+half
			// Every number in a summary is ≥ 0, and fractions ≤ 1: the
			// interval is clamped to that domain.
			lo = math.Max(lo, 0)
			if fraction(path) {
				hi = math.Min(hi, 1)
			}
			ci[path] = [2]float64{round(lo, 6), round(hi, 6)}
		}
		integral := true
		for _, x := range xs {
			integral = integral && x == math.Trunc(x)
		}
		if integral { // a count: its mean, rounded, stays a count
			return math.Round(m)
		}
		return round(m, 6)
	}
	return trees[0]
}

// headline says whether path is a headline number, which gets its interval
// even when every replication gave the same value (a percentile resting on
// the same histogram bucket): an interval of zero width is an answer too.
func headline(path string) bool {
	for _, p := range []string{"latency_ms.", "throughput_rps", "error_rate", "cost."} {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// fraction says whether the number at path is a fraction in [0, 1].
func fraction(path string) bool {
	last := path[strings.LastIndexByte(path, '.')+1:]
	switch last {
	case "error_rate", "utilization", "hit_ratio", "stale_reads":
		return true
	}
	return false
}

// meanCI returns the mean and the half-width of its 95 % confidence
// interval (Student t with n−1 degrees of freedom).
func meanCI(xs []float64) (mean, half float64) {
	n := float64(len(xs))
	for _, x := range xs {
		mean += x
	}
	mean /= n
	if len(xs) < 2 {
		return mean, 0
	}
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	sd := math.Sqrt(ss / (n - 1))
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: n - 1}.Quantile(0.975)
	return mean, t * sd / math.Sqrt(n)
}
