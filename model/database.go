package model

import (
	"fmt"

	"github.com/capsim/capsim/model/dist"
	"github.com/capsim/capsim/sim"
)

// Database endpoints.
const (
	DBRead  = "read"
	DBWrite = "write"
)

// DatabaseConfig is a database: Shards × (1 primary + Replicas) nodes,
// which are its instances, shard by shard, primary first. Writes go to the
// key's shard primary; reads go where ReadFrom says.
type DatabaseConfig struct {
	Name string
	Fleet
	Read, Write dist.Dist // cpu time of a read and of a write
	// RequestKB and ResponseKB are what a query sends and answers (for the
	// network's cross-zone egress).
	RequestKB, ResponseKB float64
	Replicas              int
	Shards                int
	ShardBy               string // "hash" or "range"
	ReadFrom              string // "replicas", "primary" or "any"
	ReplicationLag        dist.Dist
	KeySpace              uint64 // keys 1..KeySpace, for range sharding
}

func (c *DatabaseConfig) ComponentName() string { return c.Name }
func (c *DatabaseConfig) Kind() Kind            { return KindDatabase }
func (c *DatabaseConfig) Forward() string       { return "" }
func (c *DatabaseConfig) FleetConfig() *Fleet   { return &c.Fleet }

// DefaultEndpoint: a call that writes writes; others read.
func (c *DatabaseConfig) DefaultEndpoint(write bool) string {
	if write {
		return DBWrite
	}
	return DBRead
}

func (c *DatabaseConfig) EndpointConfigs() []EndpointConfig {
	return []EndpointConfig{
		{Name: DBRead, Steps: []Step{{Kind: StepCPU, Dist: c.Read, P: 1}}, RequestKB: c.RequestKB, ResponseKB: c.ResponseKB},
		{Name: DBWrite, Steps: []Step{{Kind: StepCPU, Dist: c.Write, P: 1}}, RequestKB: c.RequestKB, ResponseKB: c.ResponseKB},
	}
}

const dbReadEP = 0 // index of DBRead in EndpointConfigs

func (c *DatabaseConfig) newComponent(b *builder) component {
	d := &database{station: newStation(c, b), cfg: c, perShard: 1 + c.Replicas,
		next: make([]int32, c.Shards), rngLag: sim.NewStream(b.seed, c.Name, "replication")}
	d.keepNodes()
	d.hook = d
	if c.Replicas > 0 && c.ReplicationLag != nil { // a replica can serve a stale read
		b.sim.keyed = true
	}
	return d
}

// database is the run-time state of a database.
type database struct {
	station
	cfg      *DatabaseConfig
	perShard int     // nodes per shard: 1 primary + replicas
	next     []int32 // per shard, round-robin position among its read nodes
	rngLag   *sim.Stream
	stale    int64 // measured reads that returned a value older than the key's latest write
	reads    int64 // measured reads
}

// shard is the shard holding key.
func (d *database) shard(key uint64) int {
	n := d.cfg.Shards
	if n == 1 {
		return 0
	}
	if d.cfg.ShardBy == "range" {
		space := max(d.cfg.KeySpace, 1)
		k := min(max(key, 1), space) - 1
		return int(k * uint64(n) / space) // contiguous, equal key ranges
	}
	return int(sim.Mix64(key) % uint64(n))
}

func (d *database) receive(s *Sim, ci int32) {
	d.arrive(s, ci, d.route(s, ci, nil, nil))
}

// route chooses the node for a call by its key, whatever balancer it came
// through: the shard's primary for writes, and for reads the shard's
// replicas, its primary, or any of them, in turn.
func (d *database) route(s *Sim, ci int32, _ Picker, _ *sim.Stream) int32 {
	c := &s.calls[ci]
	sh := d.shard(s.reqs[c.req].key)
	base := int32(sh * d.perShard)
	if c.ep != dbReadEP || d.cfg.ReadFrom == "primary" || d.cfg.Replicas == 0 {
		return base
	}
	first, count := int32(1), int32(d.cfg.Replicas)
	if d.cfg.ReadFrom == "any" {
		first, count = 0, int32(d.perShard)
	}
	i := d.next[sh]
	d.next[sh] = (i + 1) % count
	return base + first + i
}

// role names node i, and gives its role and shard: s0.primary,
// s0.replica1, …
func (d *database) role(i int) (name, role string, shard int) {
	shard = i / d.perShard
	if k := i % d.perShard; k > 0 {
		return fmt.Sprintf("s%d.replica%d", shard, k), "replica", shard
	}
	return fmt.Sprintf("s%d.primary", shard), "primary", shard
}

// answered accounts a write, or a read: from a replica a read returns the
// key's value as of replication lag ago, which is stale if the key was
// written since.
func (d *database) answered(s *Sim, ci int32) {
	c := &s.calls[ci]
	if c.ep != dbReadEP {
		s.recordWrite(c.req)
		return
	}
	if c.arrived < d.compBase.stats.start {
		return
	}
	d.reads++
	if int(c.inst)%d.perShard == 0 || d.cfg.ReplicationLag == nil {
		return
	}
	lag := d.cfg.ReplicationLag.Sample(d.rngLag)
	if w, ok := s.lastWrite[s.reqs[c.req].key]; ok && w > s.eng.Now()-lag {
		d.stale++
	}
}

func (d *database) resetStats(now sim.Time) {
	d.stale, d.reads = 0, 0
	d.station.resetStats(now)
}

func (d *database) result(now, measuredFrom sim.Time) ComponentResult {
	c := d.station.result(now, measuredFrom)
	c.Database = &DatabaseResult{Reads: d.reads, StaleReads: d.stale, Nodes: d.nodeResults(now, d.role)}
	return c
}
