package model

import "slices"

// zonePick is Envoy's zone-aware routing (source/common/upstream/
// load_balancer_impl.cc): with p_up the share of the backend's instances
// in the caller's zone and p_down the share of the caller's own instances
// there, a caller routes all its calls in its zone while p_up ≥ p_down;
// otherwise only p_up / p_down of them, the rest spilling to the other
// zones in proportion to their residual capacity (p_up − p_down where
// positive). Within the chosen zone the balancer's algorithm picks. It
// reports false — route as usual — without a network zone for the caller
// or the backend, or with fewer than MinClusterSize ready instances.
func (b *balancer) zonePick(s *Sim, ci int32, st *station) (int32, bool) {
	c := &s.calls[ci]
	if s.net == nil || len(st.zones) == 0 || len(st.ready) < b.cfg.MinClusterSize {
		return -1, false
	}
	// The caller's zone, and the share of the callers in each zone: the
	// calling station's ready instances, or a traffic source's clients.
	var z int8
	var downShare func(k int) float64
	switch r := &s.reqs[c.req]; {
	case c.parent >= 0:
		p := &s.calls[c.parent]
		from := s.stations[p.at]
		z = from.zoneOf(p.inst)
		down, tot := b.callerZones(from)
		if tot == 0 {
			return -1, false
		}
		downShare = func(k int) float64 { return float64(down[k]) / float64(tot) }
	case c.parent == noParent && r.zone >= 0 && r.src >= 0:
		z = r.zone
		shr := s.sources[r.src].zoneShr
		downShare = func(k int) float64 { return shr[k] }
	default:
		return -1, false
	}
	if z < 0 {
		return -1, false
	}
	up := b.zoneList(st)
	totUp := len(st.ready)
	pUp := float64(len(up[z])) / float64(totUp)
	pDown := downShare(int(z))
	target := int(z)
	if pUp < pDown && b.rngPick.Float64() >= pUp/pDown {
		// Spill over: to the zones with residual capacity, in proportion.
		var sum float64
		if b.residual == nil {
			b.residual = make([]float64, maxZones)
		}
		res := b.residual
		for k := range up {
			res[k] = 0
			if k != int(z) {
				if r := float64(len(up[k]))/float64(totUp) - downShare(k); r > 0 {
					res[k] = r
					sum += r
				}
			}
		}
		if sum > 0 {
			x := b.rngPick.Float64() * sum
			for k, r := range res {
				if x < r {
					target = k
					break
				}
				x -= r
			}
		}
	}
	ids := up[target]
	if len(ids) == 0 {
		return -1, false
	}
	b.zview.st, b.zview.ids = st, ids
	var i int
	if kp, ok := b.picker.(KeyPicker); ok {
		i = kp.PickKey(&b.zview, s.reqs[c.req].key, b.rngPick)
	} else {
		i = b.picker.Pick(&b.zview, b.rngPick)
	}
	if i < 0 || i >= len(ids) {
		i = 0
	}
	return ids[i], true
}

// zoneList is the backend's ready instances by zone, rebuilt when its
// ready list changes.
func (b *balancer) zoneList(st *station) [][]int32 {
	if b.zoneBuilt && b.zoneVersion == st.readyVersion {
		return b.zoneIDs
	}
	if b.zoneIDs == nil {
		b.zoneIDs = make([][]int32, maxZones)
	}
	for k := range b.zoneIDs {
		b.zoneIDs[k] = b.zoneIDs[k][:0]
	}
	for _, id := range st.ready {
		z := st.zoneOf(id)
		b.zoneIDs[z] = append(b.zoneIDs[z], id)
	}
	b.zoneVersion, b.zoneBuilt = st.readyVersion, true
	return b.zoneIDs
}

// maxZones bounds the zone indices (the decoder allows 100 zones).
const maxZones = 100

// callerZones counts the caller station's ready instances by zone, and in
// all zones.
func (b *balancer) callerZones(from *station) ([]int, int) {
	for int(from.idx) >= len(b.callers) {
		b.callers = append(b.callers, nil)
	}
	zc := b.callers[from.idx]
	if zc == nil {
		zc = &zoneCount{n: make([]int, maxZones)}
		b.callers[from.idx] = zc
	} else if zc.version == from.readyVersion {
		return zc.n, zc.total
	}
	for k := range zc.n {
		zc.n[k] = 0
	}
	zc.total = 0
	for _, id := range from.ready {
		if z := from.zoneOf(id); z >= 0 {
			zc.n[z]++
			zc.total++
		}
	}
	zc.version = from.readyVersion
	return zc.n, zc.total
}

// overprovisioning is Envoy's default overprovisioning factor, in percent.
const overprovisioning = 140

// regionPick is Envoy's priority levels (arch_overview/upstream/
// load_balancing/priority; source/common/upstream/load_balancer_impl.cc)
// with the backend's instances in the caller's region as priority 0 and
// the others as priority 1. A level's health is min(100, 140 × its
// instances in rotation / its instances), in integer percent; priority 0
// takes its health's percent of the calls and priority 1 the rest, scaled
// up when the two healths add to less than 100. So a region keeps all its
// callers until fewer than 72 % of its instances are in rotation, then
// fails over in proportion. Within the level the balancer's algorithm
// picks among the instances in rotation (skip excluded). It reports false
// — route as usual — without regions, for a caller outside every zone, or
// when no instance is in rotation (Envoy's panic mode).
func (b *balancer) regionPick(s *Sim, ci int32, st *station, skip int32) (int32, bool) {
	if s.net == nil || s.net.region == nil || len(st.zones) == 0 {
		return -1, false
	}
	z := s.callerZone(ci)
	if z < 0 {
		return -1, false
	}
	pl := b.priorityLevels(s, st, s.net.region[z])
	up := [2][]int32{pl.up[0], pl.up[1]}
	if skip >= 0 { // a redispatch: leave out the instance that failed
		for l := range up {
			if k := slices.Index(up[l], skip); k >= 0 {
				up[l] = slices.Delete(slices.Clone(up[l]), k, k+1)
			}
		}
	}
	var h [2]int
	for l := range h {
		if pl.n[l] > 0 {
			h[l] = min(100, overprovisioning*len(up[l])/pl.n[l])
		}
	}
	if h[0]+h[1] == 0 {
		return -1, false
	}
	load0 := h[0]
	if h[0]+h[1] < 100 {
		load0 = h[0] * 100 / (h[0] + h[1])
	}
	ids := up[1]
	if b.rngPick.IntN(100) < load0 {
		ids = up[0]
	}
	if len(ids) == 0 {
		return -1, false
	}
	b.zview.st, b.zview.ids = st, ids
	var i int
	if kp, ok := b.picker.(KeyPicker); ok {
		i = kp.PickKey(&b.zview, s.reqs[s.calls[ci].req].key, b.rngPick)
	} else {
		i = b.picker.Pick(&b.zview, b.rngPick)
	}
	if i < 0 || i >= len(ids) {
		i = 0
	}
	return ids[i], true
}

// priorityLevels are the backend's ready instances for callers in one
// region: how many are in the region (level 0) and elsewhere (level 1),
// and which of them are in the rotation.
type priorityLevels struct {
	version, rot uint64
	built        bool
	n            [2]int
	up           [2][]int32
}

// priorityLevels returns region home's levels, rebuilt when the backend's
// ready list or the rotation has changed: routing costs no scan of the
// fleet per call.
func (b *balancer) priorityLevels(s *Sim, st *station, home int8) *priorityLevels {
	for int(home) >= len(b.levels) {
		b.levels = append(b.levels, &priorityLevels{})
	}
	pl := b.levels[home]
	if pl.built && pl.version == st.readyVersion && pl.rot == b.rotVersion {
		return pl
	}
	pl.n = [2]int{}
	pl.up[0], pl.up[1] = pl.up[0][:0], pl.up[1][:0]
	for _, id := range st.ready {
		l := 1
		if zz := st.zoneOf(id); zz >= 0 && s.net.region[zz] == home {
			l = 0
		}
		pl.n[l]++
		if int(id) >= len(b.checks) || !b.checks[id].out() {
			pl.up[l] = append(pl.up[l], id)
		}
	}
	pl.version, pl.rot, pl.built = st.readyVersion, b.rotVersion, true
	return pl
}
