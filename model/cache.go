package model

import (
	"github.com/capsim/capsim/model/keycache"
	"github.com/capsim/capsim/sim"
)

// cache is the run-time state of a cache service.
type cache struct {
	cfg   *CacheConfig
	store *keycache.Cache // nil for a fixed hit ratio
	rng   *sim.Stream     // fixed hit ratio draws
	stats cacheStats      // measured period
	win   cacheStats      // current window
}

// cacheStats counts lookups. A stale hit returns a value older than the
// latest write to its key.
type cacheStats struct {
	hits, misses, stale int64
}

func newCache(c *ServiceConfig, seed uint64) *cache {
	k := &cache{cfg: c.Cache, rng: sim.NewStream(seed, c.Name, "hit")}
	if c.Cache.HitRatio < 0 {
		k.store = keycache.New(c.Cache.Capacity, c.Cache.Eviction, c.Cache.TTL, sim.NewStream(seed, c.Name, "evict"))
	}
	return k
}

// Cache call results, kept on the calling call.
const (
	lookupNone int8 = iota
	lookupHit
	lookupMiss
)

// cacheOp carries out cache call ci's operation once its lookup time has
// passed, and tells the caller whether it hit.
func (s *Sim) cacheOp(ci int32, svc *service) {
	c := &s.calls[ci]
	now := s.eng.Now()
	k := svc.cache
	key := s.reqs[c.req].key
	measured := c.arrived >= svc.stats.start
	switch svc.eps[c.ep].name {
	case CacheGet:
		hit, stale := false, false
		var version sim.Time
		if k.store == nil {
			hit = k.rng.Float64() < k.cfg.HitRatio
		} else if version, hit = k.store.Get(key, now); hit {
			if w, ok := s.lastWrite[key]; ok && w > version {
				stale = true
			}
		}
		k.count(hit, stale, measured)
		if p := c.parent; p >= 0 && s.calls[p].token == c.ptoken {
			pc := &s.calls[p]
			pc.lookupFrom, pc.lookupAt = svc.idx, now
			pc.lookup = lookupMiss
			if hit {
				pc.lookup = lookupHit
			}
		}
	case CacheSet:
		if k.store != nil {
			k.store.Put(key, now, now)
		}
	case CacheInvalidate:
		if k.store != nil {
			k.store.Delete(key)
		}
	}
}

func (k *cache) count(hit, stale, measured bool) {
	for _, st := range []*cacheStats{&k.win, &k.stats} {
		if st == &k.stats && !measured {
			continue
		}
		switch {
		case !hit:
			st.misses++
		case stale:
			st.hits++
			st.stale++
		default:
			st.hits++
		}
	}
}

// fill is cache-aside: a call whose endpoint missed in a key-level cache
// puts the key there once the endpoint has completed (the value it read is
// as old as the miss).
func (s *Sim) fill(c *call) {
	svc := s.services[c.lookupFrom]
	if svc.cache.store != nil {
		svc.cache.store.Put(s.reqs[c.req].key, c.lookupAt, s.eng.Now())
	}
}

// recordWrite notes that the request's key was written now, for stale-read
// accounting.
//
// Key-level caches with an OnWrite rule react at once: "invalidate" drops
// the key, "update" stores the new value (write-through).
func (s *Sim) recordWrite(req int32) {
	if s.lastWrite == nil {
		return
	}
	key, now := s.reqs[req].key, s.eng.Now()
	s.lastWrite[key] = now
	for _, svc := range s.services {
		k := svc.cache
		if k == nil || k.store == nil {
			continue
		}
		switch k.cfg.OnWrite {
		case "invalidate":
			k.store.Delete(key)
		case "update":
			k.store.Put(key, now, now)
		}
	}
}
