package experiments_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/capsim/capsim/experiments"
	"github.com/capsim/capsim/model"
	"github.com/capsim/capsim/sim"
)

// hpaScenario: λ requests/s of const(10 ms) cpu on 1-core instances behind
// a balancer, an HPA on cpu at target, from `from` instances.
func hpaScenario(lambda float64, from int, target float64, extra string) string {
	return fmt.Sprintf(`
[run]
duration = "40m"
window = "15s"
[traffic.in]
to = "lb"
rate = %v
%s
[balancer.lb]
to = "web"
algorithm = "least_connections"
[service.web]
instances = %d
start_delay = "20s"
price_per_hour = 0.1
steps = [ { cpu = "const(10ms)" } ]
autoscale = { policy = "hpa", target = %v, min = 1, max = 60 }
`, lambda, extra, from, target)
}

// checkDecisions replays the decisions: every change stays within
// [min, max] and within the default scale-up rate limit (max(4 pods,
// 100 %) per 15 s, counted from the replicas 15 s before).
func checkDecisions(t *testing.T, o *experiments.Outcome, name string, minR, maxR int) {
	t.Helper()
	type ev struct {
		at     sim.Time
		change int
	}
	var ups, downs []ev
	for _, d := range o.Result.Decisions {
		if d.Component != name {
			continue
		}
		if d.To < minR || d.To > maxR {
			t.Errorf("t=%v: %d instances outside [%d, %d]", d.At, d.To, minR, maxR)
		}
		if d.To > d.From {
			added, removed := 0, 0
			for _, e := range ups {
				if e.at > d.At-15*sim.Second {
					added += e.change
				}
			}
			for _, e := range downs {
				if e.at > d.At-15*sim.Second {
					removed += e.change
				}
			}
			start := d.From - added + removed
			if limit := max(start+4, 2*start); d.To > limit {
				t.Errorf("t=%v: %d → %d exceeds the scale-up limit %d", d.At, d.From, d.To, limit)
			}
			ups = append(ups, ev{d.At, d.To - d.From})
		} else if d.To < d.From {
			downs = append(downs, ev{d.At, d.From - d.To})
		}
	}
}

// Closed loop: a constant cpu demand of D cores at target u settles at
// ceil(D/u) instances (10 cores at 50 % → 20), whatever the starting size,
// and stays there.
func TestHPASettles(t *testing.T) {
	t.Parallel()
	for _, from := range []int{2, 40} {
		o := runTOML(t, hpaScenario(1000, from, 0.5, ""))
		checkDecisions(t, o, "web", 1, 60)
		w := o.Summary.Components["web"]
		if w.Instances.Final != 20 {
			t.Errorf("from %d: settled at %d instances, want 20 (decisions %v)", from, w.Instances.Final, o.Result.Decisions)
		}
		// The last 10 minutes see no scale event.
		for _, d := range o.Result.Decisions {
			if d.At > 30*sim.Minute && d.From != d.To {
				t.Errorf("from %d: still scaling at %v: %+v", from, d.At, d)
			}
		}
	}
}

// After a load drop, no scale-down happens before the 300 s stabilisation
// window has passed; with the window set to 0 it happens at the next syncs.
func TestHPAScaleDownWaitsForStabilization(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		set      string
		earliest sim.Time
		latest   sim.Time
	}{
		{"", 20*sim.Minute + 300*sim.Second, 20*sim.Minute + 360*sim.Second},
		{"service.web.autoscale.scale_down.stabilization=0s", 20 * sim.Minute, 20*sim.Minute + 45*sim.Second},
	} {
		src := hpaScenario(1000, 20, 0.5, `stop = "20m"`) + `
[traffic.low]
to = "lb"
rate = 250
`
		var sets []string
		if c.set != "" {
			sets = append(sets, c.set)
		}
		o := runTOML(t, src, sets...)
		checkDecisions(t, o, "web", 1, 60)
		var first *model.Decision
		for i, d := range o.Result.Decisions {
			if d.To < d.From {
				first = &o.Result.Decisions[i]
				break
			}
		}
		if first == nil {
			t.Fatalf("%q: never scaled down", c.set)
		}
		if first.At < c.earliest || first.At > c.latest {
			t.Errorf("%q: first scale-down at %v, want within [%v, %v]", c.set, first.At, c.earliest, c.latest)
		}
		if c.set == "" {
			// Before it, the controller reported the recommendation held back.
			held := false
			for _, d := range o.Result.Decisions {
				held = held || (d.At > 20*sim.Minute && d.At < first.At && d.Reason == "ScaleDownStabilized")
			}
			if !held {
				t.Error("no ScaleDownStabilized decision while waiting")
			}
		}
		// 1250 → 250 requests/s: 2.5 cores at 50 % → 5 instances at the end.
		if f := o.Summary.Components["web"].Instances.Final; f != 5 {
			t.Errorf("%q: %d instances at the end, want 5", c.set, f)
		}
	}
}

// With a price per core, an instance costs price_per_hour + cores ×
// price_per_core_hour: 3 × 4-core instances at $0.05 + 4 × $0.04 for an
// hour cost 3 × 0.21 = $0.63, so plans over cores see what cores cost.
func TestPricePerCore(t *testing.T) {
	t.Parallel()
	o := runTOML(t, `
[run]
duration = "1h"
window = "1m"
[traffic.in]
to = "web"
rate = 10
[service.web]
instances = 3
cores = 4
price_per_hour = 0.05
price_per_core_hour = 0.04
steps = [ { cpu = "exp(1ms)" } ]
`)
	if c := o.Summary.Components["web"].CostUSD; math.Abs(c-0.63) > 1e-9 {
		t.Errorf("web cost %v, want 3 × (0.05 + 4 × 0.04) = 0.63", c)
	}
}

// A fixed fleet costs instances × hours × price, exactly.
func TestFixedFleetCost(t *testing.T) {
	t.Parallel()
	o := runTOML(t, `
[run]
duration = "1h"
window = "1m"
[traffic.in]
to = "web"
rate = 10
[balancer.lb]
to = "web"
price_per_hour = 0.03
[service.web]
instances = 3
price_per_hour = 0.2
steps = [ { cpu = "exp(1ms)" } ]
`)
	if c := o.Summary.Components["web"].CostUSD; c != 0.6 {
		t.Errorf("web cost %v, want 3 × 1 h × 0.2 = 0.6", c)
	}
	if c := o.Summary.Cost.TotalUSD; math.Abs(c-0.63) > 1e-9 {
		t.Errorf("total cost %v, want 0.63", c)
	}
	if last := o.Result.Windows[len(o.Result.Windows)-1].CostUSD; math.Abs(last-0.63) > 1e-9 {
		t.Errorf("cost so far at the end %v, want 0.63", last)
	}
}

// The embedded threshold example: no two scale events closer than the
// cooldown, instances within [min, max], and without the cooldown the
// fleet follows the load more closely (lower p99).
func TestThresholdExampleCooldown(t *testing.T) {
	t.Parallel()
	src, _ := examplesGet("cpu-threshold-scaling")
	with := runTOML(t, string(src))
	var last sim.Time = -sim.Hour
	for _, d := range with.Result.Decisions {
		if d.To < 2 || d.To > 20 {
			t.Errorf("%+v outside [2, 20]", d)
		}
		if d.To != d.From {
			if d.At-last < 300*sim.Second {
				t.Errorf("scaled at %v and again at %v, within the 300 s cooldown", last, d.At)
			}
			last = d.At
		}
	}
	without := runTOML(t, string(src), "service.web.autoscale.cooldown=0s")
	if w, wo := with.Summary.Latency.P99, without.Summary.Latency.P99; wo >= w {
		t.Errorf("p99 without cooldown %v ms, not below %v ms with it", wo, w)
	}
	if with.Summary.Components["web"].ScaleEvents >= without.Summary.Components["web"].ScaleEvents {
		t.Error("the cooldown did not reduce the number of scale events")
	}
}

// Scheduled actions change the bounds and the count at their time.
func TestScheduledActions(t *testing.T) {
	t.Parallel()
	o := runTOML(t, `
[run]
duration = "20m"
window = "1m"
[traffic.in]
to = "web"
rate = 50
[service.web]
instances = 2
steps = [ { cpu = "exp(10ms)" } ]
autoscale = { policy = "schedule", min = 2, max = 40, schedule = [ { at = "5m", min = 10 }, { at = "15m", min = 2, instances = 3 } ] }
`)
	var got []string
	for _, d := range o.Result.Decisions {
		got = append(got, fmt.Sprintf("%v %d→%d %s", d.At, d.From, d.To, d.Reason))
	}
	want := []string{"5m0s 2→10 ScheduledAction", "15m0s 10→3 ScheduledAction"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("decisions %v, want %v", got, want)
	}
	// 10 instances for 10 of 20 minutes, 2 for 5, 3 for 5: mean 6.25.
	if m := o.Summary.Components["web"].Instances.Mean; math.Abs(m-6.25) > 1e-9 {
		t.Errorf("mean instances %v, want 6.25", m)
	}
}

// Step scaling in the loop: scale-outs follow the steps, never beyond max,
// and new instances count towards the step while they warm up, so no two
// scale-outs come closer than start delay + warm-up.
func TestStepScalingLoop(t *testing.T) {
	t.Parallel()
	o := runTOML(t, `
[run]
duration = "60m"
window = "1m"
[traffic.users]
to = "web"
start_rate = 60
stages = [ { duration = "20m", target = 500 }, { duration = "10m", target = 500 }, { duration = "20m", target = 60 }, { duration = "10m", target = 60 } ]
[service.web]
instances = 2
cores = 2
start_delay = "90s"
steps = [ { cpu = "gamma(mean=20ms, cv=0.8)" } ]
[service.web.autoscale]
policy = "step"
min = 2
max = 20
warmup = "120s"
scale_up = { above = 0.6, for = "2m", min_adjustment = 1, steps = [ { upper = 0.2, change = "20%" }, { lower = 0.2, change = "50%" } ] }
scale_down = { below = 0.35, for = "5m", steps = [ { change = -1 } ] }
`)
	var lastUp sim.Time = -sim.Hour
	ups, downs := 0, 0
	for _, d := range o.Result.Decisions {
		if d.To < 2 || d.To > 20 {
			t.Errorf("%+v outside [2, 20]", d)
		}
		switch {
		case d.To > d.From:
			ups++
			if d.At-lastUp < 210*sim.Second {
				t.Errorf("scale-outs at %v and %v, within start delay + warm-up", lastUp, d.At)
			}
			lastUp = d.At
		case d.To < d.From:
			downs++
			if d.From-d.To != 1 {
				t.Errorf("scale-in by %d, the step says 1", d.From-d.To)
			}
		default:
			t.Errorf("a step decision without a change: %+v", d)
		}
	}
	if ups == 0 || downs == 0 || o.Summary.Components["web"].Instances.Final != 2 {
		t.Errorf("%d scale-outs, %d scale-ins, ending at %d", ups, downs, o.Summary.Components["web"].Instances.Final)
	}
}

// HPA metrics = [cpu, rps]: the largest recommendation wins. 400 req/s of
// 1 ms each on 1-core pods is 40 % cpu on one pod — under a 60 % target,
// so cpu alone keeps 1 pod — but 400 rps against 80 per pod asks for 5 at
// the first sync. (The next sync overshoots to 7, as a real HPA would: the
// old pod's 15 s rate window still holds 7.5 s at 400/s.)
func TestHPACPUAndRPS(t *testing.T) {
	t.Parallel()
	src := `
[run]
duration = "300s"
[traffic.in]
to = "api"
rate = 400
arrivals = "uniform"
[service.api]
steps = [ { cpu = "const(1ms)" } ]
`
	o := runTOML(t, src+`autoscale = { policy = "hpa", metric = "cpu", target = 0.6, max = 10 }`+"\n")
	if in := o.Summary.Components["api"].Instances; in.Max != 1 {
		t.Errorf("cpu alone: instances %+v, want 1 throughout", in)
	}
	o = runTOML(t, src+`autoscale = { policy = "hpa", metrics = [ { metric = "cpu", target = 0.6 }, { metric = "rps", target = 80 } ], max = 10 }`+"\n")
	d := o.Series.Decisions
	if len(d) < 2 || d[0].AtS != 22.5 || d[0].From != 1 || d[0].To != 5 || d[1].To != 7 {
		t.Errorf("cpu + rps: decisions %+v, want 1 → 5 at 22.5 s, then 7", d[:min(len(d), 3)])
	}
}

// A node pool at its maximum: one 8-core node holds four 2-core pods. The
// HPA, saturated, asks for more; the extra pods stay Pending — not ready,
// not billed (the node is) — and, as in Kubernetes, the HPA ignores them
// in its calculation: 4 ready pods at 100 % against a 60 % target ask for
// ceil(4 × 100/60) = 7 replicas, and keep asking for 7, not more.
func TestPendingPods(t *testing.T) {
	t.Parallel()
	o := runTOML(t, `
[run]
duration = "10m"
window = "10s"
[traffic.in]
to = "web"
rate = 1000
[nodepool.general]
cores = 8
memory_gb = 32
price_per_hour = 0.384
min = 1
max = 1
[service.web]
cores = 2
nodepool = "general"
pod = { cpu = 2, memory_gb = 4 }
instances = 2
queue = 100
price_per_hour = 1000
steps = [ { cpu = "exp(20ms)" } ]
autoscale = { policy = "hpa", target = 0.6, max = 30 }
`)
	web, pool := o.Summary.Components["web"], o.Summary.Components["general"]
	if web.Instances.Max != 7 || web.Instances.Final != 7 {
		t.Errorf("web replicas %+v: want 7 (4 ready at 100 %% / 60 %%), never more", web.Instances)
	}
	last := o.Series.Windows[len(o.Series.Windows)-1]
	w, g := last.Components[indexOf(o, "web")], last.Components[indexOf(o, "general")]
	if w.Ready != 4 || g.Queue != 3 || g.Instances != 1 {
		t.Errorf("at the end: %d web pods ready, %.1f pending, %d nodes; want 4, 3, 1", w.Ready, g.Queue, g.Instances)
	}
	if web.CostUSD != 0 || math.Abs(pool.CostUSD-0.384*10.0/60) > 1e-6 || math.Abs(o.Summary.Cost.TotalUSD-0.384*10.0/60) > 1e-4 {
		t.Errorf("cost: web $%v, pool $%v, total $%v; want the node only, $%.4f", web.CostUSD, pool.CostUSD, o.Summary.Cost.TotalUSD, 0.384*10.0/60)
	}
	// Requested cpu: the 2 first pods (half the node) until the first sync
	// asks for 4 at 22.5 s, then the whole node.
	d := o.Series.Decisions
	if len(d) < 2 || d[0].AtS != 22.5 || d[0].To != 4 || d[1].To != 7 {
		t.Fatalf("decisions %+v: want 2 → 4 at 22.5 s, then 7", d[:min(3, len(d))])
	}
	if u, want := *pool.Utilization, 1-0.5*22.5/600; math.Abs(u-want) > 1e-3 {
		t.Errorf("node cpu requested %.4f of allocatable, want %.4f", u, want)
	}
}

// The Cluster Autoscaler: pods that fit on no node make it add a node at
// its next scan, which joins after the provisioning delay and takes them;
// a node left empty is removed once it has been under-used for the
// unneeded time (10 min). One 8-core node holds two 4-core pods; a
// scheduled action asks for 4 at 60 s and for 2 again at 300 s.
func TestClusterAutoscaler(t *testing.T) {
	t.Parallel()
	o := runTOML(t, `
[run]
duration = "20m"
window = "10s"
[traffic.in]
to = "web"
rate = 10
[nodepool.general]
cores = 8
price_per_hour = 0.36
min = 1
max = 3
provision = "90s"
[service.web]
cores = 4
nodepool = "general"
pod = { cpu = 4, memory_gb = 8 }
instances = 2
steps = [ { cpu = "exp(10ms)" } ]
autoscale = { policy = "schedule", min = 2, max = 4, schedule = [ { at = "60s", min = 4 }, { at = "300s", min = 2, instances = 2 } ] }
`)
	at := func(s float64) (nodes int, ready int, pending float64) {
		for _, w := range o.Series.Windows {
			if w.StartS == s {
				g, web := w.Components[indexOf(o, "general")], w.Components[indexOf(o, "web")]
				return g.Instances, web.Ready, g.Queue
			}
		}
		t.Fatalf("no window at %v s", s)
		return
	}
	for _, c := range []struct {
		s             float64
		nodes, ready  int
		pendingMeanIn float64
	}{
		{40, 1, 2, 0}, {60, 2, 2, 2}, {140, 2, 2, 2}, {150, 2, 4, 0}, {300, 2, 2, 0}, {890, 2, 2, 0}, {900, 1, 2, 0},
	} {
		if n, r, p := at(c.s); n != c.nodes || r != c.ready || p != c.pendingMeanIn {
			t.Errorf("window at %v s: %d nodes, %d pods ready, %.1f pending; want %d, %d, %.0f", c.s, n, r, p, c.nodes, c.ready, c.pendingMeanIn)
		}
	}
	// Billed: one node for 20 minutes, the second from 60 s to 900 s.
	if got, want := o.Summary.Cost.TotalUSD, 0.36*(1200+840)/3600.0; math.Abs(got-want) > 1e-4 {
		t.Errorf("cost $%.4f, want $%.4f", got, want)
	}
}

// Consolidation: a node under the utilisation threshold for the unneeded
// time whose pods fit elsewhere is drained — its pods evicted and started
// again on another node — and removed. Five 2-core pods start on two
// 8-core nodes, spread as kube-scheduler's LeastAllocated does (three and
// two); at 60 s the service shrinks to its 2 oldest pods, one per node
// (25 % each). At the
// first scan 10 minutes later the first node is drained: its pod moves to
// the second node, ready after its 20 s start delay.
func TestClusterAutoscalerConsolidates(t *testing.T) {
	t.Parallel()
	o := runTOML(t, `
[run]
duration = "20m"
window = "10s"
[traffic.in]
to = "web"
rate = 10
arrivals = "uniform"
[nodepool.general]
cores = 8
price_per_hour = 0.36
min = 1
max = 3
[service.web]
cores = 2
nodepool = "general"
pod = { cpu = 2, memory_gb = 4 }
instances = 5
start_delay = "20s"
steps = [ { cpu = "const(10ms)" } ]
autoscale = { policy = "schedule", min = 2, max = 5, schedule = [ { at = "60s", min = 2, instances = 2 } ] }
`)
	at := func(s float64) (nodes, ready int) {
		for _, w := range o.Series.Windows {
			if w.StartS == s {
				return w.Components[indexOf(o, "general")].Instances, w.Components[indexOf(o, "web")].Ready
			}
		}
		t.Fatalf("no window at %v s", s)
		return
	}
	for _, c := range []struct {
		s            float64
		nodes, ready int
	}{{50, 2, 5}, {70, 2, 2}, {650, 2, 2}, {660, 1, 1}, {670, 1, 1}, {680, 1, 2}, {1190, 1, 2}} {
		if n, r := at(c.s); n != c.nodes || r != c.ready {
			t.Errorf("window at %v s: %d nodes, %d pods ready; want %d, %d", c.s, n, r, c.nodes, c.ready)
		}
	}
	if pool := o.Summary.Components["general"]; pool.Instances.Final != 1 || *pool.Utilization > 0.5 {
		t.Errorf("pool %+v, cpu requested %.3f", pool.Instances, *pool.Utilization)
	}
}
