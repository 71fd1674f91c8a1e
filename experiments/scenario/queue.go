package scenario

import (
	"github.com/capsim/capsim/model"
	"github.com/capsim/capsim/sim"
)

// queue reads [queue.NAME]: a broker topic (or queue) and its consumer
// group.
func (d *decoder) queue(t *table) model.ComponentConfig {
	q := &model.QueueConfig{Name: t.name()}
	q.Partitions = int(t.integer("partitions", 1, 1, 100_000, false))
	switch q.PartitionBy = t.str("partition_by", "key"); q.PartitionBy {
	case "key", "round_robin", "random":
	default:
		d.errorf(t.key("partition_by"), "want \"key\" (a hash of the request key), \"round_robin\" or \"random\", got %q", q.PartitionBy)
	}
	q.Ordered = t.boolean("ordered", true)
	q.Publish = t.distribution("publish")
	q.Capacity = int(t.integer("capacity", model.Unlimited, 1, 1_000_000_000, true))
	q.Consumer = t.str("consumer", "")
	if q.Consumer == "" {
		d.errorf(t.key("consumer"), "missing: the service whose instances consume the messages")
	}
	q.Endpoint = t.str("endpoint", "")
	q.Prefetch = int(t.integer("prefetch", 10, 1, 1_000_000, false))
	if q.Ordered && t.has("prefetch") {
		d.errorf(t.key("prefetch"), "prefetch applies to unordered queues (ordered = false): an ordered partition has one message in flight")
	}
	switch ack := t.str("ack", "after"); ack {
	case "after":
		q.AckAfter = true
	case "before":
	default:
		d.errorf(t.key("ack"), "want \"after\" (at least once: a failed message is delivered again) or \"before\" (at most once), got %q", ack)
	}
	q.Redelivery = t.duration("redelivery", 30*sim.Second)
	q.Rebalance = t.duration("rebalance", 0)
	if !q.Ordered && t.has("rebalance") {
		d.errorf(t.key("rebalance"), "rebalance applies to ordered queues (Kafka consumer groups): competing consumers (ordered = false) take messages without a partition assignment")
	}
	q.PricePerHour = d.price(t)
	t.done(nil)
	return q
}
