package experiments

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/capsim/capsim/experiments/scenario"
)

// Vary is one swept scenario value: a path and the values it takes.
type Vary struct {
	Path   string   `json:"path"`
	Values []string `json:"values"` // TOML values, as --set takes them
}

// ParseVary reads "PATH=LIST" (comma-separated values: 10s,30s,60s) or
// "PATH=A..B" / "PATH=A..B:STEP" (numbers from A to B inclusive, step 1 by
// default).
func ParseVary(s string) (Vary, error) {
	path, spec, ok := strings.Cut(s, "=")
	path, spec = strings.TrimSpace(path), strings.TrimSpace(spec)
	if !ok || path == "" || spec == "" {
		return Vary{}, fmt.Errorf("want PATH=LIST or PATH=A..B[:STEP], got %q", s)
	}
	v := Vary{Path: path}
	if lo, rest, ok := strings.Cut(spec, ".."); ok {
		hi, step := rest, "1"
		if h, st, ok := strings.Cut(rest, ":"); ok {
			hi, step = h, st
		}
		a, err1 := strconv.ParseFloat(lo, 64)
		b, err2 := strconv.ParseFloat(hi, 64)
		d, err3 := strconv.ParseFloat(step, 64)
		if err1 != nil || err2 != nil || err3 != nil || d <= 0 || b < a {
			return Vary{}, fmt.Errorf("%s: want A..B[:STEP] with numbers A ≤ B and STEP > 0, got %q", path, spec)
		}
		if (b-a)/d > 100_000 {
			return Vary{}, fmt.Errorf("%s: %q gives more than 100000 values", path, spec)
		}
		for i := 0; ; i++ {
			x := a + float64(i)*d
			if x > b+1e-9*math.Max(1, math.Abs(b)) {
				break
			}
			v.Values = append(v.Values, strconv.FormatFloat(x, 'f', -1, 64))
		}
		return v, nil
	}
	for _, x := range strings.Split(spec, ",") {
		if x = strings.TrimSpace(x); x != "" {
			v.Values = append(v.Values, x)
		}
	}
	if len(v.Values) == 0 {
		return Vary{}, fmt.Errorf("%s: no values", path)
	}
	return v, nil
}

// Point is one combination of swept values (in --vary order).
type Point struct {
	Index  int      `json:"index"`
	Values []string `json:"values"`
}

// MaxPoints bounds the settings a sweep or a plan can range over: beyond
// it the count is an error, not an allocation.
const MaxPoints = 1_000_000_000

// PointCount is the number of combinations of the varies, or an error
// when it exceeds MaxPoints (or a vary has no value).
func PointCount(varies []Vary) (int, error) {
	n := 1
	for _, v := range varies {
		m := len(v.Values)
		if m == 0 {
			return 0, fmt.Errorf("--vary %s has no value", v.Path)
		}
		if n > MaxPoints/m {
			return 0, fmt.Errorf("the --vary values combine into more than %d settings: narrow the ranges", MaxPoints)
		}
		n *= m
	}
	return n, nil
}

// PointAt is combination i of the varies (0 ≤ i < PointCount), the last
// varying fastest.
func PointAt(varies []Vary, i int) Point {
	k := i
	vals := make([]string, len(varies))
	for j := len(varies) - 1; j >= 0; j-- {
		m := len(varies[j].Values)
		vals[j] = varies[j].Values[k%m]
		k /= m
	}
	return Point{Index: i, Values: vals}
}

// Points is the cartesian product of the varies, the last varying fastest
// (PointCount must have accepted them).
func Points(varies []Vary) []Point {
	n, err := PointCount(varies)
	if err != nil {
		return nil
	}
	pts := make([]Point, n)
	for i := range pts {
		pts[i] = PointAt(varies, i)
	}
	return pts
}

// PointResult is a point's summary (over its replications).
type PointResult struct {
	Point   Point    `json:"point"`
	Summary *Summary `json:"summary"`
}

// Sweep evaluates points (each with reps replications) of the scenario
// that load returns for a point's overrides, on workers goroutines; results
// come back in point order, so the output does not depend on the number of
// workers. Replication r of every point uses the same seed (common random
// numbers across points). opts.Context, if set, stops the sweep.
func Sweep(load func(overrides []string) (*scenario.Scenario, error), varies []Vary, points []Point, reps, workers int, opts Options) ([]PointResult, error) {
	scs := make([]*scenario.Scenario, len(points))
	for i, p := range points {
		var sets []string
		for j, v := range varies {
			sets = append(sets, v.Path+"="+p.Values[j])
		}
		sc, err := load(sets)
		if err != nil {
			return nil, fmt.Errorf("point %s: %w", describe(varies, p), err)
		}
		scs[i] = sc
	}
	runs := make([][]*Outcome, len(points))
	for i := range runs {
		runs[i] = make([]*Outcome, reps)
	}
	err := forEach(opts.Context, 0, len(points)*reps, workers, func(ctx context.Context, t int) error {
		p, rep := t/reps, t%reps
		o := opts
		base := scs[p].Config.Seed
		if opts.Seed != nil {
			base = *opts.Seed
		}
		seed := ReplicationSeed(base, rep)
		o.Seed, o.Progress, o.Context = &seed, nil, ctx
		var err error
		runs[p][rep], err = Run(scs[p], o)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]PointResult, len(points))
	for i, p := range points {
		out[i] = PointResult{Point: p, Summary: Combine(runs[i])}
	}
	return out, nil
}

func describe(varies []Vary, p Point) string {
	var s []string
	for j, v := range varies {
		s = append(s, v.Path+"="+p.Values[j])
	}
	return strings.Join(s, " ")
}

// Knee returns the index of the knee of y(x) — the point farthest from the
// chord between the first and last points once both axes are scaled to
// [0, 1] (the "Kneedle" criterion) — or −1 with fewer than 3 points.
func Knee(x, y []float64) int {
	n := len(x)
	if n < 3 {
		return -1
	}
	minX, maxX, minY, maxY := x[0], x[0], y[0], y[0]
	for i := range x {
		minX, maxX = math.Min(minX, x[i]), math.Max(maxX, x[i])
		minY, maxY = math.Min(minY, y[i]), math.Max(maxY, y[i])
	}
	if maxX == minX || maxY == minY {
		return -1
	}
	nx := func(i int) float64 { return (x[i] - minX) / (maxX - minX) }
	ny := func(i int) float64 { return (y[i] - minY) / (maxY - minY) }
	x0, y0, x1, y1 := nx(0), ny(0), nx(n-1), ny(n-1)
	best, bestD := -1, 0.0
	for i := 1; i < n-1; i++ {
		d := math.Abs((y1-y0)*nx(i)-(x1-x0)*ny(i)+x1*y0-y1*x0) / math.Hypot(y1-y0, x1-x0)
		if d > bestD {
			best, bestD = i, d
		}
	}
	return best
}

// PlanResult is the outcome of a plan: the cheapest point meeting every
// SLO, the nearest point that fails (the evidence), and how many points
// were evaluated.
type PlanResult struct {
	Best      *PointResult
	Evidence  *PointResult // the next point down that fails, if any
	Evaluated int
	Points    int
	// Candidates are the points evaluated, in the order they were.
	Candidates []*PointResult
}

// Plan finds, along one varied value whose larger settings can only help
// (more instances, more cores), the smallest setting that meets every SLO,
// by bisection: O(log n) evaluations. eval runs one point.
func Plan(points []Point, eval func(Point) (*PointResult, error)) (*PlanResult, error) {
	res := &PlanResult{Points: len(points)}
	cache := map[int]*PointResult{}
	at := func(i int) (*PointResult, error) {
		if r, ok := cache[i]; ok {
			return r, nil
		}
		r, err := eval(points[i])
		if err != nil {
			return nil, err
		}
		res.Evaluated++
		res.Candidates = append(res.Candidates, r)
		cache[i] = r
		return r, nil
	}
	lo, hi := 0, len(points)-1
	top, err := at(hi)
	if err != nil {
		return nil, err
	}
	if !top.Summary.SLO.Met {
		res.Evidence = top
		return res, nil // even the largest setting fails
	}
	// Invariant: points[hi] meets the SLOs; every index below lo fails.
	for lo < hi {
		mid := lo + (hi-lo)/2
		r, err := at(mid)
		if err != nil {
			return nil, err
		}
		if r.Summary.SLO.Met {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	res.Best = cache[hi]
	if hi > 0 {
		if res.Evidence, err = at(hi - 1); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// Diff is a paired comparison of one number between two variants run with
// the same seeds: the mean of B − A and its 95 % confidence interval.
type Diff struct {
	Name          string
	A, B          float64
	Delta         float64
	CILow, CIHigh float64
}

// Compare pairs replications of two variants (same seeds: common random
// numbers, so that small differences are detectable) and returns the
// headline differences.
func Compare(a, b []*Outcome) []Diff {
	metrics := []struct {
		name string
		get  func(*Summary) float64
	}{
		{"latency_ms.mean", func(s *Summary) float64 { return s.Latency.Mean }},
		{"latency_ms.p50", func(s *Summary) float64 { return s.Latency.P50 }},
		{"latency_ms.p95", func(s *Summary) float64 { return s.Latency.P95 }},
		{"latency_ms.p99", func(s *Summary) float64 { return s.Latency.P99 }},
		{"latency_ms.p999", func(s *Summary) float64 { return s.Latency.P999 }},
		{"throughput_rps", func(s *Summary) float64 { return s.Throughput }},
		{"error_rate", func(s *Summary) float64 { return s.ErrorRate }},
		{"cost.total_usd", func(s *Summary) float64 { return s.Cost.TotalUSD }},
		{"cost.per_hour_usd", func(s *Summary) float64 { return s.Cost.PerHourUSD }},
		{"cost.per_million_requests_usd", func(s *Summary) float64 { return s.Cost.PerMillionRequestsUSD }},
	}
	var out []Diff
	for _, m := range metrics {
		var xa, xb, d []float64
		for i := range a {
			va, vb := m.get(a[i].Summary), m.get(b[i].Summary)
			xa, xb, d = append(xa, va), append(xb, vb), append(d, vb-va)
		}
		ma, _ := meanCI(xa)
		mb, _ := meanCI(xb)
		md, half := meanCI(d)
		out = append(out, Diff{Name: m.name, A: round(ma, 6), B: round(mb, 6), Delta: round(md, 6), CILow: round(md-half, 6), CIHigh: round(md+half, 6)})
	}
	return out
}

// PlanFrontier plans over several varied values, each of whose larger
// settings can only help: for every combination of all but the last value
// it bisects the last (a frontier search: O(n₁⋯nₖ₋₁ · log nₖ) evaluations
// instead of every point), then keeps the feasible point that minimises
// objective. With one varied value it is Plan.
//
// The points of one line at a time are built as the search goes, so its
// memory follows the points it evaluates, not the size of the space.
func PlanFrontier(varies []Vary, eval func(Point) (*PointResult, error), objective func(*PointResult) float64) (*PlanResult, error) {
	total, err := PointCount(varies)
	if err != nil {
		return nil, err
	}
	last := len(varies[len(varies)-1].Values)
	res := &PlanResult{Points: total}
	pts := make([]Point, last)
	for start := 0; start < total; start += last {
		for k := range pts {
			pts[k] = PointAt(varies, start+k)
		}
		line, err := Plan(pts, eval)
		if err != nil {
			return nil, err
		}
		res.Evaluated += line.Evaluated
		res.Candidates = append(res.Candidates, line.Candidates...)
		if line.Best == nil {
			if res.Best == nil && res.Evidence == nil {
				res.Evidence = line.Evidence
			}
			continue
		}
		if res.Best == nil || objective(line.Best) < objective(res.Best) {
			res.Best, res.Evidence = line.Best, line.Evidence
		}
	}
	return res, nil
}
