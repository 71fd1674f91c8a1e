package experiments

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// SweepFile is sweep.json: the varied values and every point's summary. A
// shard holds some of the points; merging the shards (MergeSweeps) gives
// exactly the unsharded file.
type SweepFile struct {
	Scenario     string `json:"scenario"`
	Varies       []Vary `json:"varies"`
	Replications int    `json:"replications"`
	Points       int    `json:"points"`
	Shard        string `json:"shard,omitempty"`
	// Fingerprint identifies the sweep: a hash of the scenario's bytes,
	// every --set, the seed, the varies and the replications (see
	// Fingerprint). Shards merge only with shards of the same.
	Fingerprint string        `json:"fingerprint,omitempty"`
	Results     []PointResult `json:"results"`
}

// ParseShard reads a shard "i/n", or "n" with the index i from a
// Kubernetes Indexed Job (JOB_COMPLETION_INDEX) or a Slurm array
// (SLURM_ARRAY_TASK_ID), looked up with getenv.
func ParseShard(s string, getenv func(string) string) (i, n int, err error) {
	idx, count, ok := strings.Cut(s, "/")
	if !ok {
		count, idx = s, getenv("JOB_COMPLETION_INDEX")
		if idx == "" {
			idx = getenv("SLURM_ARRAY_TASK_ID")
		}
		if idx == "" {
			return 0, 0, fmt.Errorf("--shard %s: give i/n, or set JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID", s)
		}
	}
	i, err1 := strconv.Atoi(strings.TrimSpace(idx))
	n, err2 := strconv.Atoi(strings.TrimSpace(count))
	if err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, fmt.Errorf("--shard: want i/n with 0 ≤ i < n, got %q (index %q)", s, idx)
	}
	return i, n, nil
}

// ShardPoints are the points of shard i of n: every n-th, from the i-th.
func ShardPoints(points []Point, i, n int) []Point {
	var mine []Point
	for _, p := range points {
		if p.Index%n == i {
			mine = append(mine, p)
		}
	}
	return mine
}

// Fingerprint identifies a sweep for MergeSweeps: the scenario's bytes,
// the --set overrides, the seed, the varies and the replications.
func Fingerprint(source []byte, sets []string, seed uint64, varies []Vary, reps int) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d:%s|", len(source), source)
	for _, s := range sets {
		fmt.Fprintf(h, "%d:%s|", len(s), s)
	}
	v, _ := json.Marshal(varies)
	fmt.Fprintf(h, "seed %d|reps %d|%s", seed, reps, v)
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// MergeSweeps combines the shards of one sweep (names say where each came
// from, for messages) into the whole sweep's file. It refuses shards of
// different sweeps (another scenario, --set, seed, varies or replication
// count), points out of range or whose values are not the varies', points
// that appear twice or are missing, and malformed files.
func MergeSweeps(shards []*SweepFile, names []string) (*SweepFile, error) {
	if len(shards) == 0 {
		return nil, fmt.Errorf("no shards to merge")
	}
	first := shards[0]
	total, err := PointCount(first.Varies)
	switch {
	case len(first.Varies) == 0:
		return nil, fmt.Errorf("%s: no varies: not a sweep.json", names[0])
	case err != nil:
		return nil, fmt.Errorf("%s: %v", names[0], err)
	case first.Points != total:
		return nil, fmt.Errorf("%s: %d points, but its varies make %d", names[0], first.Points, total)
	}
	id := func(f *SweepFile) string {
		b, _ := json.Marshal(f.Varies)
		return fmt.Sprintf("%s|%d|%s|%d|%s", b, f.Replications, f.Scenario, f.Points, f.Fingerprint)
	}
	merged := *first
	merged.Shard, merged.Results = "", nil
	seen := map[int]bool{}
	for k, f := range shards {
		if id(f) != id(first) {
			return nil, fmt.Errorf("%s is a shard of a different sweep than %s (scenario, --set, seed, varies or replications differ)", names[k], names[0])
		}
		for _, r := range f.Results {
			i := r.Point.Index
			switch {
			case i < 0 || i >= total:
				return nil, fmt.Errorf("%s: point %d is out of range (the sweep has %d)", names[k], i, total)
			case seen[i]:
				return nil, fmt.Errorf("%s: point %d appears twice", names[k], i)
			case r.Summary == nil:
				return nil, fmt.Errorf("%s: point %d has no summary", names[k], i)
			case !slices.Equal(r.Point.Values, PointAt(first.Varies, i).Values):
				return nil, fmt.Errorf("%s: point %d has values %v, but the varies give %v", names[k], i, r.Point.Values, PointAt(first.Varies, i).Values)
			}
			seen[i] = true
			merged.Results = append(merged.Results, r)
		}
	}
	if n := len(merged.Results); n != total {
		var missing []string
		for i := 0; i < total && len(missing) < 5; i++ {
			if !seen[i] {
				missing = append(missing, strconv.Itoa(i))
			}
		}
		return nil, fmt.Errorf("%d of %d points: a shard is missing (points %s…)", n, total, strings.Join(missing, ", "))
	}
	sort.Slice(merged.Results, func(i, j int) bool { return merged.Results[i].Point.Index < merged.Results[j].Point.Index })
	return &merged, nil
}

// Knee is the index of the knee of p99 against the varied value, when a
// single numeric value is varied; −1 otherwise (see Knee).
func (f *SweepFile) Knee() int {
	x, ok := f.NumericX()
	if !ok {
		return -1
	}
	var y []float64
	for _, r := range f.Results {
		y = append(y, r.Summary.Latency.P99)
	}
	return Knee(x, y)
}

// NumericX is the varied value of every point as a number, when a single
// numeric value is varied.
func (f *SweepFile) NumericX() ([]float64, bool) {
	if len(f.Varies) != 1 {
		return nil, false
	}
	var x []float64
	for _, r := range f.Results {
		v, err := strconv.ParseFloat(r.Point.Values[0], 64)
		if err != nil {
			return nil, false
		}
		x = append(x, v)
	}
	return x, true
}

// CSV renders sweep.csv: the varied values, then the headline numbers of
// each point, the knee marked.
func (f *SweepFile) CSV() []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	var head []string
	for _, v := range f.Varies {
		head = append(head, v.Path)
	}
	w.Write(append(head, "requests", "throughput_rps", "error_rate", "p50_ms", "p95_ms", "p99_ms", "p99_ci_low", "p99_ci_high", "p999_ms", "cost_usd", "slo_met", "knee"))
	knee := f.Knee()
	ftoa := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	for i, r := range f.Results {
		s := r.Summary
		lo, hi := "", ""
		if ci, ok := s.CI95["latency_ms.p99"]; ok {
			lo, hi = ftoa(ci[0]), ftoa(ci[1])
		}
		mark := ""
		if i == knee {
			mark = "knee"
		}
		row := append([]string{}, r.Point.Values...)
		w.Write(append(row, strconv.FormatInt(s.Requests.Arrived, 10), ftoa(s.Throughput), ftoa(s.ErrorRate),
			ftoa(s.Latency.P50), ftoa(s.Latency.P95), ftoa(s.Latency.P99), lo, hi, ftoa(s.Latency.P999), ftoa(s.Cost.TotalUSD),
			strconv.FormatBool(s.SLO.Met), mark))
	}
	w.Flush()
	return b.Bytes()
}
