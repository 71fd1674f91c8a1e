package scenario

import (
	"github.com/capsim/capsim/model"
	"github.com/capsim/capsim/model/dist"
	"github.com/capsim/capsim/model/keycache"
	"github.com/capsim/capsim/sim"
)

// cache reads [cache.NAME]: a service whose endpoints are get, set and
// invalidate, each taking the lookup time (on a core when cores is given,
// else without queueing).
func (d *decoder) cache(t *table) model.ServiceConfig {
	s := model.ServiceConfig{Name: t.name(), Cache: &model.CacheConfig{HitRatio: -1}}
	lookup := t.distribution("lookup")
	if lookup == nil && !t.has("lookup") {
		lookup = dist.Const{V: 300 * sim.Microsecond}
	}
	s.Instances = int(t.integer("instances", 1, 1, 100_000, false))
	kind := model.StepSleep
	if t.has("cores") {
		kind = model.StepCPU
	}
	s.Cores = int(t.integer("cores", 1, 1, 4096, false))
	s.Concurrency = int(t.integer("concurrency", model.Unlimited, 1, 10_000_000, true))
	s.Queue = int(t.integer("queue", model.Unlimited, 0, 100_000_000, true))
	s.Algorithm, s.NewPicker = d.picker(t, "balancer", "round_robin")
	s.PricePerHour = d.price(t)
	c := s.Cache
	if hr, ok := t.number("hit_ratio"); ok {
		if hr < 0 || hr > 1 {
			d.errorf(t.key("hit_ratio"), "must be a fraction from 0 to 1, got %v", hr)
		} else {
			c.HitRatio = hr
		}
		for _, k := range []string{"capacity", "eviction", "ttl", "on_write"} {
			if t.has(k) {
				t.known = append(t.known, k)
				d.errorf(t.key(k), "give either hit_ratio (a fixed probability) or capacity/eviction/ttl (a key-level cache), not both")
			}
		}
	} else if t.has("hit_ratio") {
		// reported by number
	} else {
		if !t.has("capacity") {
			d.errorf(t.path, "needs hit_ratio = 0.9 (a fixed probability) or capacity = 10000 (keys, for a key-level cache)")
		}
		c.Capacity = int(t.integer("capacity", 1, 1, 50_000_000, false))
		ev, err := keycache.ParsePolicy(t.str("eviction", "lru"))
		if err != nil {
			d.errorf(t.key("eviction"), "%v", err)
		}
		c.Eviction = ev
		c.TTL = t.duration("ttl", 0)
		switch c.OnWrite = t.str("on_write", ""); c.OnWrite {
		case "", "invalidate", "update":
		default:
			d.errorf(t.key("on_write"), "want \"invalidate\" or \"update\" (what the cache does when a request writes its key), got %q", c.OnWrite)
		}
	}
	step := model.Step{Kind: kind, Dist: lookup, P: 1}
	for _, ep := range []string{model.CacheGet, model.CacheSet, model.CacheInvalidate} {
		s.Endpoints = append(s.Endpoints, model.EndpointConfig{Name: ep, Steps: []model.Step{step}})
	}
	t.done(nil)
	return s
}
