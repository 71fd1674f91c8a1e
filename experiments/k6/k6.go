// Package k6 converts a k6 load test's options (the exported options object,
// as JSON) into capsim [traffic] tables, so that a team's existing load
// profile can be replayed against a model of its system.
package k6

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// options is the part of k6's options object capsim understands.
type options struct {
	VUs       *int64                `json:"vus"`
	Duration  string                `json:"duration"`
	Stages    []stage               `json:"stages"`
	Scenarios map[string]k6Scenario `json:"scenarios"`
}

type stage struct {
	Duration string  `json:"duration"`
	Target   float64 `json:"target"`
}

type k6Scenario struct {
	Executor  string   `json:"executor"`
	StartTime string   `json:"startTime"`
	Duration  string   `json:"duration"`
	Rate      *float64 `json:"rate"`
	TimeUnit  string   `json:"timeUnit"`
	StartRate *float64 `json:"startRate"`
	Stages    []stage  `json:"stages"`
	VUs       *int64   `json:"vus"`
	StartVUs  *int64   `json:"startVUs"`
	Exec      string   `json:"exec"`
}

// Import converts k6 options JSON into TOML [traffic.NAME] tables, one per
// scenario (or one named "k6" for the shortcut options vus/duration/stages).
// Each table gets to = "CHANGE_ME": point it at the component that receives
// the traffic. Arrival-rate executors start iterations evenly, as k6 does
// (arrivals = "uniform"); rates are converted to per second.
func Import(name string, data []byte) ([]byte, error) {
	var o options
	dec := json.NewDecoder(strings.NewReader(string(data)))
	if err := dec.Decode(&o); err != nil {
		return nil, fmt.Errorf("%s: not a k6 options object: %v", name, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Imported from k6 options (%s) by capsim import k6.\n", name)
	b.WriteString("# Point each source's `to` at the component that receives it, then add the\n# system (services, balancers, caches, databases) and run.\n")
	n := 0
	if len(o.Scenarios) == 0 {
		sc := k6Scenario{Duration: o.Duration}
		switch {
		case len(o.Stages) > 0:
			sc.Executor, sc.Stages = "ramping-vus", o.Stages
			zero := int64(0)
			sc.StartVUs = &zero
			if o.VUs != nil {
				sc.StartVUs = o.VUs
			}
		case o.VUs != nil:
			sc.Executor, sc.VUs = "constant-vus", o.VUs
		default:
			return nil, fmt.Errorf("%s: no scenarios, stages or vus: nothing to import", name)
		}
		o.Scenarios = map[string]k6Scenario{"k6": sc}
	}
	names := make([]string, 0, len(o.Scenarios))
	for k := range o.Scenarios {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if err := writeScenario(&b, k, o.Scenarios[k]); err != nil {
			return nil, fmt.Errorf("%s: scenario %q: %v", name, k, err)
		}
		n++
	}
	return []byte(b.String()), nil
}

func dur(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		// k6 also takes a plain number of milliseconds.
		if ms, nerr := strconv.ParseFloat(s, 64); nerr == nil {
			return time.Duration(ms * float64(time.Millisecond)), nil
		}
		return 0, fmt.Errorf("duration %q: %v", s, err)
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %q is negative", s)
	}
	return d, nil
}

// rate checks a rate converted to per second: capsim takes 0 to 1e9.
func rate(what string, x, perSecond float64) (float64, error) {
	if math.IsNaN(perSecond) || math.IsInf(perSecond, 0) || perSecond < 0 || perSecond > 1e9 {
		return 0, fmt.Errorf("%s %v: want 0 to 1e9 per second, got %v per second", what, x, perSecond)
	}
	return perSecond, nil
}

// count checks a number of VUs.
func count(what string, n float64) error {
	if math.IsNaN(n) || n < 0 || n > 10_000_000 || n != math.Trunc(n) {
		return fmt.Errorf("%s %v: want a whole number from 0 to 10,000,000", what, n)
	}
	return nil
}

func fmtDur(d time.Duration) string { return strconv.Quote(d.String()) }

func num(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

func writeScenario(b *strings.Builder, name string, s k6Scenario) error {
	start, err := dur(s.StartTime)
	if err != nil {
		return err
	}
	length, err := dur(s.Duration)
	if err != nil {
		return err
	}
	unit := time.Second
	if s.TimeUnit != "" {
		if unit, err = dur(s.TimeUnit); err != nil || unit <= 0 {
			return fmt.Errorf("timeUnit %q", s.TimeUnit)
		}
	}
	perSecond := func(x float64) float64 { return x * float64(time.Second) / float64(unit) }
	fmt.Fprintf(b, "\n[traffic.%s]   # k6 %s\nto = \"CHANGE_ME\"\n", tomlKey(name), s.Executor)
	if s.Exec != "" {
		fmt.Fprintf(b, "endpoint = %q   # the k6 exec function\n", s.Exec)
	}
	if start > 0 {
		fmt.Fprintf(b, "start = %s\n", fmtDur(start))
	}
	stop := func() {
		if length > 0 {
			fmt.Fprintf(b, "stop = %s\n", fmtDur(start+length))
		}
	}
	stages := func(key string, scale func(float64) (float64, error)) error {
		var parts []string
		for i, st := range s.Stages {
			d, err := dur(st.Duration)
			if err != nil {
				return fmt.Errorf("stages[%d]: %v", i, err)
			}
			if d <= 0 {
				return fmt.Errorf("stages[%d]: duration %q: want more than 0", i, st.Duration)
			}
			t, err := scale(st.Target)
			if err != nil {
				return fmt.Errorf("stages[%d]: %v", i, err)
			}
			parts = append(parts, fmt.Sprintf("{ duration = %s, target = %s }", fmtDur(d), num(t)))
		}
		if len(parts) == 0 {
			return fmt.Errorf("%s needs stages", s.Executor)
		}
		fmt.Fprintf(b, "%s = [ %s ]\n", key, strings.Join(parts, ",\n           "))
		return nil
	}
	switch s.Executor {
	case "constant-arrival-rate":
		if s.Rate == nil {
			return fmt.Errorf("constant-arrival-rate needs rate")
		}
		r, err := rate("rate", *s.Rate, perSecond(*s.Rate))
		if err != nil {
			return err
		}
		fmt.Fprintf(b, "rate = %s\narrivals = \"uniform\"\n", num(r))
		stop()
	case "ramping-arrival-rate":
		if s.StartRate != nil {
			r, err := rate("startRate", *s.StartRate, perSecond(*s.StartRate))
			if err != nil {
				return err
			}
			fmt.Fprintf(b, "start_rate = %s\n", num(r))
		}
		if err := stages("stages", func(x float64) (float64, error) { return rate("target", x, perSecond(x)) }); err != nil {
			return err
		}
		b.WriteString("arrivals = \"uniform\"\n")
	case "constant-vus":
		vus := int64(1)
		if s.VUs != nil {
			vus = *s.VUs
		}
		if err := count("vus", float64(vus)); err != nil || vus == 0 {
			return fmt.Errorf("vus %d: want 1 to 10,000,000", vus)
		}
		fmt.Fprintf(b, "vus = %d\n", vus)
		stop()
	case "ramping-vus":
		vus := int64(1)
		if s.StartVUs != nil {
			vus = *s.StartVUs
		}
		if err := count("startVUs", float64(vus)); err != nil {
			return err
		}
		fmt.Fprintf(b, "vus = %d\n", vus)
		if err := stages("vu_stages", func(x float64) (float64, error) { return x, count("target", x) }); err != nil {
			return err
		}
	default:
		return fmt.Errorf("executor %q is not supported (capsim imports constant-arrival-rate, ramping-arrival-rate, constant-vus and ramping-vus)", s.Executor)
	}
	return nil
}

// tomlKey quotes a table name that is not a bare TOML key.
func tomlKey(s string) string {
	for _, c := range s {
		if !(c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return strconv.Quote(s)
		}
	}
	return s
}
