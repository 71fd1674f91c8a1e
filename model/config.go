package model

import (
	"github.com/capsim/capsim/model/dist"
	"github.com/capsim/capsim/sim"
)

// Config is a complete, validated scenario. Slices are sorted by name so that
// a run never depends on map order.
type Config struct {
	Name        string
	Description string
	Duration    sim.Time // simulated time
	Warmup      sim.Time // requests intended to start earlier are not counted
	Window      sim.Time // time-series resolution
	Seed        uint64
	// MaxInFlight stops a run with an error when more requests than this
	// are in the system at once (0: DefaultMaxInFlight; Unlimited: none),
	// before an overloaded component's unbounded queue exhausts memory.
	MaxInFlight int

	Traffic []TrafficConfig
	// Components are the system's services, balancers, caches and
	// databases (and whatever kinds come next), sorted by name.
	Components []ComponentConfig
	// Faults happen to components at given times.
	Faults []FaultConfig
	// Network, if set, puts time (and zones) between components.
	Network *NetworkConfig
}

// Kind is a component's kind: the name of its scenario table, and
// summary.json's components.NAME.kind.
type Kind string

// The component kinds.
const (
	KindService  Kind = "service"
	KindBalancer Kind = "balancer"
	KindCache    Kind = "cache"
	KindDatabase Kind = "database"
	KindQueue    Kind = "queue"
	KindFunction Kind = "function"
	KindNodePool Kind = "nodepool"
)

// ComponentConfig is one component's configuration. Each kind is its own
// type, in its own file (service.go, balancer.go, cache.go, database.go),
// and this is all the rest of the model needs to know of it.
type ComponentConfig interface {
	// ComponentName is the component's name, unique in the scenario.
	ComponentName() string
	// Kind is the component's kind, as its scenario table is named.
	Kind() Kind
	// EndpointConfigs are the endpoints calls can reach (none for a
	// balancer, whose calls reach its Forward component).
	EndpointConfigs() []EndpointConfig
	// DefaultEndpoint is the endpoint a call that names none reaches ("":
	// the one named like the caller's endpoint, else the only one). write
	// says whether the call writes the request's key.
	DefaultEndpoint(write bool) string
	// Forward is the component a balancer passes its calls to; "" for
	// components that do the work themselves.
	Forward() string
	// FleetConfig is the component's instances, or nil when it has none.
	FleetConfig() *Fleet

	// newComponent builds the run-time state of the component for one run.
	newComponent(b *builder) component
}

// Label names a component by kind and name, as its scenario table does
// ("service.web", "balancer.lb").
func Label(c ComponentConfig) string { return string(c.Kind()) + "." + c.ComponentName() }

// Find returns the component named name, or nil.
func (c *Config) Find(name string) ComponentConfig {
	for _, k := range c.Components {
		if k.ComponentName() == name {
			return k
		}
	}
	return nil
}

// Unlimited marks a concurrency or queue limit that is not set.
const Unlimited = -1

// DefaultMaxInFlight is the default Config.MaxInFlight. A queued request
// takes about 760 bytes of the process's memory with its call, its queue
// entry and the slack of growing slabs (measured: 3.0 GB resident at 4M
// queued at one service), so the default stops a runaway run near 0.8 GB —
// far beyond what a system that keeps up holds (a million requests in
// flight), and the same on every machine, so that a scenario runs or stops
// alike everywhere.
const DefaultMaxInFlight = 1_000_000

// TrafficConfig is one traffic source: how its requests arrive
// (Arrivals), what each asks for, and where it sends them.
type TrafficConfig struct {
	Name     string
	To       string   // receiving component
	Start    sim.Time // offset of the first arrival
	Stop     sim.Time // no arrivals at or after Stop (0: the end of the run)
	Timeout  sim.Time // client timeout (0: none)
	Arrivals ArrivalProcess

	// What each arrival does: one request (Endpoint or a draw from Mix), or
	// a Session of requests.
	Endpoint string
	Mix      []MixEntry
	Session  []SessionStep
	Keys     dist.Keys // nil: requests carry no key
	// Zones are where the clients are, with their shares of the requests
	// (a network zone each); none: outside every zone, no network time.
	// Zone may name a region: its share is split evenly over the region's
	// zones.
	Zones []ZoneShare
}

// ZoneShare is a share of a traffic source's requests from one zone.
type ZoneShare struct {
	Zone  string
	Share float64
}

// TraceRow is one row of a trace: a request at At (since the trace's
// origin), with its key and endpoint, or for count traces Count requests in
// [At, At+Interval).
type TraceRow struct {
	At       sim.Time
	Key      uint64
	Endpoint string
	Count    int64
}

// TraceReader streams a trace's rows in time order. Next reports false at
// the end or on an error, which Err then returns. Readers keep only the row
// at hand, so a trace of any length replays in constant memory.
type TraceReader interface {
	Next() (TraceRow, bool)
	Err() error
	Close() error
}

// Spread places requests that share a timestamp within its resolution.
type Spread int

const (
	SpreadNone   Spread = iota // all at the timestamp
	SpreadEven                 // evenly over the resolution
	SpreadRandom               // uniformly at random over it
)

// MixEntry is one endpoint of a request mix and its weight.
type MixEntry struct {
	Endpoint string
	Weight   float64
}

// SessionStep is one request of a user session: the user thinks for Think
// (after the previous response), then sends a request to Endpoint.
type SessionStep struct {
	Endpoint string
	Think    dist.Dist // nil: no think time
}

// Fleet is a set of identical instances: what services, caches and
// databases have in common.
type Fleet struct {
	Instances    int
	Cores        int
	Concurrency  int // per instance; Unlimited for none
	Queue        int // per instance, waiting for admission; Unlimited for none
	Algorithm    string
	NewPicker    func() Picker // spreads direct callers over instances
	Weights      []float64     // per instance, for weighted pickers
	PricePerHour float64       // per instance
	// PricePerCoreHour adds a price per core of an instance, so that an
	// instance costs PricePerHour + Cores × PricePerCoreHour per hour.
	PricePerCoreHour float64
	// RateLimit is a token bucket per instance: calls beyond it are
	// rejected at once (Rate 0: none).
	RateLimit RateLimit
	// MaxWait sheds load: a call that waited longer than this for a
	// concurrency slot is rejected when it reaches the head of the queue
	// (0: none).
	MaxWait   sim.Time
	Autoscale *AutoscaleConfig // nil: a fixed fleet of Instances
	// Zones spread the instances over the network's zones: instance i is
	// in Zones[i mod len(Zones)].
	Zones []string
	// NodePool, if set, is the node pool the instances (pods) run on, each
	// requesting PodCPU cores and PodMemoryGB; then the pool's nodes are
	// billed, not the instances.
	NodePool    string
	PodCPU      float64
	PodMemoryGB float64
	// USL makes an instance's cores scale with diminishing returns
	// (Gunther's Universal Scalability Law); the zero value is linear.
	USL         USL
	StartDelay  sim.Time // from being asked for (and billed) to taking requests
	Warmup      sim.Time // after start, cpu runs at WarmupSpeed for this long
	WarmupSpeed float64  // 0 < speed ≤ 1
}

// USL is the Universal Scalability Law (N. J. Gunther): an instance with N
// cores busy does X(N) = N / (1 + σ(N−1) + κN(N−1)) times the work of one,
// σ being Contention (serialisation) and κ Coherency (crosstalk). capsim
// applies it per cpu step: a step that gets a core while n of the
// instance's cores are busy (itself included) takes 1 + σ(n−1) + κn(n−1)
// times its sampled time, so a saturated instance's throughput is X(N)
// times one core's.
type USL struct{ Contention, Coherency float64 }

// Factor is how much longer a cpu step takes with n cores busy.
func (u USL) Factor(n int) float64 {
	m := float64(n)
	return 1 + u.Contention*(m-1) + u.Coherency*m*(m-1)
}

// On says whether the law departs from linear scaling.
func (u USL) On() bool { return u.Contention != 0 || u.Coherency != 0 }

// RateLimit is a token bucket: Rate tokens per second, at most Burst.
type RateLimit struct{ Rate, Burst float64 }

// InstancePrice is what one instance costs per hour.
func (f *Fleet) InstancePrice() float64 {
	return f.PricePerHour + float64(f.Cores)*f.PricePerCoreHour
}

// EndpointConfig is a named list of steps.
type EndpointConfig struct {
	Name  string
	Steps []Step
	Write bool // completing the endpoint successfully writes the request's key
	// RequestKB and ResponseKB are what a call to it sends and answers,
	// for the network's cross-zone egress.
	RequestKB, ResponseKB float64
}

// StepKind is what a step does.
type StepKind int

const (
	StepCPU      StepKind = iota // hold a core for Dist
	StepCall                     // call Target/Endpoint and wait for the answer
	StepSleep                    // wait for Dist, holding no core
	StepAsync                    // start a detached request at Target/Endpoint and go on at once
	StepParallel                 // run Branches at the same instant; go on when Wait of them succeeded
	StepPublish                  // append a message to queue Target; wait for its ack
)

// WaitAll is Step.Wait for a parallel step that needs every branch.
const WaitAll = 0

// Step is one step of an endpoint.
type Step struct {
	Kind     StepKind
	Dist     dist.Dist // cpu and sleep
	Target   string    // call, async: component name
	Endpoint string    // call, async: endpoint at the target ("" = the target's default)
	P        float64   // probability the step runs (1 = always)
	Timeout  sim.Time  // call: give up after this long (0 = wait forever)
	If       CacheCond // run only after a cache hit or miss in this endpoint
	Write    bool      // call: a successful call writes the request's key

	// Parallel: call steps started at the same instant, and how many must
	// succeed (WaitAll: every one; 1: any).
	Branches []Step
	Wait     int

	// Call retries: up to Retries more attempts when an attempt ends with
	// an outcome in RetryOn, attempt k waiting min(BackoffMax, Backoff ×
	// 2^(k−1)) (no cap when BackoffMax is 0), jittered. Each attempt has
	// the step's Timeout.
	Retries    int
	Backoff    sim.Time
	BackoffMax sim.Time
	Jitter     Jitter
	RetryOn    RetryOn
	// Breaker is a circuit breaker on the call; nil: none.
	Breaker *BreakerConfig
	// Budget limits the retries to a share of the calls; nil: none.
	Budget *RetryBudget
	// ContinueOnError: when the call fails (after its retries), the
	// endpoint goes on instead of failing, and IfError steps run.
	ContinueOnError bool
}

// Jitter is how a retry's backoff is randomised.
type Jitter int8

const (
	JitterFull  Jitter = iota // uniform in [0, d]
	JitterEqual               // d/2 + uniform in [0, d/2]
	JitterNone                // exactly d
)

// RetryOn says which failed attempts a call step retries.
type RetryOn struct{ Timeout, Error, Rejected bool }

func (r RetryOn) mask() uint8 {
	var m uint8
	if r.Timeout {
		m |= 1 << outTimeout
	}
	if r.Error {
		m |= 1 << outError
	}
	if r.Rejected {
		m |= 1 << outRejected
	}
	return m
}

// CacheCond makes a step conditional on the endpoint's last cache lookup
// (IfHit, IfMiss), or on its last call having failed (IfError: a fallback
// after a call step with OnError continue).
type CacheCond int8

const (
	Always CacheCond = iota
	IfHit
	IfMiss
	IfError
)

// Picker chooses the instance that receives a request. Implementations live
// in package policies; they see instance loads through Backends and draw
// randomness only from the stream they are given.
type Picker interface {
	Pick(b Backends, rng *sim.Stream) int
}

// Backends is a read-only view of a service's instances for a Picker.
type Backends interface {
	// Len is the number of instances that can take requests.
	Len() int
	// Load is the number of requests at instance i: admitted plus waiting.
	Load(i int) int
	// Weight is instance i's configured weight (1 when none is set).
	Weight(i int) float64
	// LeastLoaded is the instance with the smallest Load, the first at or
	// after from (then from 0) among equals, in O(log Len()).
	LeastLoaded(from int) int
	// ID is instance i's identity, stable while it lives (positions shift
	// as instances come and go); Index is the position of instance id, or
	// −1; Version changes whenever the set of instances does.
	ID(i int) int32
	Index(id int32) int
	Version() uint64
}

// LatencyPicker is a Picker that chooses by observed latency: the
// instances keep an exponentially weighted moving average of their
// response times for it (only stations that such a picker reaches pay for
// that).
type LatencyPicker interface {
	Picker
	UsesLatency()
}

// LatencyBackends is Backends with each instance's latency average (ns).
type LatencyBackends interface {
	Backends
	EWMA(i int) float64
}

// KeyPicker is a Picker that chooses by the request's key (consistent
// hashing); callers that have a key use PickKey instead of Pick.
type KeyPicker interface {
	Picker
	PickKey(b Backends, key uint64, rng *sim.Stream) int
}

// AutoscaleConfig attaches an autoscaler to a service.
type AutoscaleConfig struct {
	Policy string        // "hpa", ...
	New    func() Scaler // a fresh controller per run
	Metric Metric        // what the controller is fed (the first, for one that reads several)
	Sync   sim.Time      // how often it decides
	Scrape sim.Time      // metric collection period = averaging window
	Min    int
	Max    int
	// Schedule changes the bounds (and optionally the count) at given
	// times, as scheduled actions do.
	Schedule []ScheduledAction
	// Queue names the queue whose lag the scaler reads (KEDA).
	Queue string
}

// ScheduledAction sets an autoscaler's bounds at a time; Instances > 0 also
// sets the instance count (clamped to the new bounds).
type ScheduledAction struct {
	At        sim.Time
	Min, Max  int
	Instances int
}

// Metric is what an autoscaler measures per instance.
type Metric int

const (
	MetricCPU         Metric = iota // busy cores / cores, averaged over the scrape window
	MetricConcurrency               // requests in progress, averaged over the window
	MetricRPS                       // requests arriving per second over the window
	MetricCount                     // the number of metrics
)

// Scaler decides a service's instance count. Implementations live in
// package policies; they see only what the real controller could see.
type Scaler interface {
	// Decide is called every sync period. It returns the desired instance
	// count and the reason the real controller would give (for example
	// "SucceededRescale" or "ScaleDownStabilized"); an empty reason means
	// nothing worth reporting happened.
	Decide(now sim.Time, v ScaleView) (desired int, reason string)
}

// ScaleView is a controller's view of its service at a sync.
type ScaleView struct {
	Current int // instances asked for: ready and starting, not draining
	// External is an external metric at the sync (a queue's total lag),
	// and Partitions that queue's partitions, for lag-driven scalers.
	External   float64
	Partitions int
	Pods       []PodState // one per instance asked for, oldest first
	Min        int
	Max        int
}

// PodState is one instance as the controller sees it.
type PodState struct {
	Ready     bool     // false while starting (Kubernetes: Pending)
	Started   sim.Time // when it became ready
	HasSample bool     // a metric sample exists
	Value     float64  // the latest sample of the autoscaler's metric (cpu: fraction of the instance's cores)
	// Values are the latest samples of every metric, for controllers that
	// read several (an HPA with metrics = [...]).
	Values     [MetricCount]float64
	SampledAt  sim.Time // end of the sample's window
	Window     sim.Time // the sample's averaging window
	CoresMilli int64    // cpu request in millicores (cores × 1000)
}
