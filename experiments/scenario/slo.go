package scenario

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/capsim/capsim/model"
)

// SLO holds the scenario's service-level objectives: those of the whole
// run, then those of single traffic sources and queues ([slo.NAME]).
type SLO struct {
	Objectives []Objective
}

// Objective is one limit.
type Objective struct {
	Scope string // "" for the whole run, else a traffic source or a queue
	// Stat is a latency statistic ("p99", "p999", "mean", "max"),
	// "error_rate", "lag" (a queue's most messages waiting),
	// "cost_per_hour" or "cost_per_million" (USD).
	Stat     string
	Quantile float64 // latency percentiles: 0 < q ≤ 1 (max: 1); 0 otherwise
	Limit    float64 // ms for latency, a fraction, messages, USD
	path     string  // where it was written, for errors found later
}

// Name is how results name the objective: "p99", "buyers.p99".
func (o Objective) Name() string {
	if o.Scope == "" {
		return o.Stat
	}
	return o.Scope + "." + o.Stat
}

// Latency says whether the objective limits a latency statistic (in ms).
func (o Objective) Latency() bool {
	switch o.Stat {
	case "error_rate", "lag", "cost_per_hour", "cost_per_million":
		return false
	}
	return true
}

// scopedLatency are the latency statistics a traffic source or queue
// reports, so the only ones its objectives may limit.
var scopedLatency = []string{"p50", "p90", "p95", "p99", "p999", "mean", "max"}

func (d *decoder) slo(t *table) SLO {
	var slo SLO
	if t == nil {
		return slo
	}
	slo.Objectives = d.objectives(t, "")
	return slo
}

// objectives reads the limits of one [slo] table; scope is "" for the
// run's own, where sub-tables [slo.NAME] hold a traffic source's or a
// queue's.
func (d *decoder) objectives(t *table, scope string) []Objective {
	keys := make([]string, 0, len(t.m))
	for k := range t.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []Objective
	for _, k := range keys {
		if m, ok := t.m[k].(map[string]any); ok && scope == "" {
			t.known = append(t.known, k)
			if !validName(k) {
				d.errorf(t.key(k), "name %q: use letters, digits, '_' and '-' only", k)
				continue
			}
			out = append(out, d.objectives(d.table(t.key(k), m), k)...)
			continue
		}
		o := Objective{Scope: scope, Stat: k, path: t.key(k)}
		switch {
		case k == "mean":
		case k == "max":
			o.Quantile = 1
		case k == "error_rate":
			v, ok := t.number(k)
			if ok && (v < 0 || v > 1) {
				d.errorf(t.key(k), "must be a fraction from 0 to 1 (0.01 = 1 %%), got %v", v)
			} else if ok {
				o.Limit = v
				out = append(out, o)
			}
			continue
		case k == "lag" && scope != "", (k == "cost_per_hour" || k == "cost_per_million") && scope == "":
			v, ok := t.number(k)
			if ok && v < 0 {
				d.errorf(t.key(k), "must be 0 or more, got %v", v)
			} else if ok {
				o.Limit = v
				out = append(out, o)
			}
			continue
		default:
			q, ok := quantileKey(k)
			if !ok {
				continue // reported by done
			}
			if scope != "" && !contains(scopedLatency, k) {
				d.errorf(t.key(k), "a traffic source or queue reports %s only; use one of them here, or put %s in [slo] for the whole run", strings.Join(scopedLatency, ", "), k)
				t.known = append(t.known, k)
				continue
			}
			o.Quantile = q
		}
		lim := t.duration(k, 0)
		if lim <= 0 {
			if v := t.m[k]; v != nil {
				if s, ok := v.(string); ok && s == "0" {
					d.errorf(t.key(k), "limit must be greater than 0")
				}
			}
			continue
		}
		o.Limit = round3(lim.Millis())
		out = append(out, o)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Scope != out[j].Scope {
			return out[i].Scope < out[j].Scope
		}
		return out[i].Latency() && out[j].Latency() && out[i].Quantile < out[j].Quantile
	})
	t.known = append(t.known, "p50", "p90", "p95", "p99", "p999", "mean", "max", "error_rate")
	if scope == "" {
		t.known = append(t.known, "cost_per_hour", "cost_per_million")
		t.done(map[string]string{"lag": "lag is a queue's: put it in [slo.QUEUE] (for example [slo.orders] lag = 1000)"})
	} else {
		t.known = append(t.known, "lag")
		whole := "cost limits are the whole run's: put it in [slo]"
		t.done(map[string]string{"cost_per_hour": whole, "cost_per_million": whole})
	}
	return out
}

// sloScopes checks that each [slo.NAME] names a traffic source or a queue,
// and that its limits are ones that kind reports.
func (d *decoder) sloScopes(slo *SLO, cfg *model.Config) {
	kind := map[string]string{}
	for _, tr := range cfg.Traffic {
		kind[tr.Name] = "traffic"
	}
	var names []string
	for _, c := range cfg.Components {
		if c.Kind() == model.KindQueue {
			kind[c.ComponentName()] = "queue"
		}
		names = append(names, c.ComponentName())
	}
	for name := range kind {
		if kind[name] == "traffic" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	reported := map[string]bool{}
	for _, o := range slo.Objectives {
		if o.Scope == "" {
			continue
		}
		scopePath := o.path[:len(o.path)-len(o.Stat)-1]
		switch k := kind[o.Scope]; {
		case k == "":
			if !reported[o.Scope] {
				reported[o.Scope] = true
				msg := "[slo." + o.Scope + "] names no traffic source or queue"
				if s := suggest(o.Scope, names); s != "" {
					msg += fmt.Sprintf("; did you mean %q?", s)
				}
				d.errorf(scopePath, "%s (objectives can be set for the whole run in [slo], or for one traffic source or queue)", msg)
			}
		case k == "traffic" && o.Stat == "lag":
			d.errorf(o.path, "lag is a queue's; %s is a traffic source", o.Scope)
		case k == "queue" && o.Stat == "error_rate":
			d.errorf(o.path, "error_rate is a traffic source's; for queue.%s limit its latency (publish → processed) or its lag", o.Scope)
		}
	}
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }
