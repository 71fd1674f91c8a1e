package output

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/capsim/capsim/experiments"
	"github.com/capsim/capsim/experiments/scenario"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update after checking):\n--- got\n%s", path, got)
	}
}

func shop(t *testing.T) *experiments.Outcome {
	t.Helper()
	sc, err := scenario.Load("testdata/shop.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	o, err := experiments.Run(sc, experiments.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestGoldenOutputs(t *testing.T) {
	o := shop(t)
	var text bytes.Buffer
	if err := Text(&text, o); err != nil {
		t.Fatal(err)
	}
	golden(t, "shop.summary.txt", text.Bytes())
	js, err := JSON(o.Summary)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "shop.summary.json", js)
	golden(t, "shop.timeseries.csv", TimeseriesCSV(o))
	golden(t, "shop.decisions.csv", DecisionsCSV(o))
}

func TestNumberFormats(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4500: "-4,500"} {
		if got := thousands(in); got != want {
			t.Errorf("thousands(%d) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[float64]string{0: "0", 0.1234: "0.123", 5.678: "5.68", 123.45: "123.5", 98765.4: "98,765"} {
		if got := num(in); got != want {
			t.Errorf("num(%v) = %q, want %q", in, got, want)
		}
	}
}

// A fan-out with a parallel step and an async step: the summary shows the
// detached requests and the work nobody waited for.
func TestFanOutGolden(t *testing.T) {
	sc, err := scenario.Load("testdata/fanout.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	o, err := experiments.Run(sc, experiments.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var txt bytes.Buffer
	if err := Text(&txt, o); err != nil {
		t.Fatal(err)
	}
	golden(t, "fanout.summary.txt", txt.Bytes())
	js, err := JSON(o.Summary)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "fanout.summary.json", js)
}
