package scenario

import (
	"github.com/capsim/capsim/model"
	"github.com/capsim/capsim/model/dist"
	"github.com/capsim/capsim/sim"
)

// database reads [database.NAME]: shards × (1 primary + replicas) nodes,
// each with cores and a connection limit; endpoints read and write.
func (d *decoder) database(t *table) model.ComponentConfig {
	db := &model.DatabaseConfig{Name: t.name()}
	s := &db.Fleet
	db.Replicas = int(t.integer("replicas", 0, 0, 1000, false))
	db.Shards = int(t.integer("shards", 1, 1, 10_000, false))
	if db.Shards*(1+db.Replicas) > 100_000 {
		d.errorf(t.key("shards"), "%d shards × %d nodes is more than 100000 nodes", db.Shards, 1+db.Replicas)
		db.Shards, db.Replicas = 1, 0
	}
	s.Instances = db.Shards * (1 + db.Replicas)
	db.ShardBy = t.str("shard_by", "hash")
	if db.ShardBy != "hash" && db.ShardBy != "range" {
		d.errorf(t.key("shard_by"), "want \"hash\" or \"range\" (over the request key), got %q", db.ShardBy)
	}
	def := "replicas"
	db.ReadFrom = t.str("read_from", def)
	if db.ReadFrom != "replicas" && db.ReadFrom != "primary" && db.ReadFrom != "any" {
		d.errorf(t.key("read_from"), "want \"replicas\", \"primary\" or \"any\", got %q", db.ReadFrom)
	}
	db.ReplicationLag = t.distribution("replication_lag")
	s.Cores = int(t.integer("cores", 4, 1, 4096, false))
	s.Concurrency = int(t.integer("connections", 100, 1, 10_000_000, true))
	s.Queue = int(t.integer("queue", model.Unlimited, 0, 100_000_000, true))
	s.PricePerHour = d.price(t)
	s.PricePerCoreHour = d.nonNegative(t, "price_per_core_hour", "US dollars per core per hour")
	d.zones(t, s) // node i (shard i / (1 + replicas), the primary first) in zones[i mod len]
	// Nodes are chosen by key and role, not by a picker.
	db.Read = t.distribution("read")
	if db.Read == nil && !t.has("read") {
		db.Read = dist.NewExp(float64(2 * sim.Millisecond))
	}
	db.Write = t.distribution("write")
	if db.Write == nil && !t.has("write") {
		db.Write = dist.NewExp(float64(5 * sim.Millisecond))
	}
	var pl model.EndpointConfig
	d.payload(t, &pl)
	db.RequestKB, db.ResponseKB = pl.RequestKB, pl.ResponseKB
	t.done(map[string]string{"autoscale": "databases do not autoscale in this version"})
	return db
}
