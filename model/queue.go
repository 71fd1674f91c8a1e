package model

import (
	"github.com/capsim/capsim/model/dist"
	"github.com/capsim/capsim/sim"
)

// QueueConfig is a message queue or broker topic with a consumer group
// (Kafka, SQS, RabbitMQ). A publish step appends a message to one of
// Partitions and waits for the broker's ack (Publish); the Consumer
// service's instances take messages and run Endpoint for each.
//
// Ordered (Kafka): partitions are assigned to the consumer's ready
// instances like Kafka's range assignor (sorted partitions in contiguous
// ranges, the first P mod C consumers one more; consumers beyond the
// partition count idle), and each partition has at most one message in
// flight, consumed in order. Unordered (SQS, RabbitMQ): competing
// consumers take any message, each instance holding at most Prefetch
// unacknowledged messages. With AckAfter a message whose processing fails
// (a crashed consumer, an error) is delivered again, first in its
// partition; with ack before, it is lost.
type QueueConfig struct {
	Name        string
	Partitions  int
	PartitionBy string // "key", "round_robin" or "random"
	Ordered     bool
	Publish     dist.Dist // producer-to-ack latency; nil: none
	Capacity    int       // messages per partition; Unlimited: none
	Consumer    string
	Endpoint    string
	Prefetch    int
	AckAfter    bool
	// Redelivery is how long a message whose processing failed stays
	// invisible before it is delivered again (SQS's visibility timeout;
	// for Kafka, the consumer's session timeout before its partition moves
	// on); its partition waits meanwhile.
	Redelivery sim.Time
	// Rebalance is how long an ordered queue's consumer group stops
	// consuming after its membership changes (an instance joins or leaves):
	// Kafka's eager, stop-the-world rebalance. Messages already being
	// processed finish; nothing new is taken until the pause is over, and
	// a change during the pause restarts it. 0: no pause.
	Rebalance    sim.Time
	PricePerHour float64
}

func (c *QueueConfig) ComponentName() string             { return c.Name }
func (c *QueueConfig) Kind() Kind                        { return KindQueue }
func (c *QueueConfig) EndpointConfigs() []EndpointConfig { return nil }
func (c *QueueConfig) DefaultEndpoint(bool) string       { return "" }
func (c *QueueConfig) Forward() string                   { return "" }
func (c *QueueConfig) FleetConfig() *Fleet               { return nil }

func (c *QueueConfig) newComponent(b *builder) component {
	q := &queue{compBase: newBase(c, b.idx), cfg: c,
		parts:   make([]partition, c.Partitions),
		partMax: make([]int64, c.Partitions),
		rngPart: sim.NewStream(b.seed, c.Name, "partition"),
		rngAck:  sim.NewStream(b.seed, c.Name, "ack"),
		age:     sim.NewHistogram(), winAge: sim.NewHistogram(),
		lat: sim.NewHistogram(), winLat: sim.NewHistogram(),
	}
	q.cons, q.ep = b.graph.consumers[b.idx].tgt, b.graph.consumers[b.idx].ep
	b.sim.queues = append(b.sim.queues, q)
	return q
}

// queue is the run-time state of a QueueConfig.
type queue struct {
	compBase
	cfg      *QueueConfig
	consumer *station
	// fn is the consumer when it is a function (Lambda's event source
	// mapping): each message is an asynchronous invocation, at most one per
	// ordered partition, at most maxFn at once for an unordered queue.
	fn       *function
	maxFn    int
	cons, ep int32
	parts    []partition
	msgs     []message
	free     []int32
	rr       int // round-robin partition, and consumer for unordered queues
	rngPart  *sim.Stream
	rngAck   *sim.Stream

	// Ordered: partition → consumer instance, for the ready list of
	// version assigned.
	assign   []int32
	assigned uint64
	// pausedUntil is the end of the current rebalance pause.
	pausedUntil sim.Time
	rebalances  int64
	// Unordered: unacknowledged messages per instance.
	outstanding []int

	lag                       sim.Level // messages published and not yet taken
	partMax                   []int64   // per partition, the most waiting (measured period)
	age, winAge, lat, winLat  *sim.Histogram
	published, rejected, done int64
	failed, redelivered, lost int64
	inFlight                  int64
	held                      []int32 // failed messages waiting to be delivered again
}

type partition struct {
	waiting  ring
	inflight bool
}

type message struct {
	key      uint64
	at       sim.Time // published
	part     int32
	measured bool
}

func (q *queue) receive(s *Sim, ci int32) { s.finishCall(ci, outError) } // never called: publish steps do not make calls
func (q *queue) start(s *Sim) {
	q.consumer = s.stations[q.cons]
	q.consumer.queues = append(q.consumer.queues, q)
	if fn, ok := s.comps[q.cons].(*function); ok {
		q.fn = fn
		q.maxFn = 1000 // Lambda's default account concurrency, when the function sets no limit
		if m := fn.cfg.MaxInstances; m != Unlimited {
			q.maxFn = m * fn.cfg.Concurrency
		}
	}
}

// pumpAll hands waiting messages to consumers in every partition.
func (q *queue) pumpAll(s *Sim) {
	for p := range q.parts {
		q.pump(s, p)
	}
}

// membersChanged is told that the consumer group gained or lost a ready
// instance. An ordered queue with a rebalance pause stops handing out
// messages until it is over (a further change restarts it); otherwise the
// new consumer takes its partitions (or messages) at once.
func (q *queue) membersChanged(s *Sim) {
	now := s.eng.Now()
	if !q.cfg.Ordered || q.cfg.Rebalance <= 0 {
		q.pumpAll(s)
		return
	}
	if now >= q.pausedUntil && now >= s.cfg.Warmup { // a change during a pause is part of it
		q.rebalances++
	}
	q.pausedUntil = now + q.cfg.Rebalance
	s.eng.At(q.pausedUntil, opRebalanced, q.idx, 0)
}

// rebalanced resumes consumption when the latest rebalance pause is over.
func (q *queue) rebalanced(s *Sim) {
	if s.eng.Now() >= q.pausedUntil {
		q.pumpAll(s)
	}
}

// publish appends request ri's message, or reports false when its
// partition is full.
func (q *queue) publish(s *Sim, ri int32) bool {
	r := &s.reqs[ri]
	now := s.eng.Now()
	var p int
	switch {
	case q.cfg.PartitionBy == "key" && r.key != 0:
		p = int(sim.Mix64(r.key) % uint64(len(q.parts)))
	case q.cfg.PartitionBy == "random":
		p = q.rngPart.IntN(len(q.parts))
	default:
		p = q.rr % len(q.parts)
		q.rr++
	}
	measured := now >= s.cfg.Warmup
	part := &q.parts[p]
	if q.cfg.Capacity != Unlimited && part.waiting.len() >= q.cfg.Capacity {
		if measured {
			q.rejected++
		}
		return false
	}
	s.enter() // a waiting message holds memory as a request does
	var m int32
	if n := len(q.free); n > 0 {
		m = q.free[n-1]
		q.free = q.free[:n-1]
	} else {
		q.msgs = append(q.msgs, message{})
		m = int32(len(q.msgs) - 1)
	}
	q.msgs[m] = message{key: r.key, at: now, part: int32(p), measured: measured}
	if measured {
		q.published++
	}
	part.waiting.push(m)
	q.lag.Add(now, 1)
	if l := int64(part.waiting.len()); measured && l > q.partMax[p] {
		q.partMax[p] = l
	}
	q.pump(s, p)
	return true
}

// ackLatency is the producer's wait for the broker's ack.
func (q *queue) ackLatency() sim.Time {
	if q.cfg.Publish == nil {
		return 0
	}
	return q.cfg.Publish.Sample(q.rngAck)
}

// assignment is the ordered queue's partition → instance map for the
// consumer's current ready list (Kafka's range assignor).
func (q *queue) assignment() []int32 {
	st := q.consumer
	if q.assign != nil && q.assigned == st.readyVersion {
		return q.assign
	}
	if q.fn != nil { // every partition has its own concurrent invocation
		if q.assign == nil {
			q.assign = make([]int32, len(q.parts))
		}
		q.assigned = st.readyVersion
		return q.assign
	}
	if q.assign == nil {
		q.assign = make([]int32, len(q.parts))
	}
	n, c := len(q.parts), len(st.ready)
	for p := range q.assign {
		q.assign[p] = -1
	}
	if c > 0 {
		per, extra, p := n/c, n%c, 0
		for k := 0; k < c && p < n; k++ {
			take := per
			if k < extra {
				take++
			}
			for ; take > 0; take-- {
				q.assign[p] = st.ready[k]
				p++
			}
		}
	}
	q.assigned = st.readyVersion
	return q.assign
}

// pump hands waiting messages of partition p (all partitions for an
// unordered queue) to consumers that can take them.
func (q *queue) pump(s *Sim, p int) {
	if q.cfg.Ordered {
		part := &q.parts[p]
		if part.inflight || part.waiting.len() == 0 || s.eng.Now() < q.pausedUntil {
			return
		}
		inst := q.assignment()[p]
		if inst < 0 {
			return // no consumer for it
		}
		part.inflight = true
		q.deliver(s, part.waiting.pop(), inst)
		return
	}
	st := q.consumer
	for q.lag.Value() > 0 {
		inst := q.idleConsumer(st)
		if inst < 0 {
			return
		}
		// The oldest head among the partitions (one partition for SQS).
		best := -1
		for k := range q.parts {
			if q.parts[k].waiting.len() > 0 && (best < 0 || q.msgs[q.parts[k].waiting.peek()].at < q.msgs[q.parts[best].waiting.peek()].at) {
				best = k
			}
		}
		q.outstanding[inst]++
		q.deliver(s, q.parts[best].waiting.pop(), inst)
	}
}

// idleConsumer is a ready instance with fewer than Prefetch messages, in
// turn, or −1.
func (q *queue) idleConsumer(st *station) int32 {
	if q.fn != nil { // one pseudo-consumer: the function, up to its concurrency
		if len(q.outstanding) == 0 {
			q.outstanding = append(q.outstanding, 0)
		}
		if q.outstanding[0] < q.maxFn {
			return 0
		}
		return -1
	}
	for len(q.outstanding) < len(st.insts) {
		q.outstanding = append(q.outstanding, 0)
	}
	for k := range st.ready {
		i := st.ready[(q.rr+k)%len(st.ready)]
		if q.outstanding[i] < q.cfg.Prefetch {
			q.rr = (q.rr + k + 1) % len(st.ready)
			return i
		}
	}
	return -1
}

// deliver starts the consumer's processing of message m at instance inst.
func (q *queue) deliver(s *Sim, m int32, inst int32) {
	now := s.eng.Now()
	msg := &q.msgs[m]
	q.lag.Add(now, -1)
	q.inFlight++
	if msg.measured {
		q.winAge.Record(now - msg.at)
	}
	s.live-- // the message becomes the request that processes it
	ri := s.requestSlot()
	r := &s.reqs[ri]
	*r = request{src: -1, key: msg.key, intended: msg.at, token: r.token + 1, measured: msg.measured, detached: true, msg: m, queue: q.idx + 1, inst: inst, zone: -1}
	ci := s.newCall(ri, noParent, 0, q.cons, q.ep)
	if q.fn != nil {
		q.fn.receive(s, ci) // an asynchronous invocation: it waits if the function is at its limit
		return
	}
	q.consumer.arrive(s, ci, inst)
}

// processed takes the consumer's answer for message m.
func (q *queue) processed(s *Sim, m int32, o outcome, inst int32) {
	now := s.eng.Now()
	msg := q.msgs[m]
	q.inFlight--
	if !q.cfg.Ordered && int(inst) < len(q.outstanding) && inst >= 0 {
		q.outstanding[inst]--
	}
	part := &q.parts[msg.part]
	part.inflight = false
	switch {
	case o == outOK:
		if msg.measured {
			q.done++
			q.winLat.Record(now - msg.at)
		}
		q.free = append(q.free, m)
	case q.cfg.AckAfter: // not acknowledged: delivered again, first, after the redelivery delay
		if msg.measured {
			q.redelivered++
		}
		part.inflight = true // an ordered partition waits for it
		q.held = append(q.held, m)
		s.enter() // held again, apart from its request (freed next)
		s.eng.After(max(q.cfg.Redelivery, 1), opRedeliver, q.idx, uint32(m))
		return
	default: // acknowledged before processing: lost
		if msg.measured {
			q.lost++
		}
		q.free = append(q.free, m)
	}
	q.pump(s, int(msg.part))
}

// redeliver makes message m visible again, first in its partition.
func (q *queue) redeliver(s *Sim, m int32) {
	for k, h := range q.held {
		if h == m {
			q.held = append(q.held[:k], q.held[k+1:]...)
			break
		}
	}
	part := &q.parts[q.msgs[m].part]
	part.inflight = false
	part.waiting.pushFront(m)
	q.lag.Add(s.eng.Now(), 1)
	if q.cfg.Ordered {
		q.pump(s, int(q.msgs[m].part))
	} else {
		q.pump(s, 0)
	}
}

func (q *queue) resetStats(now sim.Time) {
	q.stats.reset(now)
	q.lag.ResetRun(now)
	q.age.Reset()
	q.winAge.Reset()
	q.lat.Reset()
	q.winLat.Reset()
	q.published, q.rejected, q.done, q.failed, q.redelivered, q.lost, q.rebalances = 0, 0, 0, 0, 0, 0, 0
	for p := range q.partMax {
		q.partMax[p] = int64(q.parts[p].waiting.len())
	}
}

func (q *queue) closeWindow(now sim.Time) ComponentWindow {
	cw := q.stats.closeWindow(now)
	cw.Lag, _ = q.lag.CloseWindow(now)
	cw.AgeP99 = q.winAge.Quantile(0.99)
	q.age.Merge(q.winAge)
	q.winAge.Reset()
	q.lat.Merge(q.winLat)
	q.winLat.Reset()
	return cw
}

func (q *queue) result(now, measuredFrom sim.Time) ComponentResult {
	q.age.Merge(q.winAge)
	q.winAge.Reset()
	q.lat.Merge(q.winLat)
	q.winLat.Reset()
	c := q.compBase.result(now)
	c.CostUSD = q.cfg.PricePerHour * (now - measuredFrom).Seconds() / 3600
	c.Broker = &BrokerResult{Published: q.published, Rejected: q.rejected, Processed: q.done, Redelivered: q.redelivered,
		Lost: q.lost, Rebalances: q.rebalances, Waiting: q.lag.Value() + int64(len(q.held)), InFlight: q.inFlight, LagMean: q.lag.Mean(now), LagMax: q.lag.Max(),
		PartitionLagMax: append([]int64(nil), q.partMax...), Age: summarize(q.age), Latency: summarize(q.lat)}
	return c
}

func (q *queue) costSoFar(now sim.Time) float64 { return q.cfg.PricePerHour * now.Seconds() / 3600 }

// BrokerResult is a queue's outcome over the measured period.
type BrokerResult struct {
	Published, Rejected, Processed, Redelivered, Lost int64
	Rebalances                                        int64 // consumer-group membership changes that paused consumption
	Waiting, InFlight                                 int64 // at the end
	LagMean                                           float64
	LagMax                                            int64
	PartitionLagMax                                   []int64
	Age                                               Latency // publish → consumption start
	Latency                                           Latency // publish → processed
}
