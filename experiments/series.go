package experiments

import (
	"slices"

	"github.com/capsim/capsim/model"
)

// Series is a run's time series and autoscaler decisions in the results
// contract's units (seconds, milliseconds, requests per second): what
// timeseries.csv and decisions.csv hold and the report charts draw.
// Renderers need nothing else of the model.
type Series struct {
	DurationS, MeasuredS, WarmupS float64
	// Components are the run's components sorted by name, with what their
	// columns hold.
	Components []SeriesComponent
	Traffic    []string // traffic source names, in scenario order
	Windows    []Window
	Decisions  []Decision
	// Arrived and Completed count the measured requests; the latency
	// spectrum rests on the completed ones.
	Arrived, Completed int64
	// HasRetries says whether a call step can retry (the retry columns
	// exist).
	HasRetries bool
	quantile   func(q float64) float64
}

// SeriesComponent describes one component's columns, and the run means a
// chart needs of it.
type SeriesComponent struct {
	Name, Kind string
	Fleet      bool     // has instances and utilisation
	Cache      bool     // has a hit ratio
	Broker     bool     // a queue: lag and message age instead of calls
	Function   bool     // a function: environments and cold starts
	Nodes      []string // database nodes, named s0.primary, s0.replica1, …
	Autoscaled bool
	Cores      int
	// Run means (unrounded): utilisation and instances asked for.
	Utilization, InstancesMean float64
}

// Window is one row of the time series: [StartS, StartS+LengthS).
type Window struct {
	StartS, LengthS                      float64
	ArrivalsRPS, CompletedRPS, ErrorsRPS float64
	RetriesRPS                           float64
	P50MS, P95MS, P99MS                  float64
	InFlight                             float64
	CostUSD                              float64 // cost so far, at the window's end
	Components                           []ComponentWindow
}

// ComponentWindow is one component's part of a Window, in
// Series.Components order.
type ComponentWindow struct {
	Instances, Ready int // asked for and ready, at the window's end
	Utilization      float64
	Queue            float64
	P99MS            float64
	Rejected         int64
	HitRatio         float64   // caches: hits / lookups in the window (NaN: no lookup)
	Lag              float64   // queues: messages waiting, time-averaged
	AgeP99MS         float64   // queues: p99 of publish → consumption start
	ColdStarts       int64     // functions: environments started in the window
	Nodes            []float64 // databases: utilisation of each node
}

// Decision is one autoscaler decision, with the reason string the real
// controller would give.
type Decision struct {
	AtS               float64
	Component, Policy string
	From, To          int
	Reason            string
}

// LatencyQuantileMS is the q-quantile of the whole run's latency of
// completed requests, in ms.
func (s *Series) LatencyQuantileMS(q float64) float64 { return s.quantile(q) }

// newSeries converts a run's windows and decisions.
func newSeries(cfg *model.Config, r *model.Result) *Series {
	s := &Series{
		DurationS: r.Duration.Seconds(), MeasuredS: r.Measured.Seconds(), WarmupS: cfg.Warmup.Seconds(),
		Arrived: r.Requests.Arrived, Completed: r.LatencyHist.Count(),
		quantile: func(q float64) float64 { return r.LatencyHist.Quantile(q).Millis() },
	}
	order := make([]int, len(r.Components))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmpString(r.Components[a].Name, r.Components[b].Name)
	})
	for _, i := range order {
		c := r.Components[i]
		sc := SeriesComponent{Name: c.Name, Kind: string(c.Kind), Cache: c.Cache != nil, Broker: c.Broker != nil, Function: c.Function != nil, Cores: c.Cores,
			Utilization: c.Utilization, InstancesMean: c.Instances.Mean}
		if k := cfg.Find(c.Name); k != nil && k.FleetConfig() != nil {
			sc.Fleet = true
			sc.Autoscaled = k.FleetConfig().Autoscale != nil
		} else if k != nil && k.Kind() == model.KindNodePool { // nodes, their requested cpu, pending pods
			sc.Fleet, sc.Autoscaled = true, true
		}
		if c.Database != nil {
			sc.Nodes = nodeNames(c.Database)
		}
		s.Components = append(s.Components, sc)
	}
	for _, t := range r.Traffic {
		s.Traffic = append(s.Traffic, t.Name)
	}
	s.HasRetries = hasRetries(cfg)
	for _, w := range r.Windows {
		secs := w.Length.Seconds()
		sw := Window{
			StartS: w.Start.Seconds(), LengthS: secs,
			ArrivalsRPS: float64(w.Arrivals) / secs, CompletedRPS: float64(w.Completed) / secs, ErrorsRPS: float64(w.Errors) / secs,
			RetriesRPS: float64(w.Retries) / secs,
			P50MS:      w.P50.Millis(), P95MS: w.P95.Millis(), P99MS: w.P99.Millis(),
			InFlight: w.InFlight, CostUSD: w.CostUSD,
		}
		for _, i := range order {
			cw := w.Components[i]
			sw.Components = append(sw.Components, ComponentWindow{
				Instances: cw.Instances, Ready: cw.Ready, Utilization: cw.Utilization, Queue: cw.Queue,
				P99MS: cw.P99.Millis(), Rejected: cw.Rejected, HitRatio: cw.HitRatio, Nodes: cw.Nodes,
				Lag: cw.Lag, AgeP99MS: cw.AgeP99.Millis(), ColdStarts: cw.ColdStarts,
			})
		}
		s.Windows = append(s.Windows, sw)
	}
	for _, d := range r.Decisions {
		s.Decisions = append(s.Decisions, Decision{AtS: d.At.Seconds(), Component: d.Component, Policy: d.Policy, From: d.From, To: d.To, Reason: d.Reason})
	}
	return s
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// nodeNames are the names of a database's nodes.
func nodeNames(d *model.DatabaseResult) []string {
	var names []string
	for _, n := range d.Nodes {
		names = append(names, n.Name)
	}
	return names
}

// hasRetries says whether any call step of cfg can retry.
func hasRetries(cfg *model.Config) bool {
	var retries func(steps []model.Step) bool
	retries = func(steps []model.Step) bool {
		for _, st := range steps {
			if st.Retries > 0 || retries(st.Branches) {
				return true
			}
		}
		return false
	}
	for _, c := range cfg.Components {
		for _, e := range c.EndpointConfigs() {
			if retries(e.Steps) {
				return true
			}
		}
	}
	return false
}
