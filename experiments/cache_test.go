package experiments_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/capsim/capsim/experiments"
	"github.com/capsim/capsim/model/dist"
)

func cacheAside(extra string) string {
	return `
[run]
duration = "1100s"
warmup = "100s"
[traffic.in]
to = "web"
rate = 1000
keys = "zipf(s=0.8, n=10000)"
` + extra + `
[service.web]
cores = 8
steps = [ { cpu = "exp(1ms)" }, { call = "redis" }, { call = "db", if = "miss" } ]
[service.db]
cores = 16
steps = [ { cpu = "exp(2ms)" } ]
[cache.redis]
capacity = 1000
eviction = "lru"
`
}

// Che's approximation for LRU under independent Zipf requests, as in
// model/keycache's test: T solves Σ (1 − e^(−pᵢT)) = C.
func cheLRU(s float64, n uint64, capacity int) float64 {
	z := dist.NewZipf(s, n)
	occ := func(T float64) (float64, float64) {
		var o, h float64
		for i := uint64(1); i <= n; i++ {
			p := z.Prob(i)
			o += 1 - math.Exp(-p*T)
			h += p * (1 - math.Exp(-p*T))
		}
		return o, h
	}
	lo, hi := 0.0, 1e7
	for range 100 {
		mid := (lo + hi) / 2
		if o, _ := occ(mid); o < float64(capacity) {
			lo = mid
		} else {
			hi = mid
		}
	}
	_, h := occ(lo)
	return h
}

// End to end: a cache-aside LRU in front of a database has the hit ratio
// Che's approximation predicts, and the database sees exactly the misses.
func TestCacheAsideHitRatio(t *testing.T) {
	t.Parallel()
	o := runTOML(t, cacheAside(""))
	c := o.Summary.Components["redis"]
	want := cheLRU(0.8, 10_000, 1000)
	if math.Abs(*c.HitRatio-want) > 0.01 {
		t.Errorf("hit ratio %.4f, Che %.4f", *c.HitRatio, want)
	} else {
		t.Logf("hit ratio %.4f, Che %.4f", *c.HitRatio, want)
	}
	misses := float64(c.Requests) * (1 - *c.HitRatio)
	if db := float64(o.Summary.Components["db"].Requests); math.Abs(db-misses) > 2 {
		t.Errorf("db got %v requests, the cache missed %v", db, misses)
	}
	if *c.StaleReads != 0 {
		t.Errorf("stale reads %v without writes", *c.StaleReads)
	}
}

// Writes make cached values stale until they expire: the stale fraction
// grows with the TTL, and invalidating on write removes it.
func TestStaleReads(t *testing.T) {
	t.Parallel()
	withWrites := func(ttl, invalidate string) float64 {
		src := cacheAside(`mix = { read = 9, write = 1 }`)
		src = replaceOnce(src, `steps = [ { cpu = "exp(1ms)" }, { call = "redis" }, { call = "db", if = "miss" } ]`, fmt.Sprintf(`
[service.web.endpoint.read]
steps = [ { cpu = "exp(1ms)" }, { call = "redis" }, { call = "db", if = "miss" } ]
[service.web.endpoint.write]
steps = [ { cpu = "exp(1ms)" }, { call = "db", write = true } %s ]`, invalidate))
		src += "ttl = \"" + ttl + "\"\n"
		o := runTOML(t, src)
		return *o.Summary.Components["redis"].StaleReads
	}
	s1, s10, s60 := withWrites("1s", ""), withWrites("10s", ""), withWrites("60s", "")
	t.Logf("stale reads: TTL 1s %.4f, 10s %.4f, 60s %.4f", s1, s10, s60)
	if !(s1 < s10 && s10 < s60) || s1 <= 0 {
		t.Errorf("stale reads do not grow with the TTL: %v %v %v", s1, s10, s60)
	}
	inv := withWrites("60s", `, { call = "redis", endpoint = "invalidate" }`)
	t.Logf("stale reads with invalidation on write: %.5f", inv)
	if inv > s60/20 {
		t.Errorf("invalidating on write leaves %.4f stale reads (%.4f without)", inv, s60)
	}
}

func replaceOnce(s, old, new string) string {
	for i := 0; i+len(old) <= len(s); i++ {
		if s[i:i+len(old)] == old {
			return s[:i] + new + s[i+len(old):]
		}
	}
	panic("not found: " + old)
}

// A fixed hit ratio is a coin flip per lookup.
func TestFixedHitRatio(t *testing.T) {
	t.Parallel()
	src := replaceOnce(cacheAside(""), "capacity = 1000\neviction = \"lru\"\n", "hit_ratio = 0.7\n")
	o := runTOML(t, src)
	if h := *o.Summary.Components["redis"].HitRatio; math.Abs(h-0.7) > 0.003 {
		t.Errorf("hit ratio %v, want 0.7", h)
	}
}

// on_write = "invalidate" or "update" keeps the cache fresh without
// explicit calls; an endpoint marked write = true writes its key.
func TestCacheOnWrite(t *testing.T) {
	t.Parallel()
	src := cacheAside(`mix = { read = 9, write = 1 }`)
	src = replaceOnce(src, `steps = [ { cpu = "exp(1ms)" }, { call = "redis" }, { call = "db", if = "miss" } ]`, `
[service.web.endpoint.read]
steps = [ { cpu = "exp(1ms)" }, { call = "redis" }, { call = "db", if = "miss" } ]
[service.web.endpoint.write]
write = true
steps = [ { cpu = "exp(1ms)" }, { call = "db" } ]`)
	src += "ttl = \"60s\"\n"
	stale := func(sets ...string) float64 {
		return *runTOML(t, src, sets...).Summary.Components["redis"].StaleReads
	}
	none, inv, upd := stale(), stale("cache.redis.on_write=invalidate"), stale("cache.redis.on_write=update")
	t.Logf("stale reads: none %.4f, invalidate %.5f, update %.5f", none, inv, upd)
	if none < 0.1 || inv > none/20 || upd > none/20 {
		t.Errorf("stale reads: none %v, invalidate %v, update %v", none, inv, upd)
	}
}

// A TTL-only cache (no capacity, as Redis without maxmemory) under
// independent Poisson requests: key k, requested at rate λk, misses once per
// cycle and then hits for the TTL T, so its hit ratio is λk·T/(1 + λk·T)
// (the renewal argument of Jung, Berger & Balakrishnan, "Modeling TTL-based
// Internet caches", INFOCOM 2003, for a TTL set at the miss). Zipf(0.9)
// over 10,000 keys at 200/s, T = 30 s.
func TestTTLOnlyCacheHitRatio(t *testing.T) {
	t.Parallel()
	const src = `
[run]
duration = "1260s"
warmup = "60s"
window = "60s"
[traffic.in]
to = "web"
rate = 200
keys = "zipf(s=0.9, n=10000)"
[service.web]
steps = [ { call = "redis" } ]
[cache.redis]
ttl = "30s"
`
	const n, s, rate, ttl = 10_000, 0.9, 200.0, 30.0
	var norm float64
	for k := 1; k <= n; k++ {
		norm += math.Pow(float64(k), -s)
	}
	var want float64
	for k := 1; k <= n; k++ {
		p := math.Pow(float64(k), -s) / norm
		l := rate * p * ttl
		want += p * l / (1 + l)
	}
	agreesOver(t, seedRuns(t, src, 8), "TTL-only hit ratio", func(o *experiments.Outcome) float64 { return *o.Summary.Components["redis"].HitRatio }, want)
}
