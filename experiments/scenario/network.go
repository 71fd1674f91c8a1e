package scenario

import (
	"fmt"
	"sort"
	"strings"

	"github.com/capsim/capsim/model"
)

// network reads [network]: hop latency, zones, cross-zone latency and
// egress price.
func (d *decoder) network(t *table) *model.NetworkConfig {
	if t == nil {
		return nil
	}
	n := &model.NetworkConfig{}
	n.Latency = t.distribution("latency")
	if v, ok := t.get("zones"); ok {
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
	n.EgressPerGB = d.nonNegative(t, "egress_per_gb", "US dollars per GB crossing zones")
	t.done(map[string]string{"regions": "regions with a latency matrix are not available in this version yet: use zones and cross_zone"})
	return n
}

// checkZones checks that the components' zones are the network's.
func (d *decoder) checkZones(cfg *model.Config) {
	for _, c := range cfg.Components {
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
// zones = { a = 0.6, b = 0.4 } (shares, normalised).
func (d *decoder) trafficZones(t *table) []model.ZoneShare {
	if z := t.str("zone", ""); z != "" {
		if t.has("zones") {
			t.known = append(t.known, "zones")
			d.errorf(t.key("zones"), "give either zone or zones, not both")
		}
		return []model.ZoneShare{{Zone: z, Share: 1}}
	}
	zt := t.sub("zones")
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
			d.errorf(zt.key(n), "want the zone's share of the requests, a number greater than 0")
			continue
		}
		out = append(out, model.ZoneShare{Zone: n, Share: v})
	}
	zt.done(nil)
	return out
}

// checkTrafficZones checks that traffic comes from the network's zones.
func (d *decoder) checkTrafficZones(cfg *model.Config) {
	for _, tr := range cfg.Traffic {
		for _, z := range tr.Zones {
			switch {
			case cfg.Network == nil:
				d.errorf("traffic."+tr.Name+".zones", "client zones need a [network] with zones = [...]")
				return
			case !contains(cfg.Network.Zones, z.Zone):
				d.errorf("traffic."+tr.Name+".zones", "zone %q is not one of the network's zones (%s)", z.Zone, strings.Join(cfg.Network.Zones, ", "))
			}
		}
	}
}
