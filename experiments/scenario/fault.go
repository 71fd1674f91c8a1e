package scenario

import (
	"fmt"
	"strings"

	"github.com/capsim/capsim/model"
)

// faults reads the [[fault]] entries.
func (d *decoder) faults(top *table, cfg *model.Config) {
	if !top.has("fault") {
		return
	}
	top.known = append(top.known, "fault")
	for _, t := range d.tables(top, "fault", `a [[fault]] table with target, kind, at and duration`) {
		f := d.fault(t, cfg)
		zoneKey := "zone"
		if t.has("region") {
			zoneKey = "region"
		}
		if f.Zone == "" || f.Target != "" {
			cfg.Faults = append(cfg.Faults, f)
			continue
		}
		zones := zonesOf(cfg.Network, f.Zone)
		if zones == nil || f.Kind != model.FaultOutage {
			continue // reported
		}
		// A zone outage without a target takes the zone down for every
		// component with instances there.
		hit := false
		for _, c := range cfg.Components {
			if fl := c.FleetConfig(); fl != nil && c.Kind() != model.KindFunction && overlaps(fl.Zones, zones) {
				g := f
				g.Target = c.ComponentName()
				cfg.Faults = append(cfg.Faults, g)
				hit = true
			}
		}
		if !hit {
			d.errorf(t.key(zoneKey), "no component has instances in %s %q (give services, caches and databases zones = [...])", zoneKey, f.Zone)
		}
	}
}

func (d *decoder) fault(t *table, cfg *model.Config) model.FaultConfig {
	f := model.FaultConfig{Shard: -1}
	f.Target = t.str("target", "")
	zoneKey := "zone"
	if t.has("region") {
		zoneKey = "region"
		if t.has("zone") {
			t.known = append(t.known, "zone")
			d.errorf(t.key("zone"), "give zone or region, not both")
		}
	}
	f.Zone = t.str(zoneKey, "")
	if f.Target == "" && f.Zone == "" {
		d.errorf(t.key("target"), "missing: the component the fault hits (a service, cache or database), or zone = \"a\" (region = \"eu\") for a zone (region) outage")
	}
	if f.Zone != "" {
		switch {
		case zoneKey == "zone" && (cfg.Network == nil || !contains(cfg.Network.Zones, f.Zone)):
			d.errorf(t.key("zone"), "zone %q is not a zone of the [network]", f.Zone)
		case zoneKey == "region" && regionIndex(cfg.Network, f.Zone) < 0:
			d.errorf(t.key("region"), "region %q is not a region of the [network] (%s)", f.Zone, strings.Join(regionNames(cfg.Network), ", "))
		case t.str("kind", "") != "outage":
			d.errorf(t.key(zoneKey), "a %s goes down with kind = \"outage\"", zoneKey)
		}
	}
	kind := t.str("kind", "")
	found := false
	for i, k := range model.FaultKindNames() {
		if k == kind {
			f.Kind, found = model.FaultKind(i), true
		}
	}
	if !found {
		d.errorf(t.key("kind"), "want one of %s, got %q", strings.Join(model.FaultKindNames(), ", "), kind)
	}
	f.At = t.duration("at", 0)
	chaos := t.has("mtbf") || t.has("mttr")
	if chaos {
		f.MTBF, f.MTTR = t.duration("mtbf", 0), t.duration("mttr", 0)
		if f.MTBF <= 0 {
			d.errorf(t.key("mtbf"), "missing or 0: the mean time between an instance's failures, e.g. mtbf = \"2h\"")
		}
		if f.MTTR <= 0 {
			d.errorf(t.key("mttr"), "missing or 0: the mean time to repair, e.g. mttr = \"5m\"")
		}
		if t.has("duration") {
			t.known = append(t.known, "duration")
			d.errorf(t.key("duration"), "a chaos fault (mtbf, mttr) has no duration: each failure lasts an exponential time of mean mttr")
		}
		if f.Kind == model.FaultOutage {
			d.errorf(t.key("kind"), "a chaos fault fails instances one by one: use crash, hang, slow or error")
		}
	} else {
		if !t.has("at") {
			d.errorf(t.key("at"), "missing: when the fault begins, e.g. at = \"5m\" (or mtbf and mttr for chaos)")
		}
		f.Duration = t.duration("duration", 0)
		if f.Duration <= 0 {
			d.errorf(t.key("duration"), "missing or 0: how long the fault lasts, e.g. duration = \"2m\"")
		}
	}
	if t.has("instances") {
		if v, _ := t.get("instances"); v == "all" {
			f.Instances = 0
			t.known = append(t.known, "instances")
		} else {
			f.Instances = int(t.integer("instances", 1, 1, 100_000, false))
		}
	} else if f.Kind != model.FaultOutage && !chaos {
		f.Instances = 1 // chaos: every instance, by default
	}
	only := func(key string, kinds ...model.FaultKind) {
		if !t.has(key) {
			return
		}
		for _, k := range kinds {
			if k == f.Kind {
				return
			}
		}
		t.known = append(t.known, key)
		d.errorf(t.key(key), "only %s faults take %s", kindList(kinds), key)
	}
	only("factor", model.FaultSlow)
	only("fraction", model.FaultError)
	only("shard", model.FaultOutage)
	only("instances", model.FaultCrash, model.FaultHang, model.FaultSlow, model.FaultError)
	switch f.Kind {
	case model.FaultSlow:
		v, ok := t.number("factor")
		if !ok || !(v > 0) {
			d.errorf(t.key("factor"), "want how many times slower the work gets, a number greater than 0 (10: ten times slower)")
		}
		f.Factor = v
	case model.FaultError:
		v, ok := t.number("fraction")
		if !ok || v <= 0 || v > 1 {
			d.errorf(t.key("fraction"), "want the share of answers that become errors, from 0 (excluded) to 1")
		}
		f.Fraction = v
	case model.FaultOutage:
		if t.has("shard") {
			f.Shard = int(t.integer("shard", 0, 0, 100_000, false))
		}
	}
	t.done(nil)
	return f
}

func kindList(kinds []model.FaultKind) string {
	var s []string
	for _, k := range kinds {
		s = append(s, k.String())
	}
	return strings.Join(s, ", ")
}

// checkScalers checks that a KEDA scaler names a queue.
func (d *decoder) checkScalers(cfg *model.Config) {
	for _, c := range cfg.Components {
		f := c.FleetConfig()
		if f == nil || f.Autoscale == nil || f.Autoscale.Queue == "" {
			continue
		}
		path := model.Label(c) + ".autoscale.queue"
		switch q := cfg.Find(f.Autoscale.Queue); {
		case q == nil:
			d.errorf(path, "no component named %q", f.Autoscale.Queue)
		case q.Kind() != model.KindQueue:
			d.errorf(path, "%s is not a queue: KEDA scales on a [queue.NAME]'s lag", model.Label(q))
		}
	}
}

// checkFaults checks what a fault's target must be: a component with
// instances, a database for a shard outage, a shard it has.
func (d *decoder) checkFaults(cfg *model.Config) {
	for i, f := range cfg.Faults {
		path := elem("fault", i)
		c := cfg.Find(f.Target)
		switch {
		case f.Target == "":
		case c == nil:
			var names []string
			for _, k := range cfg.Components {
				names = append(names, k.ComponentName())
			}
			msg := fmt.Sprintf("no component named %q", f.Target)
			if s := suggest(f.Target, names); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			d.errorf(path+".target", "%s", msg)
		case c.FleetConfig() == nil:
			d.errorf(path+".target", "%s has no instances of its own; faults on %ss are not available yet: fault the component behind it", model.Label(c), c.Kind())
		case c.Kind() == model.KindFunction:
			d.errorf(path+".target", "faults on functions (a region's Lambda outage, throttling) are not available yet: model them with max_instances, or fault the service that calls it")
		case f.Shard >= 0:
			db, ok := c.(*model.DatabaseConfig)
			if !ok {
				d.errorf(path+".shard", "%s is not a database: only a database has shards", model.Label(c))
			} else if f.Shard >= db.Shards {
				d.errorf(path+".shard", "%s has shards 0 to %d, not %d", model.Label(c), db.Shards-1, f.Shard)
			}
		}
		if f.At >= cfg.Duration && f.Target != "" {
			d.warnf(path+".at", "the fault begins at %v, after the run ends (%v)", f.At, cfg.Duration)
		}
	}
}

// zonesOf returns the zones of zone or region name, or nil when the
// network has none by that name.
func zonesOf(n *model.NetworkConfig, name string) []string {
	if n == nil {
		return nil
	}
	if i := regionIndex(n, name); i >= 0 {
		return n.Regions[i].Zones
	}
	if contains(n.Zones, name) {
		return []string{name}
	}
	return nil
}

func regionIndex(n *model.NetworkConfig, name string) int {
	if n == nil {
		return -1
	}
	for i, r := range n.Regions {
		if r.Name == name {
			return i
		}
	}
	return -1
}

func regionNames(n *model.NetworkConfig) []string {
	var out []string
	if n != nil {
		for _, r := range n.Regions {
			out = append(out, r.Name)
		}
	}
	return out
}

func overlaps(a, b []string) bool {
	for _, x := range a {
		if contains(b, x) {
			return true
		}
	}
	return false
}
