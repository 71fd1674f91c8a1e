package output

import (
	"math"
	"strings"
	"testing"

	"github.com/capsim/capsim/experiments"
)

// point is a sweep's result at values, with the p99, cost and SLO given.
func point(p99, cost float64, met bool, values ...string) experiments.PointResult {
	s := &experiments.Summary{}
	s.Latency.P99, s.Cost.TotalUSD, s.SLO.Met = p99, cost, met
	return experiments.PointResult{Point: experiments.Point{Values: values}, Summary: s}
}

// A sweep over two values gets heatmaps with a cell per setting — the
// first value across, the second up, in the order given — outlined where
// the setting misses an SLO, and empty where a shard did not run it; one
// value that is not a number gets a single row; three get none.
func TestSweepGrids(t *testing.T) {
	two := &experiments.SweepFile{Varies: []experiments.Vary{
		{Path: "service.web.instances", Values: []string{"2", "4", "8"}},
		{Path: "balancer.lb.algorithm", Values: []string{"round_robin", "least_connections"}}},
		Results: []experiments.PointResult{
			point(900, 1, false, "2", "round_robin"), point(80, 2, true, "4", "round_robin"),
			point(40, 4, true, "8", "round_robin"), point(300, 1, false, "2", "least_connections"),
			point(50, 2, true, "4", "least_connections"), // 8 × least_connections: another shard's
		}}
	var p99 *Chart
	for _, c := range SweepCharts(two) {
		if c.Name == "sweep_p99_map" {
			p99 = &c
		}
	}
	if p99 == nil || p99.Grid == nil {
		t.Fatal("no p99 heatmap for a sweep over two values")
	}
	g := p99.Grid
	if !g.Log || strings.Join(g.Columns, ",") != "2,4,8" || strings.Join(g.Rows, ",") != "round_robin,least_connections" {
		t.Fatalf("axes %v × %v (log %v)", g.Columns, g.Rows, g.Log)
	}
	want := [][]float64{{900, 80, 40}, {300, 50, math.NaN()}}
	missed := [][]bool{{true, false, false}, {true, false, false}}
	for r := range want {
		for k := range want[r] {
			if got := g.Values[r][k]; got != want[r][k] && !(math.IsNaN(got) && math.IsNaN(want[r][k])) {
				t.Errorf("cell (%s, %s) = %v, want %v", g.Columns[k], g.Rows[r], got, want[r][k])
			}
			if g.Missed[r][k] != missed[r][k] {
				t.Errorf("cell (%s, %s) missed = %v", g.Columns[k], g.Rows[r], g.Missed[r][k])
			}
		}
	}
	svg, err := Render(*p99, "svg")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"900", "least_connections", "misses an SLO", "p99 latency (ms) by service.web.instances and balancer.lb.algorithm"} {
		if !strings.Contains(string(svg), s) {
			t.Errorf("the heatmap's SVG does not say %q", s)
		}
	}

	one := &experiments.SweepFile{Varies: []experiments.Vary{{Path: "balancer.lb.algorithm", Values: []string{"random", "p2c"}}},
		Results: []experiments.PointResult{point(70, 1, true, "random"), point(60, 1, true, "p2c")}}
	charts := SweepCharts(one)
	if len(charts) != 2 || charts[0].Grid == nil || len(charts[0].Grid.Rows) != 1 || charts[0].Grid.Values[0][1] != 60 {
		t.Errorf("one value that is not a number: %+v", charts)
	}
	three := &experiments.SweepFile{Varies: []experiments.Vary{{Path: "a", Values: []string{"x"}}, {Path: "b", Values: []string{"y"}}, {Path: "c", Values: []string{"z"}}},
		Results: []experiments.PointResult{point(1, 1, true, "x", "y", "z")}}
	if charts := SweepCharts(three); len(charts) != 0 {
		t.Errorf("three varied values drew %d charts", len(charts))
	}
}

// Cell values are written with three significant digits.
func TestCellText(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{{0, "0"}, {0.0067, "0.0067"}, {23.14, "23.1"}, {189.27, "189"}, {1234.6, "1,235"}, {12660, "12.7k"}, {3.2e9, "3.2B"}, {999999, "1M"}, {2.5e6, "2.5M"}, {-3.14159, "-3.14"}, {math.Inf(1), "∞"}, {math.NaN(), "–"}, {math.MaxFloat64, "1.8e+308"}} {
		if got := cellText(c.v); got != c.want {
			t.Errorf("cellText(%v) = %q, want %q", c.v, got, c.want)
		}
	}
}
