package output

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/capsim/capsim/experiments"
)

var sample = regexp.MustCompile(`^(capsim_[a-z_]+)\{([^}]*)\} (\S+) (\S+)$`)

// Every timeseries.csv column is in metrics.om with the same values, one
// sample per window at the window's end; the file ends in # EOF.
func TestOpenMetricsHasEveryColumn(t *testing.T) {
	for _, o := range []*testOutcome{{"shop", shop(t)}, {"leaderboard-shards", example(t, "leaderboard-shards")}} {
		start := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
		om, err := OpenMetrics(o.o, start)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasSuffix(om, []byte("# EOF\n")) {
			t.Errorf("%s: metrics.om does not end in # EOF", o.name)
		}
		got := map[string]map[string]string{} // series → timestamp → value
		sc := bufio.NewScanner(bytes.NewReader(om))
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "#") {
				continue
			}
			m := sample.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("%s: not a sample: %q", o.name, line)
			}
			key := m[1] + "{" + m[2] + "}"
			if got[key] == nil {
				got[key] = map[string]string{}
			}
			got[key][m[4]] = m[3]
		}
		table, _ := csv.NewReader(bytes.NewReader(TimeseriesCSV(o.o))).ReadAll()
		scen := `scenario="` + o.o.Summary.Scenario + `"`
		for col, h := range table[0][1:] {
			key := seriesOf(h, scen)
			series, ok := got[key]
			if !ok {
				t.Errorf("%s: column %s: no series %s in metrics.om", o.name, h, key)
				continue
			}
			for i, row := range table[1:] {
				w := o.o.Series.Windows[i]
				ts := strconv.FormatFloat(float64(start.Add(time.Duration((w.StartS+w.LengthS)*1e9)).UnixMilli())/1000, 'f', -1, 64)
				if v := row[col+1]; series[ts] != v {
					t.Errorf("%s: %s at %s: %q in metrics.om, %q in timeseries.csv", o.name, h, ts, series[ts], v)
					break
				}
			}
		}
	}
}

type testOutcome struct {
	name string
	o    *experiments.Outcome
}

// seriesOf is the series a timeseries.csv column becomes, as
// docs/grafana.md names them.
func seriesOf(col, scen string) string {
	if p, ok := strings.CutSuffix(col, "_ms"); ok && strings.HasPrefix(p, "p") && !strings.Contains(p, ".") {
		return `capsim_latency_ms{` + scen + `,percentile="` + p[1:] + `"}`
	}
	comp, field, ok := strings.Cut(col, ".")
	if !ok {
		return "capsim_" + col + "{" + scen + "}"
	}
	c := `component="` + comp + `"`
	switch {
	case strings.Count(field, ".") == 2: // s0.replica1.utilization
		return `capsim_node_utilization{` + scen + `,` + c + `,node="` + strings.TrimSuffix(field, ".utilization") + `"}`
	case field == "p99_ms":
		return `capsim_component_latency_ms{` + scen + `,` + c + `,percentile="99"}`
	case field == "age_p99_ms":
		return `capsim_component_message_age_ms{` + scen + `,` + c + `,percentile="99"}`
	}
	return "capsim_component_" + field + "{" + scen + "," + c + "}"
}

// promtool (Prometheus' own tool, installed by .ci/run) backfills
// metrics.om into a TSDB block. Skipped where it is not installed.
func TestPromtoolAcceptsMetrics(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed (.ci/run installs the Debian package prometheus)")
	}
	om, err := OpenMetrics(example(t, "leaderboard-shards"), DefaultMetricsStart)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "metrics.om")
	if err := os.WriteFile(file, om, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", file, filepath.Join(dir, "data")).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "NUM SAMPLES") {
		t.Errorf("promtool wrote no block:\n%s", out)
	}
}

// The Grafana dashboard is JSON whose queries name metrics metrics.om has,
// over the run's time range.
func TestGrafanaDashboard(t *testing.T) {
	o := example(t, "leaderboard-shards")
	start := DefaultMetricsStart
	var d struct {
		UID    string
		Time   struct{ From, To string }
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(GrafanaDashboard(o, start), &d); err != nil {
		t.Fatal(err)
	}
	om, _ := OpenMetrics(o, start)
	if len(d.Panels) < 6 || d.Time.From != "2000-01-01T00:00:00Z" || d.Time.To != "2000-01-01T00:02:00Z" {
		t.Errorf("dashboard %+v", d)
	}
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			metric := tg.Expr[:strings.IndexByte(tg.Expr, '{')]
			if !bytes.Contains(om, []byte("\n"+metric+"{")) {
				t.Errorf("panel %s queries %s, which metrics.om lacks", p.Title, metric)
			}
		}
	}
}
