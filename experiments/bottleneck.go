package experiments

import (
	"cmp"
	"maps"
	"slices"
)

// Load is one resource's share of a run's work: the cores of a service or
// cache, or one database node.
type Load struct {
	// Name is the component's, with the node's for a database node
	// ("scores.s0.replica1").
	Name        string  `json:"name"`
	Component   string  `json:"component"`
	Kind        string  `json:"kind"` // the component's kind; "database node" for a node
	Utilization float64 `json:"utilization"`
	// CapacityRPS is the rate of arriving requests at which the resource
	// would be fully busy, with the instances it had on average: by the
	// utilisation law U = X·D, X_max = X / U (Denning and Buzen, "The
	// Operational Analysis of Queueing Network Models", 1978). It counts
	// how often requests reach the resource — cache hit ratios, fan-out,
	// retries, a hot shard — as the run measured it. For a saturated
	// resource it is the rate of requests the run got through.
	CapacityRPS float64 `json:"capacity_rps"`
	// Waiting is the mean number of calls waiting at the resource (for a
	// concurrency slot or a core), per instance; Saturated says it held a
	// queue no busy-but-coping station holds — at least saturatedWaiting
	// calls per core on average (an M/M/1 at 80 % holds 3.2) — whatever
	// its cores' utilisation: its slots are full, or its cores were for a
	// long while.
	Waiting   float64 `json:"waiting"`
	Saturated bool    `json:"saturated,omitempty"`
}

// saturatedWaiting is the mean queue per core beyond which a resource is
// saturated rather than busy (an M/M/c holds this many per core only
// above about 95 % utilisation).
const saturatedWaiting = 10

// Loads lists the resources of a run, busiest first (ties by name): every
// service and cache with instances, and every database node. Those where
// calls waited on average (Saturated) come first, the longest queue
// first: a fleet whose concurrency slots are full binds whatever its
// cores' utilisation. Balancers and
// queues have no cores; functions grow their environments on demand, and a
// node pool's utilisation is cpu reserved, not used.
func Loads(s *Summary) []Load {
	offered := 0.0
	if s.MeasuredS > 0 {
		offered = float64(s.Requests.Arrived) / s.MeasuredS
	}
	capacity := func(u float64) float64 {
		if u <= 0 {
			return 0
		}
		return round(offered/u, 1)
	}
	through := 0.0
	if s.MeasuredS > 0 {
		through = float64(s.Requests.Completed) / s.MeasuredS
	}
	add := func(l Load, queue, instances float64, cores int) Load {
		if instances > 0 {
			l.Waiting = round(queue/instances, 3)
		}
		if l.Waiting >= saturatedWaiting*float64(max(cores, 1)) {
			l.Saturated, l.CapacityRPS = true, round(through, 1)
		}
		return l
	}
	var out []Load
	for _, name := range slices.Sorted(maps.Keys(s.Components)) {
		c := s.Components[name]
		switch {
		case len(c.Nodes) > 0:
			for _, n := range c.Nodes {
				out = append(out, add(Load{Name: name + "." + n.Name, Component: name, Kind: "database node",
					Utilization: n.Utilization, CapacityRPS: capacity(n.Utilization)}, n.Queue.Mean, 1, c.Cores))
			}
		case c.Utilization != nil && c.Kind != "function" && c.Kind != "nodepool":
			inst := 1.0
			if c.Instances != nil && c.Instances.Mean > 0 {
				inst = c.Instances.Mean
			}
			out = append(out, add(Load{Name: name, Component: name, Kind: c.Kind, Utilization: *c.Utilization, CapacityRPS: capacity(*c.Utilization)}, c.Queue.Mean, inst, c.Cores))
		}
	}
	// Saturated resources first, the longest queue first; then by
	// utilisation.
	slices.SortStableFunc(out, func(a, b Load) int {
		switch {
		case a.Saturated != b.Saturated:
			if a.Saturated {
				return -1
			}
			return 1
		case a.Saturated:
			return cmp.Compare(b.Waiting, a.Waiting)
		}
		return cmp.Compare(b.Utilization, a.Utilization)
	})
	return out
}

// bottleneck is the busiest resource, or nil when nothing was busy.
func bottleneck(s *Summary) *Load {
	if l := Loads(s); len(l) > 0 && l[0].Utilization > 0 {
		return &l[0]
	}
	return nil
}
