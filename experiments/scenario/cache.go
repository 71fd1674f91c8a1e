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
func (d *decoder) cache(t *table) model.ComponentConfig {
	c := &model.CacheConfig{Name: t.name(), HitRatio: -1}
	c.Lookup = t.distribution("lookup")
	if c.Lookup == nil && !t.has("lookup") {
		c.Lookup = dist.Const{V: 300 * sim.Microsecond}
	}
	c.LookupOnCPU = t.has("cores")
	d.fleet(t, &c.Fleet, 1, model.Unlimited)
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
		switch {
		case t.has("capacity"):
			c.Capacity = int(t.integer("capacity", 1, 1, 50_000_000, false))
		case t.has("ttl"):
			// TTL only, as Redis without maxmemory: unbounded (Capacity 0).
			if t.has("eviction") {
				t.known = append(t.known, "eviction")
				d.errorf(t.key("eviction"), "eviction applies to a cache with a capacity; a TTL-only cache never evicts")
			}
		default:
			d.errorf(t.path, "needs hit_ratio = 0.9 (a fixed probability), capacity = 10000 (keys, for a key-level cache) or ttl = \"30s\" (a TTL-only cache)")
		}
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
	var pl model.EndpointConfig
	d.payload(t, &pl)
	c.RequestKB, c.ResponseKB = pl.RequestKB, pl.ResponseKB
	t.done(nil)
	return c
}
