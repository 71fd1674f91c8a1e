package scenario

import (
	"fmt"

	"github.com/capsim/capsim/model"
	"github.com/capsim/capsim/sim"
)

// nodepool reads [nodepool.NAME]: Kubernetes nodes under the Cluster
// Autoscaler, with its defaults (--scan-interval 10 s,
// --scale-down-unneeded-time 10 min, --scale-down-utilization-threshold
// 0.5, --scale-down-delay-after-add 10 min).
func (d *decoder) nodepool(t *table) model.ComponentConfig {
	p := &model.NodePoolConfig{Name: t.name()}
	p.Cores = int(t.integer("cores", 8, 1, 4096, false))
	p.MemoryGB = 32
	if v, ok := t.number("memory_gb"); ok {
		if !(v > 0) {
			d.errorf(t.key("memory_gb"), "must be greater than 0, got %v", v)
		} else {
			p.MemoryGB = v
		}
	}
	p.PricePerHour = d.price(t)
	p.Min = int(t.integer("min", 1, 0, 100_000, false))
	p.Max = int(t.integer("max", int64(max(p.Min, 10)), 1, 100_000, false))
	if p.Max < p.Min {
		d.errorf(t.key("max"), "max (%d) is below min (%d)", p.Max, p.Min)
	}
	p.Provision = t.duration("provision", 90*sim.Second)
	p.ScanInterval = d.positiveDuration(t, "scan_interval", 10*sim.Second)
	p.Unneeded = t.duration("scale_down_unneeded", 10*sim.Minute)
	p.ScaleDownDelay = t.duration("scale_down_delay", 10*sim.Minute)
	p.Threshold = 0.5
	if v, ok := t.number("scale_down_utilization"); ok {
		if v < 0 || v > 1 {
			d.errorf(t.key("scale_down_utilization"), "must be a fraction from 0 to 1, got %v", v)
		} else {
			p.Threshold = v
		}
	}
	t.done(nil)
	return p
}

// pod reads a pooled service's nodepool and pod requests.
func (d *decoder) pod(t *table, f *model.Fleet) {
	f.NodePool = t.str("nodepool", "")
	pt := t.sub("pod")
	if f.NodePool == "" {
		if pt != nil {
			d.errorf(t.key("pod"), "pod requests need nodepool = \"NAME\": the node pool the pods run on")
		}
		return
	}
	f.PodCPU, f.PodMemoryGB = float64(f.Cores), 1
	if pt == nil {
		return
	}
	for _, k := range []string{"cpu", "memory_gb"} {
		v, ok := pt.number(k)
		switch {
		case !ok:
		case !(v > 0):
			d.errorf(pt.key(k), "must be greater than 0, got %v", v)
		case k == "cpu":
			f.PodCPU = v
		default:
			f.PodMemoryGB = v
		}
	}
	pt.done(nil)
}

// checkPools checks that each pooled service names a node pool its pods
// fit on.
func (d *decoder) checkPools(cfg *model.Config) {
	for _, c := range cfg.Components {
		f := c.FleetConfig()
		if f == nil || f.NodePool == "" {
			continue
		}
		path := model.Label(c) + ".nodepool"
		p, ok := cfg.Find(f.NodePool).(*model.NodePoolConfig)
		switch {
		case !ok:
			var names []string
			for _, k := range cfg.Components {
				if k.Kind() == model.KindNodePool {
					names = append(names, k.ComponentName())
				}
			}
			msg := fmt.Sprintf("no [nodepool.%s]", f.NodePool)
			if s := suggest(f.NodePool, names); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			d.errorf(path, "%s", msg)
		case f.PodCPU > float64(p.Cores) || f.PodMemoryGB > p.MemoryGB:
			d.errorf(model.Label(c)+".pod", "a pod requesting %v cores and %v GB fits on no node of nodepool.%s (%d cores, %v GB): it would stay Pending", f.PodCPU, f.PodMemoryGB, p.Name, p.Cores, p.MemoryGB)
		}
	}
}
