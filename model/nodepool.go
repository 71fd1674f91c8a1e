package model

import "github.com/capsim/capsim/sim"

// NodePoolConfig is a Kubernetes node pool under the Cluster Autoscaler.
// Services that name it place their pods (instances) on its nodes by their
// cpu and memory requests; a pod that fits on no node stays Pending — not
// ready, not billed — until the autoscaler adds a node for it. The pool's
// cost is its nodes'; its services' own prices are not charged.
type NodePoolConfig struct {
	Name         string
	Cores        int
	MemoryGB     float64
	PricePerHour float64
	Min, Max     int
	// Provision is how long a new node takes to join (cloud boot and
	// kubelet registration).
	Provision sim.Time
	// ScanInterval is how often the autoscaler looks (--scan-interval,
	// 10 s). A node whose requested cpu and memory both stay below
	// Threshold (--scale-down-utilization-threshold, 0.5) for Unneeded
	// (--scale-down-unneeded-time, 10 min) is drained and removed if its
	// pods fit on the other nodes, not within ScaleDownDelay
	// (--scale-down-delay-after-add, 10 min) of a scale-up.
	ScanInterval   sim.Time
	Unneeded       sim.Time
	Threshold      float64
	ScaleDownDelay sim.Time
}

func (c *NodePoolConfig) ComponentName() string             { return c.Name }
func (c *NodePoolConfig) Kind() Kind                        { return KindNodePool }
func (c *NodePoolConfig) EndpointConfigs() []EndpointConfig { return nil }
func (c *NodePoolConfig) DefaultEndpoint(bool) string       { return "" }
func (c *NodePoolConfig) Forward() string                   { return "" }
func (c *NodePoolConfig) FleetConfig() *Fleet               { return nil }

func (c *NodePoolConfig) newComponent(b *builder) component {
	p := &nodePool{compBase: newBase(c, b.idx), cfg: c, lastUp: -sim.Hour}
	b.sim.pools = append(b.sim.pools, p)
	return p
}

type nodeState uint8

const (
	nodeProvisioning nodeState = iota
	nodeReady
	nodeDraining // its pods were evicted; it goes once they have finished
	nodeGone
)

type node struct {
	state            nodeState
	cpuFree, memFree float64
	pods             int
	lowSince         sim.Time // since when its requests have been under the threshold; −1: they are not
}

// podRef names a pod: an instance of a station.
type podRef struct{ st, inst int32 }

// nodePool is the run-time state of a NodePoolConfig.
type nodePool struct {
	compBase
	cfg      *NodePoolConfig
	stations []*station // the services on the pool
	nodes    []node
	pending  []podRef // FIFO; pods gone meanwhile are skipped

	nodesLvl   sim.Level // nodes asked for (billed): provisioning and ready
	readyCores sim.Level // cores of ready nodes
	requested  sim.Level // cpu requested by pods bound to ready nodes, in millicores
	pendingLvl sim.Level // pods waiting for a node
	minSeen    int
	maxSeen    int
	lastUp     sim.Time
	ups, downs int
}

func (p *nodePool) receive(s *Sim, ci int32) { s.finishCall(ci, outError) } // never called: a pool takes no calls

// start creates the pool's first nodes — enough for the pods its services
// start with, at least min, at most max — binds those pods, and schedules
// the autoscaler.
func (p *nodePool) start(s *Sim) {
	var pods []podRef
	for _, st := range p.stations {
		for i := range st.insts {
			pods = append(pods, podRef{st.idx, int32(i)})
		}
	}
	n := max(p.cfg.Min, p.nodesFor(pods, nil))
	n = min(n, p.cfg.Max)
	for k := 0; k < n; k++ {
		p.addNode(s, 0, true)
	}
	for _, pr := range pods {
		st := s.stations[pr.st]
		if !p.bind(s, st, pr.inst) {
			p.pend(pr, 0)
			continue
		}
		st.fleet.makeReady(s, st, pr.inst, 0)
		st.insts[pr.inst].readyAt = -sim.Hour // up, warm and past initialisation, like any initial instance
	}
	p.minSeen, p.maxSeen = n, n
	s.eng.At(p.cfg.ScanInterval, opScan, p.idx, 0)
}

// nodesFor is how many empty nodes the pods need, placed first fit,
// after the free room of the given nodes is used (nil: none).
func (p *nodePool) nodesFor(pods []podRef, upcoming []node) int {
	free := append([]node(nil), upcoming...)
	added := 0
	for _, pr := range pods {
		cpu, mem := p.request(pr)
		placed := false
		for k := range free {
			if free[k].cpuFree >= cpu && free[k].memFree >= mem {
				free[k].cpuFree -= cpu
				free[k].memFree -= mem
				placed = true
				break
			}
		}
		if !placed {
			free = append(free, node{cpuFree: float64(p.cfg.Cores) - cpu, memFree: p.cfg.MemoryGB - mem})
			added++
		}
	}
	return added
}

func (p *nodePool) request(pr podRef) (cpu, mem float64) {
	for _, st := range p.stations {
		if st.idx == pr.st {
			return st.cfg.PodCPU, st.cfg.PodMemoryGB
		}
	}
	return 0, 0
}

func (p *nodePool) addNode(s *Sim, now sim.Time, ready bool) {
	p.nodes = append(p.nodes, node{state: nodeProvisioning, cpuFree: float64(p.cfg.Cores), memFree: p.cfg.MemoryGB, lowSince: -1})
	p.nodesLvl.Add(now, 1)
	k := int32(len(p.nodes) - 1)
	if ready {
		p.nodeReady(s, k)
		return
	}
	s.eng.At(now+p.cfg.Provision, opNodeReady, k, uint32(p.idx))
}

// nodeReady lets node k take pods: the pending ones that fit move in.
func (p *nodePool) nodeReady(s *Sim, k int32) {
	now := s.eng.Now()
	p.nodes[k].state = nodeReady
	p.readyCores.Add(now, int64(p.cfg.Cores))
	p.schedulePending(s)
}

// bind places pod inst of st on the ready node with the most free cpu
// (kube-scheduler's LeastAllocated scoring), and reports whether one had
// room.
func (p *nodePool) bind(s *Sim, st *station, inst int32) bool {
	cpu, mem := st.cfg.PodCPU, st.cfg.PodMemoryGB
	best := -1
	for k := range p.nodes {
		nd := &p.nodes[k]
		if nd.state == nodeReady && nd.cpuFree >= cpu && nd.memFree >= mem && (best < 0 || nd.cpuFree > p.nodes[best].cpuFree) {
			best = k
		}
	}
	if best < 0 {
		return false
	}
	nd := &p.nodes[best]
	nd.cpuFree -= cpu
	nd.memFree -= mem
	nd.pods++
	st.insts[inst].node = int32(best) + 1
	p.requested.Add(s.eng.Now(), int64(cpu*1000+0.5))
	return true
}

// place binds a new pod and starts it, or leaves it Pending.
func (p *nodePool) place(s *Sim, st *station, inst int32) {
	now := s.eng.Now()
	if !p.bind(s, st, inst) {
		p.pend(podRef{st.idx, inst}, now)
		return
	}
	st.fleet.starting(s, st, inst, now)
}

func (p *nodePool) pend(pr podRef, now sim.Time) {
	p.pending = append(p.pending, pr)
	p.pendingLvl.Add(now, 1)
}

// schedulePending binds the pending pods that fit now, in order.
func (p *nodePool) schedulePending(s *Sim) {
	now := s.eng.Now()
	keep := p.pending[:0]
	for _, pr := range p.pending {
		st := s.stations[pr.st]
		if st.insts[pr.inst].state != instStarting { // removed while pending
			continue
		}
		if p.bind(s, st, pr.inst) {
			p.pendingLvl.Add(now, -1)
			st.fleet.starting(s, st, pr.inst, now)
			continue
		}
		keep = append(keep, pr)
	}
	p.pending = keep
}

// unbind frees the node of a pod that is gone; a pending pod leaves the
// queue.
func (p *nodePool) unbind(s *Sim, st *station, inst int32) {
	now := s.eng.Now()
	in := &st.insts[inst]
	if in.node == 0 {
		p.pendingLvl.Add(now, -1)
		return
	}
	k := in.node - 1
	nd := &p.nodes[k]
	nd.cpuFree += st.cfg.PodCPU
	nd.memFree += st.cfg.PodMemoryGB
	nd.pods--
	in.node = 0
	if nd.state == nodeDraining {
		if nd.pods == 0 {
			p.removeNode(now, k)
		}
		return
	}
	p.requested.Add(now, -int64(st.cfg.PodCPU*1000+0.5))
	p.schedulePending(s)
}

func (p *nodePool) removeNode(now sim.Time, k int32) {
	nd := &p.nodes[k]
	if nd.state == nodeReady {
		p.readyCores.Add(now, -int64(p.cfg.Cores))
	}
	nd.state = nodeGone
	p.nodesLvl.Add(now, -1)
}

// drain removes under-used node k if its pods fit on the other ready
// nodes: each is evicted — it finishes what it has and takes nothing new —
// and its service starts a replacement on another node at once (a
// ReplicaSet recreating an evicted pod), ready after its start delay. The
// node is gone when its last pod is. It reports whether it drained.
func (p *nodePool) drain(s *Sim, k int) bool {
	now := s.eng.Now()
	var pods []podRef
	for _, st := range p.stations {
		for i := range st.insts {
			if in := &st.insts[i]; in.node == int32(k)+1 && in.state != instGone && in.state != instDraining {
				pods = append(pods, podRef{st.idx, int32(i)})
			}
		}
	}
	var others []node
	for j, nd := range p.nodes {
		if j != k && nd.state == nodeReady {
			others = append(others, nd)
		}
	}
	if p.nodesFor(pods, others) > 0 {
		return false // they would not all fit elsewhere
	}
	nd := &p.nodes[k]
	nd.state = nodeDraining
	p.readyCores.Add(now, -int64(p.cfg.Cores))
	p.requested.Add(now, -int64((float64(p.cfg.Cores)-nd.cpuFree)*1000+0.5))
	for _, pr := range pods {
		st := s.stations[pr.st]
		st.fleet.evict(s, st, pr.inst, now)
	}
	if nd = &p.nodes[k]; nd.state == nodeDraining && nd.pods == 0 { // no pod was left running
		p.removeNode(now, int32(k))
	}
	p.downs++
	return true
}

// scan is one Cluster Autoscaler loop: scale up for pods that fit nowhere,
// even on the nodes being provisioned; drain and remove a node that has
// been under-used for the unneeded time when its pods fit elsewhere.
func (p *nodePool) scan(s *Sim) {
	now := s.eng.Now()
	var waiting []podRef
	for _, pr := range p.pending {
		if s.stations[pr.st].insts[pr.inst].state == instStarting {
			waiting = append(waiting, pr)
		}
	}
	live := 0
	var upcoming []node
	for _, nd := range p.nodes {
		switch nd.state {
		case nodeProvisioning:
			upcoming = append(upcoming, nd)
			live++
		case nodeReady:
			live++
		}
	}
	if need := p.nodesFor(waiting, upcoming); need > 0 && live < p.cfg.Max {
		add := min(need, p.cfg.Max-live)
		for k := 0; k < add; k++ {
			p.addNode(s, now, false)
		}
		live += add
		p.ups++
		p.lastUp = now
	}
	for k := range p.nodes {
		nd := &p.nodes[k]
		if nd.state != nodeReady {
			continue
		}
		used := max(1-nd.cpuFree/float64(p.cfg.Cores), 1-nd.memFree/p.cfg.MemoryGB)
		if used >= p.cfg.Threshold {
			nd.lowSince = -1
			continue
		}
		if nd.lowSince < 0 {
			nd.lowSince = now
		}
		if now-nd.lowSince >= p.cfg.Unneeded && now-p.lastUp >= p.cfg.ScaleDownDelay && live > p.cfg.Min && p.drain(s, k) {
			live--
		}
	}
	p.minSeen, p.maxSeen = min(p.minSeen, live), max(p.maxSeen, live)
	s.eng.At(now+p.cfg.ScanInterval, opScan, p.idx, 0)
}

func (p *nodePool) live() int {
	return int(p.nodesLvl.Value())
}

func (p *nodePool) resetStats(now sim.Time) {
	p.stats.reset(now)
	p.nodesLvl.ResetRun(now)
	p.readyCores.ResetRun(now)
	p.requested.ResetRun(now)
	p.pendingLvl.ResetRun(now)
	p.minSeen, p.maxSeen = p.live(), p.live()
	p.ups, p.downs = 0, 0
}

func (p *nodePool) closeWindow(now sim.Time) ComponentWindow {
	cw := p.stats.closeWindow(now)
	cores, _ := p.readyCores.CloseWindow(now)
	req, _ := p.requested.CloseWindow(now)
	cw.Queue, _ = p.pendingLvl.CloseWindow(now)
	p.nodesLvl.CloseWindow(now)
	cw.Instances, cw.Ready = p.live(), p.live()
	if cores > 0 {
		cw.Utilization = req / 1000 / cores
	}
	return cw
}

func (p *nodePool) result(now, measuredFrom sim.Time) ComponentResult {
	c := p.compBase.result(now)
	c.Cores = p.cfg.Cores
	if cores := p.readyCores.Mean(now); cores > 0 {
		c.Utilization = p.requested.Mean(now) / 1000 / cores
	}
	c.Instances = Instances{Mean: p.nodesLvl.Mean(now), Min: p.minSeen, Max: p.maxSeen, End: p.live()}
	c.QueueMean, c.QueueMax = p.pendingLvl.Mean(now), p.pendingLvl.Max()
	c.ScaleEvents = p.ups + p.downs
	c.CostUSD = p.cfg.PricePerHour * p.nodesLvl.Mean(now) * (now - measuredFrom).Seconds() / 3600
	return c
}

func (p *nodePool) costSoFar(now sim.Time) float64 {
	return cost(p.cfg.PricePerHour, p.nodesLvl.Area(now))
}
