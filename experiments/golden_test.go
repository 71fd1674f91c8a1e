package experiments_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/capsim/capsim/examples"
	"github.com/capsim/capsim/experiments"
	"github.com/capsim/capsim/experiments/scenario"
	"github.com/capsim/capsim/output"
	"github.com/capsim/capsim/sim"
)

var update = flag.Bool("update", false, "rewrite the golden results in testdata/")

// goldenDurations shortens the examples whose full run is too slow for the
// test suite; every other example runs its whole duration. rtb-kafka's
// first 75 s hold the steady 30k bids/s, the scheduled scale-out and the
// start of the launch ramp.
var goldenDurations = map[string]time.Duration{
	"rtb-kafka": 75 * time.Second,
}

// golden is one pinned run: its summary.json, an excerpt of timeseries.csv
// (the header and at most goldenRows rows, evenly spaced, first and last
// included) and decisions.csv (the header and at most goldenRows rows).
type golden struct {
	Scenario   string          `json:"scenario"`
	Overrides  []string        `json:"overrides,omitempty"`
	Duration   string          `json:"duration"`
	GOARCH     string          `json:"goarch"`
	Summary    json.RawMessage `json:"summary"`
	Timeseries []string        `json:"timeseries"`
	Decisions  []string        `json:"decisions"`
}

const goldenRows = 40

// TestGoldenExamples pins the results of every embedded example: any byte of
// summary.json, of the time-series excerpt or of the decisions that changes
// fails the test. A change that is meant (a fixed bug, a new field)
// regenerates them with `go test ./experiments -run Golden -update`, and
// its commit names the fields that changed and why.
func TestGoldenExamples(t *testing.T) {
	for _, name := range examples.Names() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			src, _ := examples.Get(name)
			sc, err := scenario.Parse(name+".toml", src, nil, examples.Files())
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, sc, filepath.Join("testdata", "examples", name+".json"), name, nil, goldenDurations[name])
		})
	}
}

// TestGoldenScenarios runs every scenario in testdata/scenarios (each a
// case a bug or a feature made: what it pins is said at its top) and pins
// its results beside it, as the examples are. A first comment line
// "# overrides: PATH=VALUE PATH=VALUE" applies --set overrides.
func TestGoldenScenarios(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "scenarios", "*.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no scenario in testdata/scenarios")
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".toml")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var overrides []string
			if first, _, _ := bytes.Cut(src, []byte("\n")); bytes.HasPrefix(first, []byte("# overrides:")) {
				overrides = strings.Fields(string(first[len("# overrides:"):]))
			}
			sc, err := scenario.Parse(file, src, overrides, nil)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, sc, strings.TrimSuffix(file, ".toml")+".json", name, overrides, 0)
		})
	}
}

func checkGolden(t *testing.T, sc *scenario.Scenario, path, name string, overrides []string, d time.Duration) {
	t.Helper()
	o, err := experiments.Run(sc, experiments.Options{Duration: sim.Time(d)})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, o)
	sum, err := output.JSON(o.Summary)
	if err != nil {
		t.Fatal(err)
	}
	g := golden{
		Scenario: name, Overrides: overrides, Duration: o.Config.Duration.String(), GOARCH: runtime.GOARCH,
		Summary:    sum,
		Timeseries: excerpt(output.TimeseriesCSV(o)),
		Decisions:  excerpt(output.DecisionsCSV(o)),
	}
	got, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	var pinned golden
	if err := json.Unmarshal(want, &pinned); err == nil && pinned.GOARCH != runtime.GOARCH {
		// Sampling some distributions goes through math functions whose
		// last bit may differ between architectures (docs/results.md).
		t.Skipf("pinned on %s, running on %s", pinned.GOARCH, runtime.GOARCH)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: results differ from the pinned ones (%s); first difference:\n%s\nIf the change is meant, rerun with -update and name the fields in the commit.",
			name, path, firstDifference(want, got))
	}
}

// excerpt keeps a CSV's header and at most goldenRows of its rows, evenly
// spaced, the first and the last among them.
func excerpt(csv []byte) []string {
	lines := strings.Split(strings.TrimSuffix(string(csv), "\n"), "\n")
	header, rows := lines[0], lines[1:]
	if len(rows) <= goldenRows {
		return lines
	}
	out := []string{header}
	for i := range goldenRows {
		out = append(out, rows[i*(len(rows)-1)/(goldenRows-1)])
	}
	return out
}

// firstDifference shows the first line that differs, with its number.
func firstDifference(want, got []byte) string {
	wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\n  pinned: " + clip(w) + "\n  now:    " + clip(g)
		}
	}
	return "(none: only the length differs)"
}

func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}
