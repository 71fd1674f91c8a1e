package experiments

import (
	"cmp"
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
	// retries, a hot shard — as the run measured it.
	CapacityRPS float64 `json:"capacity_rps"`
}

// Loads lists the resources of a run, busiest first (ties by name): every
// service and cache with instances, and every database node. Balancers and
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
	var out []Load
	for _, name := range sortedKeys(s.Components) {
		c := s.Components[name]
		switch {
		case len(c.Nodes) > 0:
			for _, n := range c.Nodes {
				out = append(out, Load{Name: name + "." + n.Name, Component: name, Kind: "database node",
					Utilization: n.Utilization, CapacityRPS: capacity(n.Utilization)})
			}
		case c.Utilization != nil && c.Kind != "function" && c.Kind != "nodepool":
			out = append(out, Load{Name: name, Component: name, Kind: c.Kind, Utilization: *c.Utilization, CapacityRPS: capacity(*c.Utilization)})
		}
	}
	slices.SortStableFunc(out, func(a, b Load) int { return cmp.Compare(b.Utilization, a.Utilization) })
	return out
}

// bottleneck is the busiest resource, or nil when nothing was busy.
func bottleneck(s *Summary) *Load {
	if l := Loads(s); len(l) > 0 && l[0].Utilization > 0 {
		return &l[0]
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
