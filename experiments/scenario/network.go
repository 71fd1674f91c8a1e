package scenario

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/capsim/capsim/model"
	"github.com/capsim/capsim/model/dist"
)

// network reads [network]: hop latency, zones, cross-zone latency and
// egress price.
func (d *decoder) network(t *table) *model.NetworkConfig {
	if t == nil {
		return nil
	}
	n := &model.NetworkConfig{}
	n.Latency = t.distribution("latency")
	n.EgressPerGB = d.nonNegative(t, "egress_per_gb", "US dollars per GB crossing zones")
	if t.has("regions") {
		d.regions(t, n)
		if t.has("zones") {
			t.known = append(t.known, "zones")
			d.errorf(t.key("zones"), "with regions, list each region's zones in it: [network.regions.NAME] zones = [...]")
		}
	} else if v, ok := t.get("zones"); ok {
		switch z := v.(type) {
		case []any:
			for i, x := range z {
				s, ok := x.(string)
				if !ok || !validName(s) {
					d.errorf(elem(t.key("zones"), i), "want a zone name (letters, digits, '_', '-'), got %v", x)
					continue
				}
				n.Zones = append(n.Zones, s)
			}
		case map[string]any: // zones = { a = {}, b = {} }
			for name := range z {
				n.Zones = append(n.Zones, name)
			}
			sort.Strings(n.Zones)
		default:
			d.errorf(t.key("zones"), "want a list of zone names, [\"a\", \"b\", \"c\"], got %s", typeName(v))
		}
	}
	seen := map[string]bool{}
	for _, z := range n.Zones {
		if seen[z] {
			d.errorf(t.key("zones"), "zone %q is listed twice", z)
		}
		seen[z] = true
	}
	if len(n.Zones) > 100 {
		d.errorf(t.key("zones"), "at most 100 zones, got %d", len(n.Zones))
	}
	n.CrossZone = t.duration("cross_zone", 0)
	if t.has("cross_zone") && len(n.Zones) < 2 {
		d.errorf(t.key("cross_zone"), "cross_zone needs at least two zones (zones = [\"a\", \"b\"])")
	}
	t.done(nil)
	return n
}

// regions reads [network.regions.NAME]: each region's zones (default: one
// zone named as the region), the price of bytes leaving it, and its
// one-way latency to other regions; every pair of regions needs a latency,
// given in one of the two.
func (d *decoder) regions(t *table, n *model.NetworkConfig) {
	rts := t.named("regions")
	names := make([]string, len(rts))
	for i, rt := range rts {
		names[i] = rt.name()
	}
	where := map[string]string{} // zone → region
	n.Regions = make([]model.RegionConfig, len(rts))
	given := make([][]bool, len(rts)) // given[i][j]: region i gives its latency to j
	for i := range rts {
		n.Regions[i].Latency = make([]dist.Dist, len(rts))
		given[i] = make([]bool, len(rts))
	}
	for i, rt := range rts {
		r := &n.Regions[i]
		r.Name = names[i]
		if rt.has("zones") {
			for k, v := range rt.list("zones") {
				z, ok := v.(string)
				if !ok || !validName(z) {
					d.errorf(elem(rt.key("zones"), k), "want a zone name (letters, digits, '_', '-'), got %v", v)
					continue
				}
				r.Zones = append(r.Zones, z)
			}
			if len(r.Zones) == 0 {
				d.errorf(rt.key("zones"), "a region needs at least one zone (or leave zones out: one zone named %q)", r.Name)
			}
		} else {
			r.Zones = []string{r.Name}
		}
		for _, z := range r.Zones {
			if other, ok := where[z]; ok {
				d.errorf(rt.key("zones"), "zone %q is in region %q already", z, other)
				continue
			}
			where[z] = r.Name
			n.Zones = append(n.Zones, z)
		}
		r.EgressPerGB = n.EgressPerGB
		if rt.has("egress_per_gb") {
			r.EgressPerGB = d.nonNegative(rt, "egress_per_gb", "US dollars per GB leaving the region for another")
		}
		lt := rt.sub("latency")
		if lt == nil {
			rt.done(nil)
			continue
		}
		for _, other := range slices.Sorted(maps.Keys(lt.m)) {
			lt.known = append(lt.known, other)
			j := slices.Index(names, other)
			switch {
			case j < 0:
				msg := fmt.Sprintf("region %q is not one of the network's regions (%s)", other, strings.Join(names, ", "))
				if s := suggest(other, names); s != "" {
					msg += fmt.Sprintf("; did you mean %q?", s)
				}
				d.errorf(lt.key(other), "%s", msg)
			case j == i:
				d.errorf(lt.key(other), "the latency within a region is the network's latency and cross_zone, not a region latency")
			case given[j][i]:
				d.errorf(lt.key(other), "the latency between %q and %q is given in region %q already: give it once", r.Name, other, other)
			default:
				x := lt.distribution(other)
				r.Latency[j] = x
				given[i][j] = true
			}
		}
		lt.done(nil)
		rt.done(nil)
	}
	for i := range n.Regions {
		for j := range i {
			switch {
			case given[i][j]:
				n.Regions[j].Latency[i] = n.Regions[i].Latency[j]
			case given[j][i]:
				n.Regions[i].Latency[j] = n.Regions[j].Latency[i]
			default:
				d.errorf(t.key("regions."+names[j]), "no latency to region %q: give latency = { %s = \"40ms\" } in one of the two", names[i], names[i])
			}
		}
	}
	if len(n.Zones) > 100 {
		d.errorf(t.key("regions"), "at most 100 zones, got %d", len(n.Zones))
	}
}

// checkZones checks that the components' zones (a function's region) are
// the network's.
func (d *decoder) checkZones(cfg *model.Config) {
	for _, c := range cfg.Components {
		if fn, ok := c.(*model.FunctionConfig); ok && fn.Region != "" && regionIndex(cfg.Network, fn.Region) < 0 {
			d.errorf(model.Label(c)+".region", "region %q is not a region of the [network] (%s)", fn.Region, strings.Join(regionNames(cfg.Network), ", "))
		}
		f := c.FleetConfig()
		if f == nil || len(f.Zones) == 0 {
			continue
		}
		path := model.Label(c) + ".zones"
		if cfg.Network == nil {
			d.errorf(path, "zones need a [network] with zones = [...]")
			continue
		}
		for _, z := range f.Zones {
			found := false
			for _, nz := range cfg.Network.Zones {
				found = found || nz == z
			}
			if !found {
				msg := fmt.Sprintf("zone %q is not one of the network's zones (%s)", z, strings.Join(cfg.Network.Zones, ", "))
				if s := suggest(z, cfg.Network.Zones); s != "" {
					msg += fmt.Sprintf("; did you mean %q?", s)
				}
				d.errorf(path, "%s", msg)
			}
		}
	}
}

// zones reads a fleet's zones = ["a", "b"].
func (d *decoder) zones(t *table, f *model.Fleet) {
	for i, v := range t.list("zones") {
		s, ok := v.(string)
		if !ok {
			d.errorf(elem(t.key("zones"), i), "want a zone name, got %s", typeName(v))
			continue
		}
		f.Zones = append(f.Zones, s)
	}
}

// payload reads an endpoint's request_kb and response_kb.
func (d *decoder) payload(t *table, e *model.EndpointConfig) {
	e.RequestKB = d.nonNegative(t, "request_kb", "KB a call sends")
	e.ResponseKB = d.nonNegative(t, "response_kb", "KB a call answers")
}

// trafficZones reads where a source's clients are: zone = "a", or
// zones = { a = 0.6, b = 0.4 } (shares, normalised); or by region,
// region = "eu" or regions = { us = 0.7, eu = 0.3 } (each region's share
// split evenly over its zones).
func (d *decoder) trafficZones(t *table) []model.ZoneShare {
	var given []string
	for _, k := range []string{"zone", "zones", "region", "regions"} {
		if t.has(k) {
			given = append(given, k)
		}
	}
	if len(given) > 1 {
		t.known = append(t.known, given[1:]...)
		d.errorf(t.key(given[1]), "give one of zone, zones, region or regions, not %s", strings.Join(given, " and "))
	}
	if len(given) == 0 {
		return nil
	}
	if d.trafficZoneKey == nil {
		d.trafficZoneKey = map[string]string{}
	}
	d.trafficZoneKey[t.name()] = given[0]
	switch k := given[0]; k {
	case "zone", "region":
		return []model.ZoneShare{{Zone: t.str(k, ""), Share: 1}}
	default:
		return d.shares(t.sub(k), k[:len(k)-1])
	}
}

// shares reads { name = share, ... }, sorted by name.
func (d *decoder) shares(zt *table, what string) []model.ZoneShare {
	if zt == nil {
		return nil
	}
	names := make([]string, 0, len(zt.m))
	for n := range zt.m {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []model.ZoneShare
	for _, n := range names {
		v, ok := zt.number(n)
		if !ok || !(v > 0) {
			d.errorf(zt.key(n), "want the %s's share of the requests, a number greater than 0", what)
			continue
		}
		out = append(out, model.ZoneShare{Zone: n, Share: v})
	}
	zt.done(nil)
	return out
}

// checkTrafficZones checks that traffic comes from the network's zones or
// regions.
func (d *decoder) checkTrafficZones(cfg *model.Config) {
	for _, tr := range cfg.Traffic {
		path := "traffic." + tr.Name + "." + d.trafficZoneKey[tr.Name]
		for _, z := range tr.Zones {
			n := cfg.Network
			if n == nil {
				d.errorf(path, "client zones need a [network] with zones = [...]")
				break
			}
			if contains(n.Zones, z.Zone) {
				continue
			}
			var regions []string
			for _, r := range n.Regions {
				regions = append(regions, r.Name)
			}
			if !contains(regions, z.Zone) {
				msg := fmt.Sprintf("%q is not one of the network's zones (%s)", z.Zone, strings.Join(n.Zones, ", "))
				if len(regions) > 0 {
					msg += fmt.Sprintf(" or regions (%s)", strings.Join(regions, ", "))
				}
				if s := suggest(z.Zone, append(append([]string(nil), n.Zones...), regions...)); s != "" {
					msg += fmt.Sprintf("; did you mean %q?", s)
				}
				d.errorf(path, "%s", msg)
			}
		}
	}
}
