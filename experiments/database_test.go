package experiments_test

import (
	"testing"

	"github.com/capsim/capsim/model/dist"
)

const dbScenario = `
[run]
duration = "1000s"
[traffic.reads]
to = "api"
endpoint = "read"
rate = 1800
keys = "uniform(n=100000)"
[traffic.writes]
to = "api"
endpoint = "write"
rate = 200
keys = "uniform(n=100000)"
[service.api.endpoint.read]
steps = [ { call = "db" } ]
[service.api.endpoint.write]
steps = [ { call = "db", write = true } ]
[database.db]
cores = 4
connections = 200
replicas = 3
read = "exp(2ms)"
write = "exp(5ms)"
replication_lag = "exp(100ms)"
`

// With read_from = "replicas", the r replicas share the reads evenly (each
// carries read load / r) and the primary carries exactly the writes.
func TestReadReplicas(t *testing.T) {
	t.Parallel()
	o := runTOML(t, dbScenario)
	db := o.Summary.Components["db"]
	if len(db.Nodes) != 4 || db.Nodes[0].Role != "primary" {
		t.Fatalf("nodes %+v", db.Nodes)
	}
	// Reads: 1800/s × 2 ms = 3.6 cores over 3 replicas of 4 cores.
	for _, n := range db.Nodes[1:] {
		within(t, "replica utilisation", n.Utilization, 3.6/3/4, 0.02)
	}
	// Writes: 200/s × 5 ms = 1 core of 4, and every write, nothing else.
	within(t, "primary utilisation", db.Nodes[0].Utilization, 0.25, 0.02)
	w := o.Summary.Traffic["writes"].Requests
	if got, want := db.Nodes[0].Requests, w.Arrived-w.InFlight; got != want {
		t.Errorf("primary served %d requests, there were %d writes", got, want)
	}
	if st := *db.StaleReads; st <= 0 {
		t.Error("no stale replica reads with 100 ms replication lag")
	}
	// Reading from the primary is never stale.
	o = runTOML(t, dbScenario, `database.db.read_from=primary`)
	if st := *o.Summary.Components["db"].StaleReads; st != 0 {
		t.Errorf("stale reads from the primary: %v", st)
	}
}

// Stale replica reads follow the replication lag: a read of a key written
// at rate w per key is stale when a write fell within the lag before it,
// probability E[1 − e^(−w·lag)] = w·m/(1 + w·m) for an exponential lag of
// mean m (Poisson writes).
func TestReplicationLagStaleness(t *testing.T) {
	t.Parallel()
	o := runTOML(t, dbScenario, `traffic.reads.keys=uniform(n=100)`, `traffic.writes.keys=uniform(n=100)`)
	wPerKey, m := 200.0/100, 0.1
	within(t, "stale read fraction", *o.Summary.Components["db"].StaleReads, wPerKey*m/(1+wPerKey*m), 0.03)
}

const shardScenario = `
[run]
duration = "500s"
[traffic.in]
to = "api"
rate = 2000
keys = "uniform(n=1000000)"
[service.api]
steps = [ { call = "db" } ]
[database.db]
shards = 8
cores = 8
read = "exp(1ms)"
`

// Hash sharding spreads uniform keys evenly; range sharding of Zipf keys
// sends the hottest range the probability mass the Zipf law gives it.
func TestShards(t *testing.T) {
	t.Parallel()
	o := runTOML(t, shardScenario)
	var total int64
	for _, n := range o.Summary.Components["db"].Nodes {
		total += n.Requests
	}
	for _, n := range o.Summary.Components["db"].Nodes {
		within(t, "hash shard share", float64(n.Requests)/float64(total), 1.0/8, 0.02)
	}

	o = runTOML(t, shardScenario, `database.db.shard_by=range`, `traffic.in.keys=zipf(s=0.9, n=1000000)`)
	z := dist.NewZipf(0.9, 1_000_000)
	var mass float64 // keys 1..125000 are shard 0
	for k := uint64(1); k <= 125_000; k++ {
		mass += z.Prob(k)
	}
	nodes := o.Summary.Components["db"].Nodes
	total = 0
	for _, n := range nodes {
		total += n.Requests
	}
	within(t, "hottest range shard's share", float64(nodes[0].Requests)/float64(total), mass, 0.02)
	if nodes[0].Utilization < 3*nodes[7].Utilization {
		t.Errorf("no hot shard: utilisation %v vs %v", nodes[0].Utilization, nodes[7].Utilization)
	}
}
