package experiments_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/capsim/capsim/examples"
	"github.com/capsim/capsim/experiments"
	"github.com/capsim/capsim/experiments/scenario"
	"github.com/capsim/capsim/output"
	"github.com/capsim/capsim/sim"
)

// FuzzRun runs whatever scenario the checker accepts — a few simulated
// seconds, at most half a second of wall time — and holds it to the
// invariants every run must keep (conservation, Little's law, utilisation
// within [0, 1], every part of every time split ≥ 0 and adding up, no more
// cpu counted than the cores spent, …), then builds its summary, text, Markdown and charts:
// a scenario the checker lets through must never panic or break them.
func FuzzRun(f *testing.F) {
	for _, n := range examples.Names() {
		data, _ := examples.Get(n)
		f.Add(data)
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "scenarios", "*.toml"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := scenario.Parse("fuzz.toml", data, nil, nil)
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		o, err := experiments.Run(sc, experiments.Options{Duration: min(sc.Config.Duration, 5*sim.Second), Context: ctx})
		if errors.Is(err, context.DeadlineExceeded) {
			return // too big to finish here; not a failure
		}
		if err != nil {
			if o == nil {
				return // a run stopped with an error (the memory guard): said, not a panic
			}
		}
		if o == nil {
			t.Fatal("no outcome and no error")
		}
		if err := o.InvariantError(); err != nil {
			t.Fatalf("invariants: %v", err)
		}
		if _, err := output.JSON(o.Summary); err != nil {
			t.Fatalf("summary.json: %v", err)
		}
		if err := output.Text(io.Discard, o); err != nil {
			t.Fatalf("text: %v", err)
		}
		if err := output.Markdown(io.Discard, o); err != nil {
			t.Fatalf("markdown: %v", err)
		}
		output.Charts(o)
	})
}
