package output

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/capsim/capsim/examples"
	"github.com/capsim/capsim/experiments"
	"github.com/capsim/capsim/experiments/scenario"
)

// example runs an embedded example (shortened by overrides).
func example(t *testing.T, name string, overrides ...string) *experiments.Outcome {
	t.Helper()
	src, ok := examples.Get(name)
	if !ok {
		t.Fatalf("no example %s", name)
	}
	sc, err := scenario.Parse(name+".toml", src, overrides, examples.Files())
	if err != nil {
		t.Fatal(err)
	}
	o, err := experiments.Run(sc, experiments.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

var (
	framePath = regexp.MustCompile(`<path d="M([\d.]+),([\d.]+)L([\d.]+),([\d.]+)L([\d.]+),([\d.]+)L([\d.]+),([\d.]+)L[\d.,]+" style="fill:none;stroke:#4D4D4D`)
	tickText  = regexp.MustCompile(`<text x="(-?[\d.]+)" y="(-?[\d.]+)"[^>]*\n?[^>]*fill:#5F6368">([^<]*)</text>`)
)

// svgTicks are a rendered chart's tick labels: x-axis labels (on the
// lowest baseline) by text, with their x; y-axis labels (left of the plot)
// by text.
func svgTicks(svg string) (xTicks map[string]float64, yTicks []string) {
	xTicks = map[string]float64{}
	for _, m := range tickText.FindAllStringSubmatch(svg, -1) {
		x, _ := strconv.ParseFloat(m[1], 64)
		y, _ := strconv.ParseFloat(m[2], 64)
		if x < float64(plotLeft) && -y > float64(plotBottom)-6 {
			yTicks = append(yTicks, m[3])
			continue
		}
		xTicks[m[3]] = x
	}
	return xTicks, yTicks
}

// Every time chart of a report has the same plot area, so a vertical line
// at time t crosses them all at the same place: checked from the SVGs —
// the frames coincide, and a tick label for the same time sits at the same
// x on every chart. Every chart carries at least three labelled ticks on
// each axis.
func TestChartsShareOneTimeAxis(t *testing.T) {
	for _, name := range []string{"ticketing-onsale", "leaderboard-shards", "rtb-kafka"} {
		var o *experiments.Outcome
		if name == "rtb-kafka" {
			if testing.Short() {
				continue
			}
			o = example(t, name, "run.duration=60s")
		} else {
			o = example(t, name)
		}
		var frame string
		tickX := map[string]float64{}
		for _, c := range Charts(o) {
			b, err := Render(c, "svg")
			if err != nil {
				t.Fatal(err)
			}
			svg := string(b)
			fm := framePath.FindStringSubmatch(svg)
			if fm == nil {
				t.Fatalf("%s/%s: no plot frame in the SVG", name, c.Name)
			}
			f := "from x = " + fm[1] + " to x = " + fm[3] // the left and right edges (a timeline is shorter)
			xt, yt := svgTicks(svg)
			if len(xt) < 3 || len(yt) < 3 && len(c.Rows) == 0 { // a timeline has lanes, not values
				t.Errorf("%s/%s: %d x and %d y tick labels (%v; %v), want at least 3 each", name, c.Name, len(xt), len(yt), xt, yt)
			}
			for _, l := range yt {
				if strings.HasSuffix(l, ".00") || strings.HasSuffix(l, ".0") {
					t.Errorf("%s/%s: tick label %q", name, c.Name, l)
				}
			}
			if c.XMax <= c.XMin { // not a time chart (the spectrum)
				continue
			}
			if frame == "" {
				frame = f
			} else if f != frame {
				t.Errorf("%s/%s: plot frame %s, want %s as on the other charts", name, c.Name, f, frame)
			}
			for label, x := range xt {
				if x0, ok := tickX[label]; ok && x0 != x {
					t.Errorf("%s/%s: time tick %q at x = %v, at %v on an earlier chart", name, c.Name, label, x, x0)
				}
				tickX[label] = x
			}
		}
	}
}

// A component has one colour on every chart.
func TestComponentColoursAreStable(t *testing.T) {
	o := example(t, "ticketing-onsale")
	seen := map[string]int{}
	for _, c := range Charts(o) {
		for _, s := range c.Series {
			if _, ok := o.Summary.Components[s.Name]; !ok {
				continue
			}
			if s.Color == 0 {
				t.Errorf("%s: series %s has no colour of its own", c.Name, s.Name)
			}
			if k, ok := seen[s.Name]; ok && k != s.Color {
				t.Errorf("%s: %s has colour %d, %d on an earlier chart", c.Name, s.Name, s.Color, k)
			}
			seen[s.Name] = s.Color
		}
	}
	if len(seen) < 3 {
		t.Errorf("only %d components drawn: %v", len(seen), seen)
	}
}

// The utilisation chart shows the busiest resources of every kind, by
// peak: leaderboard-shards' hot replica first.
func TestUtilisationChartNamesHotReplica(t *testing.T) {
	o := example(t, "leaderboard-shards")
	for _, c := range Charts(o) {
		if c.Name != "utilization" {
			continue
		}
		if len(c.Series) == 0 || c.Series[0].Name != "scores s0.replica1" {
			t.Errorf("utilisation series %v, want scores s0.replica1 first", names(c.Series))
		}
		return
	}
	t.Error("no utilisation chart")
}

func names(ss []Series) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Name)
	}
	return out
}

// Nice numbers: 1-2-5 steps, thousands separated, no trailing zeros.
func TestTickFormatting(t *testing.T) {
	for _, c := range []struct {
		v, step float64
		want    string
	}{{25000, 5000, "25,000"}, {0.5, 0.5, "0.5"}, {0.25, 0.25, "0.25"}, {2500000, 500000, "2.5M"}, {3e9, 1e9, "3B"}, {-1500, 500, "-1,500"}, {0, 0.1, "0"}} {
		if got := formatTick(c.v, c.step); got != c.want {
			t.Errorf("formatTick(%v, %v) = %q, want %q", c.v, c.step, got, c.want)
		}
	}
	ticks := linearTicks(0, 30000, 4)
	var got []string
	for _, tk := range ticks {
		got = append(got, tk.label)
	}
	if strings.Join(got, " ") != "0 10,000 20,000 30,000" {
		t.Errorf("ticks over 0..30000: %v", got)
	}
	got = nil
	for _, tk := range logTicks(1, 100) {
		got = append(got, tk.label)
	}
	if strings.Join(got, " ") != "1 2 5 10 20 50 100" {
		t.Errorf("log ticks over 1..100: %v", got)
	}
}

// The load chart's capacity line is the busiest path's: news-cache's
// Redis (one core) saturates long before web's sixteen cores.
func TestCapacityLineIsTheBusiestPaths(t *testing.T) {
	o := example(t, "news-cache")
	for _, c := range Charts(o) {
		if c.Name != "load" {
			continue
		}
		last := c.Series[len(c.Series)-1]
		if last.Name != "capacity (busiest: redis)" {
			t.Fatalf("load chart series %v, want the capacity of redis", names(c.Series))
		}
		b := o.Summary.Bottleneck
		for i, y := range last.Y {
			if y > b.CapacityRPS*1.0001 {
				t.Fatalf("capacity %v req/s at %v s, above redis's %v", y, last.X[i], b.CapacityRPS)
			}
		}
		return
	}
	t.Error("no load chart")
}

// Render never panics or hangs, whatever the numbers: NaN, infinities,
// huge and tiny values, empty series, on linear and log axes.
func FuzzRender(f *testing.F) {
	f.Add(0.0, 1.0, 2.0, 1e308, false, false)
	f.Add(-1e308, 1e308, 0.0, 5.0, true, false)
	f.Add(1e-300, 3.0, -7.0, 0.5, true, true)
	f.Fuzz(func(t *testing.T, a, b, c, level float64, logY, nines bool) {
		ch := Chart{Name: "f", Title: "fuzz", LogY: logY, Nines: nines,
			Series: []Series{{Name: "s", X: []float64{a, b, c}, Y: []float64{c, a, b}, Lo: []float64{a, a, a}, Hi: []float64{b, b, b}},
				{Name: "dots", X: []float64{b}, Y: []float64{a}, Scatter: true}},
			Lines: []Level{{Label: "limit", Y: level}}, Marks: []Mark{{Label: "m", X: a, Y: b}},
			Spans: []Span{{Label: "warm-up", From: a, To: b}}}
		if _, err := Render(ch, "svg"); err != nil {
			t.Fatal(err)
		}
		heat := Chart{Name: "h", Title: "fuzz", Grid: &Grid{Columns: []string{"a", "b"}, Rows: []string{"r"}, Log: logY,
			Values: [][]float64{{a, level}, {b, c}}, Missed: [][]bool{{nines}}}} // a row beyond Rows: ignored
		if _, err := Render(heat, "svg"); err != nil {
			t.Fatal(err)
		}
	})
}

// The timeline has a lane per autoscaled fleet with a mark at each
// decision that changed it (down for a scale-in), and a lane per fault
// with its bar; a run with neither has none.
func TestTimeline(t *testing.T) {
	find := func(o *experiments.Outcome) *Chart {
		for _, c := range Charts(o) {
			if c.Name == "timeline" {
				return &c
			}
		}
		return nil
	}
	o := example(t, "cpu-threshold-scaling")
	tl := find(o)
	if tl == nil {
		t.Fatal("cpu-threshold-scaling has autoscaler decisions, and no timeline")
	}
	changes, downs := 0, 0
	for _, d := range o.Series.Decisions {
		if d.From != d.To {
			changes++
			if d.To < d.From {
				downs++
			}
		}
	}
	gotDowns := 0
	for _, m := range tl.Marks {
		if m.Down {
			gotDowns++
		}
	}
	if len(tl.Rows) != 1 || tl.Rows[0] != "web" || len(tl.Marks) != changes || gotDowns != downs || downs == 0 {
		t.Fatalf("timeline %+v: want web's %d changes, %d of them down", tl, changes, downs)
	}
	g := find(example(t, "global-api", "run.duration=7m"))
	if g == nil || len(g.Bars) != 1 || g.Bars[0].From != 300 || g.Bars[0].To != 420 || g.Rows[g.Bars[0].Row] != "outage api, catalog" {
		t.Errorf("global-api timeline %+v: want the eu-west outage's bar from 300 to 420 s", g)
	}
	if find(example(t, "news-cache")) != nil {
		t.Error("news-cache has no fault and no autoscaler, yet a timeline")
	}
}
