package model

import (
	"math"

	"github.com/capsim/capsim/model/dist"
	"github.com/capsim/capsim/model/keycache"
	"github.com/capsim/capsim/sim"
)

// Cache endpoints, in this order.
const (
	CacheGet        = "get"
	CacheSet        = "set"
	CacheInvalidate = "invalidate"
)

// CacheConfig is a cache: a fleet whose endpoints are get, set and
// invalidate, each taking the Lookup time. Either HitRatio (a fixed
// probability, no keys involved) or a key-level cache of Capacity keys with
// Eviction and TTL, whose hit ratio follows from the request keys.
type CacheConfig struct {
	Name string
	Fleet
	Lookup      dist.Dist
	LookupOnCPU bool // the lookup holds a core (else it takes time without queueing)
	// RequestKB and ResponseKB are what an operation sends and answers
	// (for the network's cross-zone egress).
	RequestKB, ResponseKB float64

	HitRatio float64 // ≥ 0 when fixed; < 0 for a key-level cache
	Capacity int     // keys; 0: unbounded (a TTL-only cache)
	Eviction keycache.Policy
	TTL      sim.Time // 0: entries do not expire
	OnWrite  string   // "" (nothing), "invalidate" or "update": when a request writes its key
}

func (c *CacheConfig) ComponentName() string       { return c.Name }
func (c *CacheConfig) Kind() Kind                  { return KindCache }
func (c *CacheConfig) DefaultEndpoint(bool) string { return CacheGet }
func (c *CacheConfig) Forward() string             { return "" }
func (c *CacheConfig) FleetConfig() *Fleet         { return &c.Fleet }

// KeyLevel reports whether the cache holds keys (rather than a fixed hit
// ratio).
func (c *CacheConfig) KeyLevel() bool { return c.HitRatio < 0 }

func (c *CacheConfig) EndpointConfigs() []EndpointConfig {
	kind := StepSleep
	if c.LookupOnCPU {
		kind = StepCPU
	}
	step := []Step{{Kind: kind, Dist: c.Lookup, P: 1}}
	var out []EndpointConfig
	for _, n := range []string{CacheGet, CacheSet, CacheInvalidate} {
		out = append(out, EndpointConfig{Name: n, Steps: step, RequestKB: c.RequestKB, ResponseKB: c.ResponseKB})
	}
	return out
}

func (c *CacheConfig) newComponent(b *builder) component {
	k := &cache{station: newStation(c, b), cfg: c, rng: sim.NewStream(b.seed, c.Name, "hit")}
	if c.KeyLevel() {
		k.store = keycache.New(c.Capacity, c.Eviction, c.TTL, sim.NewStream(b.seed, c.Name, "evict"))
		b.sim.keyed = true
	}
	k.hook = k
	if k.store != nil { // only key-level caches react to writes
		b.sim.caches = append(b.sim.caches, k)
	}
	return k
}

// cache is the run-time state of a cache.
type cache struct {
	station
	cfg        *CacheConfig
	store      *keycache.Cache // nil for a fixed hit ratio
	rng        *sim.Stream     // fixed hit ratio draws
	lookups    cacheStats      // measured period
	winLookups cacheStats      // current window
}

// cacheStats counts lookups. A stale hit returns a value older than the
// latest write to its key.
type cacheStats struct {
	hits, misses, stale int64
}

// Cache call results, kept on the calling call.
const (
	lookupNone int8 = iota
	lookupHit
	lookupMiss
)

// answered carries out cache call ci's operation once its lookup time has
// passed, and tells the caller whether it hit.
func (k *cache) answered(s *Sim, ci int32) {
	c := &s.calls[ci]
	now := s.eng.Now()
	key := s.reqs[c.req].key
	measured := c.arrived >= k.compBase.stats.start
	switch c.ep {
	case 0: // get
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
			pc.lookupFrom, pc.lookupAt = k.idx, now
			pc.lookup = lookupMiss
			if hit {
				pc.lookup = lookupHit
			}
		}
	case 1: // set
		if k.store != nil {
			k.store.Put(key, now, now)
		}
	case 2: // invalidate
		if k.store != nil {
			k.store.Delete(key)
		}
	}
}

func (k *cache) count(hit, stale, measured bool) {
	for _, st := range []*cacheStats{&k.winLookups, &k.lookups} {
		if st == &k.lookups && !measured {
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
func (k *cache) fill(key uint64, lookupAt, now sim.Time) {
	if k.store != nil {
		k.store.Put(key, lookupAt, now)
	}
}

// written reacts to a write of key: "invalidate" drops the key, "update"
// stores the new value (write-through).
func (k *cache) written(key uint64, now sim.Time) {
	if k.store == nil {
		return
	}
	switch k.cfg.OnWrite {
	case "invalidate":
		k.store.Delete(key)
	case "update":
		k.store.Put(key, now, now)
	}
}

func (k *cache) resetStats(now sim.Time) {
	k.lookups = cacheStats{}
	k.station.resetStats(now)
}

func (k *cache) closeWindow(now sim.Time) ComponentWindow {
	cw := k.station.closeWindow(now)
	cw.HitRatio = math.NaN()
	if n := k.winLookups.hits + k.winLookups.misses; n > 0 {
		cw.HitRatio = float64(k.winLookups.hits) / float64(n)
	}
	k.winLookups = cacheStats{}
	return cw
}

func (k *cache) result(now, measuredFrom sim.Time) ComponentResult {
	c := k.station.result(now, measuredFrom)
	c.Cache = &CacheResult{Hits: k.lookups.hits, Misses: k.lookups.misses, Stale: k.lookups.stale}
	if k.store != nil {
		c.Cache.Evictions, c.Cache.Expirations, c.Cache.Entries = k.store.Evictions, k.store.Expirations, k.store.Len()
	}
	return c
}
