package experiments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
)

func TestParseShard(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	for _, c := range []struct {
		s, job, slurm string
		i, n          int
		bad           bool
	}{
		{s: "0/4", i: 0, n: 4},
		{s: "3/4", i: 3, n: 4},
		{s: "4", job: "2", i: 2, n: 4},
		{s: "4", slurm: "1", i: 1, n: 4},
		{s: "4/4", bad: true},
		{s: "-1/4", bad: true},
		{s: "4", bad: true}, // no index anywhere
		{s: "a/b", bad: true},
	} {
		env["JOB_COMPLETION_INDEX"], env["SLURM_ARRAY_TASK_ID"] = c.job, c.slurm
		i, n, err := ParseShard(c.s, getenv)
		if c.bad != (err != nil) || !c.bad && (i != c.i || n != c.n) {
			t.Errorf("ParseShard(%q) = %d, %d, %v", c.s, i, n, err)
		}
	}
}

func TestMergeSweeps(t *testing.T) {
	vs := []Vary{{Path: "service.web.instances", Values: []string{"1", "2", "3"}}}
	pts := Points(vs)
	shard := func(i int, pts []Point) *SweepFile {
		f := &SweepFile{Scenario: "s", Varies: vs, Replications: 1, Points: 3, Shard: fmt.Sprintf("%d/2", i)}
		for _, p := range pts {
			f.Results = append(f.Results, PointResult{Point: p, Summary: &Summary{}})
		}
		return f
	}
	a, b := shard(0, ShardPoints(pts, 0, 2)), shard(1, ShardPoints(pts, 1, 2))
	m, err := MergeSweeps([]*SweepFile{b, a}, []string{"b", "a"})
	if err != nil || len(m.Results) != 3 || m.Shard != "" || m.Results[0].Point.Index != 0 || m.Results[2].Point.Index != 2 {
		t.Fatalf("merge: %+v, %v", m, err)
	}
	other := shard(1, ShardPoints(pts, 1, 2))
	other.Scenario = "t"
	for _, c := range []struct {
		shards []*SweepFile
		want   string
	}{
		{[]*SweepFile{a}, "a shard is missing"},
		{[]*SweepFile{a, a}, "appears twice"},
		{[]*SweepFile{a, other}, "different sweep"},
	} {
		if _, err := MergeSweeps(c.shards, []string{"x", "y"}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
}

// Values with commas are quoted in sweep.csv, as encoding/csv does.
func TestSweepCSVQuotes(t *testing.T) {
	f := &SweepFile{Varies: []Vary{{Path: "traffic.in.keys", Values: []string{"zipf(s=1, n=10)"}}}, Points: 1}
	f.Results = []PointResult{{Point: Point{Values: []string{"zipf(s=1, n=10)"}}, Summary: &Summary{}}}
	if got := string(f.CSV()); !strings.Contains(got, "\n\"zipf(s=1, n=10)\",0,") {
		t.Errorf("csv:\n%s", got)
	}
}

// The pool reports the lowest-index failure whatever the number of
// workers, and starts nothing once the context is cancelled.
func TestForEach(t *testing.T) {
	for _, workers := range []int{1, 2, 8} {
		err := forEach(context.Background(), 0, 20, workers, func(ctx context.Context, i int) error {
			if i == 7 || i == 13 {
				return fmt.Errorf("point %d", i)
			}
			return nil
		})
		if err == nil || err.Error() != "point 7" {
			t.Errorf("%d workers: %v, want point 7", workers, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var ran atomic.Int32
	err := forEach(ctx, 0, 100, 2, func(context.Context, int) error { ran.Add(1); return nil })
	if !errors.Is(err, context.Canceled) || ran.Load() != 0 {
		t.Errorf("cancelled: %v after %d calls", err, ran.Load())
	}
}

// MergeSweeps never panics on what a sweep.json may hold, and what it
// accepts renders (the CSV and the knee).
func FuzzMergeSweeps(f *testing.F) {
	f.Add([]byte(`{"scenario":"s","varies":[{"path":"a","values":["1","2"]}],"replications":1,"points":2,"results":[{"point":{"index":0,"values":["1"]},"summary":{}},{"point":{"index":1,"values":["2"]},"summary":{}}]}`))
	f.Add([]byte(`{"varies":[{"path":"a","values":[]}],"points":0,"results":[{"summary":null}]}`))
	f.Add([]byte(`{"varies":[{"path":"a","values":["x"]}],"points":1,"results":[{"point":{"index":0,"values":[]},"summary":{}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var sf SweepFile
		if json.Unmarshal(data, &sf) != nil {
			return
		}
		m, err := MergeSweeps([]*SweepFile{&sf}, []string{"shard"})
		if err != nil {
			return
		}
		m.CSV()
		m.Knee()
	})
}
