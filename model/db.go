package model

import "github.com/capsim/capsim/sim"

// db is the run-time state of a database service.
type db struct {
	cfg      *DatabaseConfig
	perShard int     // nodes per shard: 1 primary + replicas
	next     []int32 // per shard, round-robin position among its read nodes
	rngLag   *sim.Stream
	nodes    []nodeStats
	stale    int64 // measured reads that returned a value older than the key's latest write
	reads    int64 // measured reads
	readEP   int32
}

// nodeStats are one node's statistics over the measured period.
type nodeStats struct {
	lat      *sim.Histogram
	requests int64
	rejected int64
}

func newDB(c *ServiceConfig, seed uint64) *db {
	d := &db{cfg: c.Database, perShard: 1 + c.Database.Replicas,
		next: make([]int32, c.Database.Shards), rngLag: sim.NewStream(seed, c.Name, "replication")}
	d.nodes = make([]nodeStats, c.Instances)
	for i := range d.nodes {
		d.nodes[i].lat = sim.NewHistogram()
	}
	for i, e := range c.Endpoints {
		if e.Name == DBRead {
			d.readEP = int32(i)
		}
	}
	return d
}

// shard is the shard holding key.
func (d *db) shard(key uint64) int {
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

// pick chooses the node for a call: the shard's primary for writes, and for
// reads the shard's replicas, its primary, or any of them, in turn.
func (d *db) pick(key uint64, read bool) int32 {
	sh := d.shard(key)
	base := int32(sh * d.perShard)
	if !read || d.cfg.ReadFrom == "primary" || d.cfg.Replicas == 0 {
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

// role and shard of node i.
func (d *db) role(i int) string {
	if i%d.perShard == 0 {
		return "primary"
	}
	return "replica"
}

func (d *db) depart(node int32, o outcome, lat sim.Time) {
	n := &d.nodes[node]
	n.requests++
	switch o {
	case outOK:
		n.lat.Record(lat)
	case outRejected:
		n.rejected++
	}
}

// readDone accounts a successful read served by node: from a replica it
// returns the key's value as of replication lag ago, which is stale if the
// key was written since.
func (s *Sim) dbRead(svc *service, c *call) {
	d := svc.db
	if c.arrived < svc.stats.start {
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

func (d *db) resetStats() {
	for i := range d.nodes {
		d.nodes[i].lat.Reset()
		d.nodes[i].requests, d.nodes[i].rejected = 0, 0
	}
	d.stale, d.reads = 0, 0
}
