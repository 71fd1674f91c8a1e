package experiments

import (
	"context"
	"time"

	"github.com/capsim/capsim/experiments/scenario"
	"github.com/capsim/capsim/model"
	"github.com/capsim/capsim/sim"
)

// Options adjust a run without editing the scenario.
type Options struct {
	// Seed replaces the scenario's seed when non-nil.
	Seed *uint64
	// Duration replaces the scenario's duration when > 0.
	Duration sim.Time
	// Progress, when set, is called every tenth of a second of wall time
	// during the run, and at its end, with the simulated time reached, the
	// run's length, and the events delivered so far.
	Progress func(done, total time.Duration, events uint64)
	// Context, when set, stops the run early with its error: it is looked
	// at every 131,072 events, a few milliseconds of wall time.
	Context context.Context
}

// eventsPerCheck is how many events a run delivers between two looks at
// its context and the wall clock: about 10–30 ms of work.
const eventsPerCheck = 1 << 17

// progressEvery is how often a run reports its progress.
const progressEvery = 100 * time.Millisecond

// Outcome is one run: the raw model result, its summary (summary.json)
// and its time series (timeseries.csv, decisions.csv, the charts).
type Outcome struct {
	Config  *model.Config
	Result  *model.Result
	Summary *Summary
	Series  *Series
}

// Run simulates the scenario once.
func Run(sc *scenario.Scenario, opts Options) (*Outcome, error) {
	cfg := *sc.Config
	if opts.Duration > 0 {
		cfg.Duration = opts.Duration
		if cfg.Warmup >= cfg.Duration {
			cfg.Warmup = 0
		}
	}
	seed := cfg.Seed
	if opts.Seed != nil {
		seed = *opts.Seed
		cfg.Seed = seed
	}
	s, err := model.New(&cfg, seed)
	if err != nil {
		return nil, err
	}
	var r *model.Result
	if opts.Progress == nil && opts.Context == nil {
		r = s.Run()
	} else {
		// In installments of events, so that a cancellation is seen within
		// a few milliseconds of wall time whatever the scenario, and the
		// progress is reported every tenth of a second (the wall clock is
		// read here, never in the engine: the run is the same).
		s.Start()
		last := time.Now()
		for !s.RunFor(cfg.Duration, eventsPerCheck) {
			if opts.Context != nil {
				if err := opts.Context.Err(); err != nil {
					return nil, err
				}
			}
			if opts.Progress != nil && time.Since(last) >= progressEvery {
				last = time.Now()
				opts.Progress(time.Duration(s.Now()), time.Duration(cfg.Duration), s.Events())
			}
		}
		if opts.Progress != nil {
			opts.Progress(time.Duration(s.Now()), time.Duration(cfg.Duration), s.Events())
		}
		r = s.Finish()
	}
	if err := s.Err(); err != nil {
		return nil, err
	}
	series := newSeries(&cfg, r)
	sum := summarize(&cfg, sloSpecs(sc.SLO), seed, r)
	sum.Faults = faultSummaries(disruptions(&cfg, r), series)
	return &Outcome{Config: &cfg, Result: r, Summary: sum, Series: series}, nil
}

func sloSpecs(s scenario.SLO) []sloSpec {
	out := make([]sloSpec, 0, len(s.Objectives))
	for _, o := range s.Objectives {
		out = append(out, sloSpec{name: o.Name(), scope: o.Scope, stat: o.Stat, quantile: o.Quantile, limit: o.Limit, latency: o.Latency()})
	}
	return out
}
