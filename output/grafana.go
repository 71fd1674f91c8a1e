package output

import (
	"encoding/json"
	"regexp"
	"strings"
	"time"

	"github.com/capsim/capsim/experiments"
)

// GrafanaDashboard renders grafana-dashboard.json: a dashboard over
// metrics.om's metrics once they are in Prometheus (see docs/grafana.md) —
// load against the busiest path's capacity, instances, latency
// percentiles with the SLO limits as threshold lines, utilisation of
// components and database nodes, errors and cost — its time range the
// run's, its data source chosen on import (the ${datasource} variable).
func GrafanaDashboard(o *experiments.Outcome, start time.Time) []byte {
	sel := `{scenario="` + strings.ReplaceAll(o.Summary.Scenario, `"`, `\"`) + `"}`
	withSel := func(metric string) string { return metric + sel }
	type target struct{ expr, legend string }
	var panels []map[string]any
	panel := func(title, unit string, targets []target, thresholds []float64) {
		var ts []map[string]any
		for i, t := range targets {
			ts = append(ts, map[string]any{"expr": t.expr, "legendFormat": t.legend, "refId": string(rune('A' + i)),
				"datasource": map[string]any{"type": "prometheus", "uid": "${datasource}"}})
		}
		defaults := map[string]any{"unit": unit, "custom": map[string]any{"lineWidth": 2, "fillOpacity": 0, "showPoints": "never"}}
		if len(thresholds) > 0 {
			steps := []map[string]any{{"color": "green", "value": nil}}
			for _, v := range thresholds {
				steps = append(steps, map[string]any{"color": "red", "value": v})
			}
			defaults["thresholds"] = map[string]any{"mode": "absolute", "steps": steps}
			defaults["custom"].(map[string]any)["thresholdsStyle"] = map[string]any{"mode": "dashed"}
		}
		n := len(panels)
		panels = append(panels, map[string]any{
			"id": n + 1, "type": "timeseries", "title": title,
			"gridPos":     map[string]any{"x": 12 * (n % 2), "y": 8 * (n / 2), "w": 12, "h": 8},
			"datasource":  map[string]any{"type": "prometheus", "uid": "${datasource}"},
			"targets":     ts,
			"fieldConfig": map[string]any{"defaults": defaults, "overrides": []any{}},
			"options":     map[string]any{"legend": map[string]any{"displayMode": "list", "placement": "bottom"}, "tooltip": map[string]any{"mode": "multi"}},
		})
	}
	panel("Offered load, throughput and capacity", "reqps", []target{
		{withSel("capsim_arrivals_rps"), "arrivals"}, {withSel("capsim_completed_rps"), "completed"},
		{withSel("capsim_capacity_rps"), "capacity (busiest path)"}}, nil)
	panel("Instances (asked for)", "none", []target{{withSel("capsim_component_instances"), "{{component}}"}}, nil)
	var slo []float64
	for _, c := range o.Summary.SLO.Checks {
		if c.Unit == "ms" && c.Scope == "" {
			slo = append(slo, c.Limit)
		}
	}
	panel("Latency of completed requests (SLO limits dashed)", "ms", []target{{withSel("capsim_latency_ms"), "p{{percentile}}"}}, slo)
	panel("Utilisation", "percentunit", []target{{withSel("capsim_component_utilization"), "{{component}}"},
		{withSel("capsim_node_utilization"), "{{component}} {{node}}"}}, nil)
	panel("Requests that failed", "reqps", []target{{withSel("capsim_errors_rps"), "errors"}}, nil)
	panel("Cost so far", "currencyUSD", []target{{withSel("capsim_cost_usd"), "cost"}}, nil)
	end := start.Add(time.Duration(o.Series.DurationS * float64(time.Second)))
	d := map[string]any{
		"title": "capsim: " + o.Summary.Scenario, "uid": dashboardUID(o.Summary.Scenario),
		"description":   o.Summary.Description,
		"schemaVersion": 39, "version": 1, "editable": true, "timezone": "utc",
		"tags":        []string{"capsim"},
		"time":        map[string]any{"from": start.UTC().Format(time.RFC3339), "to": end.UTC().Format(time.RFC3339)},
		"panels":      panels,
		"refresh":     "",
		"annotations": map[string]any{"list": []any{}},
		"templating": map[string]any{"list": []any{map[string]any{
			"name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus", "current": map[string]any{}}}},
	}
	b, _ := json.MarshalIndent(d, "", "  ")
	return append(b, '\n')
}

var notUID = regexp.MustCompile(`[^a-zA-Z0-9_-]`)

// dashboardUID is a stable Grafana uid for a scenario (at most 40
// characters).
func dashboardUID(name string) string {
	u := "capsim-" + notUID.ReplaceAllString(name, "-")
	if len(u) > 40 {
		u = u[:40]
	}
	return u
}
