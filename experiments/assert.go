package experiments

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/capsim/capsim/model"
	"github.com/capsim/capsim/sim"
)

// SLOError returns nil when every SLO of the run is met, else an error
// listing the objectives that are not (value against limit).
func (o *Outcome) SLOError() error {
	var failed []string
	for _, c := range o.Summary.SLO.Checks {
		if !c.Met {
			switch c.Unit {
			case "ms":
				failed = append(failed, fmt.Sprintf("%s %.3g ms > %.3g ms", c.Name, c.Value, c.Limit))
			case "fraction":
				failed = append(failed, fmt.Sprintf("%s %.4g > %.4g", c.Name, c.Value, c.Limit))
			default:
				failed = append(failed, fmt.Sprintf("%s %.4g > %.4g (%s)", c.Name, c.Value, c.Limit, c.Unit))
			}
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%s: SLO not met: %s", o.Summary.Scenario, strings.Join(failed, ", "))
	}
	return nil
}

// ThrashError returns nil unless an autoscaled component reversed its
// direction (scaled up after down, or down after up, within 10 minutes)
// more than maxReversals times.
func (o *Outcome) ThrashError(maxReversals int) error {
	var bad []string
	for _, c := range o.Result.Components {
		if c.Reversals > maxReversals {
			bad = append(bad, fmt.Sprintf("%s reversed %d times (%d scale events)", c.Name, c.Reversals, c.ScaleEvents))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s: autoscaler thrashing: %s", o.Summary.Scenario, strings.Join(bad, ", "))
	}
	return nil
}

// InvariantError checks what every run must satisfy, and returns every
// violation: conservation of requests (arrived = completed + rejected +
// timed out + failed + in flight), globally, per traffic source (adding
// up) and for detached requests; one latency observation per completed request; per component,
// arrivals = departures + present, utilisation within [0, 1], and Little's
// law in its sample-path form (the area under the number present equals
// the time calls spent there); instances within the autoscaler's bounds.
func (o *Outcome) InvariantError() error {
	r := o.Result
	var errs []error
	conserve := func(name string, arrived, completed, rejected, timedOut, failed, inFlight int64) {
		if arrived != completed+rejected+timedOut+failed+inFlight || inFlight < 0 {
			errs = append(errs, fmt.Errorf("%s: conservation broken: %d arrived ≠ %d + %d + %d + %d + %d", name, arrived, completed, rejected, timedOut, failed, inFlight))
		}
	}
	c := r.Requests
	conserve("all requests", c.Arrived, c.Completed, c.Rejected, c.TimedOut, c.Failed, c.InFlight)
	var sum [6]int64
	for _, tr := range r.Traffic {
		q := tr.Requests
		conserve("traffic "+tr.Name, q.Arrived, q.Completed, q.Rejected, q.TimedOut, q.Failed, q.InFlight)
		if tr.Latency.Count != q.Completed {
			errs = append(errs, fmt.Errorf("traffic %s: %d latencies for %d completed requests", tr.Name, tr.Latency.Count, q.Completed))
		}
		for i, v := range []int64{q.Arrived, q.Completed, q.Rejected, q.TimedOut, q.Failed, q.InFlight} {
			sum[i] += v
		}
	}
	if sum != [6]int64{c.Arrived, c.Completed, c.Rejected, c.TimedOut, c.Failed, c.InFlight} {
		errs = append(errs, fmt.Errorf("traffic sources add up to %v, not to the totals %+v", sum, c))
	}
	if r.Latency.Count != c.Completed {
		errs = append(errs, fmt.Errorf("%d latencies for %d completed requests", r.Latency.Count, c.Completed))
	}
	if a := r.Async; a != nil {
		conserve("detached requests", a.Started, a.Completed, a.Rejected, a.TimedOut, a.Failed, a.InFlight)
		if a.Latency.Count != a.Completed {
			errs = append(errs, fmt.Errorf("detached requests: %d latencies for %d completed", a.Latency.Count, a.Completed))
		}
	}
	T := r.Measured.Seconds()
	for _, k := range r.Components {
		if k.Utilization < 0 || k.Utilization > 1+1e-9 {
			errs = append(errs, fmt.Errorf("%s: utilisation %v outside [0, 1]", k.Name, k.Utilization))
		}
		if k.Arrivals != k.Departures+k.Present {
			errs = append(errs, fmt.Errorf("%s: %d arrivals ≠ %d departures + %d present", k.Name, k.Arrivals, k.Departures, k.Present))
		}
		area := k.InSystemMean * T
		if d := math.Abs(area - k.TimeInSystem.Seconds()); d > 1e-6*area+1e-6 {
			errs = append(errs, fmt.Errorf("%s: Little's law: ∫N dt = %.6f s but calls spent %.6f s", k.Name, area, k.TimeInSystem.Seconds()))
		}
	}
	errs = append(errs, splitErrors(r)...)
	for _, c := range o.Config.Components {
		f := c.FleetConfig()
		if f == nil || f.Autoscale == nil || len(f.Autoscale.Schedule) > 0 {
			continue
		}
		a := f.Autoscale
		for _, d := range r.Decisions {
			if d.Component == c.ComponentName() && (d.To < a.Min || d.To > a.Max) {
				errs = append(errs, fmt.Errorf("%s: %d instances at %v, outside [%d, %d]", c.ComponentName(), d.To, d.At, a.Min, a.Max))
			}
		}
	}
	return errors.Join(errs...)
}

// splitErrors checks where the time went: every part of a component's time
// split and of the end-to-end split is ≥ 0, the end-to-end parts add up to
// the mean latency, and the cpu the splits count is no more than the core
// time the components spent on every attempt (a part carried over from a
// failed attempt breaks one of these). Means are truncated to the
// nanosecond, hence the few nanoseconds allowed.
func splitErrors(r *model.Result) []error {
	var errs []error
	neg := func(where string, parts ...sim.Time) {
		names := [...]string{"wait", "cpu", "network", "other"}
		for i, p := range parts {
			if p < -1 {
				errs = append(errs, fmt.Errorf("%s: %s %v < 0", where, names[i], p))
			}
		}
	}
	var busy float64
	for _, k := range r.Components {
		busy += float64(k.BusyTime)
		sp := k.Split
		if sp == nil {
			continue
		}
		if sp.SlotWait < 0 || sp.CoreWait < 0 || sp.CPU < 0 || sp.Waiting < 0 || sp.Network < 0 {
			errs = append(errs, fmt.Errorf("%s: time split with a part < 0: slot_wait %v, core_wait %v, cpu %v, waiting %v, network %v",
				k.Name, sp.SlotWait, sp.CoreWait, sp.CPU, sp.Waiting, sp.Network))
		}
		if cpu := float64(sp.CPU) * float64(sp.Calls); cpu > float64(k.BusyTime)+float64(sp.Calls) {
			errs = append(errs, fmt.Errorf("%s: its calls answered ok count %.6f s of cpu, more than the %.6f s its cores were busy",
				k.Name, cpu/1e9, k.BusyTime.Seconds()))
		}
	}
	if p := r.Split; p != nil {
		neg("latency split", p.Wait, p.CPU, p.Network, p.Other)
		if d := p.Latency - (p.Wait + p.CPU + p.Network + p.Other); d < -4 || d > 4 {
			errs = append(errs, fmt.Errorf("latency split: %v + %v + %v + %v ≠ mean %v", p.Wait, p.CPU, p.Network, p.Other, p.Latency))
		}
		if cpu := float64(p.CPU) * float64(p.Requests); cpu > busy+float64(p.Requests) {
			errs = append(errs, fmt.Errorf("latency split: requests answered ok count %.6f s of cpu, more than the %.6f s all cores were busy", cpu/1e9, busy/1e9))
		}
		if t := p.Slowest; t != nil {
			neg("slowest split", t.Wait, t.CPU, t.Network, t.Other)
		}
	}
	return errs
}
