package measure

import (
	"fmt"
	"io"
	"sort"

	"github.com/capsim/capsim/experiments/spans"
)

// maxServices bounds the per-service scopes a trace file may create.
const maxServices = 256

// readTraces measures what traces saw (OTLP/JSON, Jaeger or Zipkin, as
// experiments/spans reads them): each root span is one request of the
// whole system ("total": its start is the send, its duration the
// latency, its error status a failure), and each server span a request
// to its service.
func readTraces(name string, r io.Reader) (*Measurement, error) {
	m := &Measurement{Total: Scope{Name: "total"}}
	total, tl := newSamples(maxExact), newTimeline()
	type svc struct {
		scope Scope
		s     *samples
	}
	services := map[string]*svc{}
	var timeErr error
	_, err := spans.Read(name, r, func(sp *spans.Span) error {
		ms := float64(sp.End-sp.Start) / 1e6
		if ms < 0 {
			return nil // counted by import traces; a measurement skips it
		}
		if sp.ParentID == "" {
			m.Total.Requests++
			if sp.Error {
				m.Total.Failed++
			} else {
				total.add(ms)
			}
			if err := tl.add(sp.Start, ms, !sp.Error); err != nil && timeErr == nil {
				timeErr = err
				return err
			}
		}
		if sp.Kind != spans.Server && !(sp.Kind == spans.Unspecified && sp.ParentID == "") {
			return nil
		}
		v := services[sp.Service]
		if v == nil {
			if len(services) == maxServices {
				return fmt.Errorf("more than %d services: not one system's traces", maxServices)
			}
			v = &svc{scope: Scope{Name: sp.Service}, s: newSamples(maxExact / maxServices)}
			services[sp.Service] = v
		}
		v.scope.Requests++
		if sp.Error {
			v.scope.Failed++
		} else {
			v.s.add(ms)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	m.Total.Latency = total.stats()
	m.Arrivals, m.Series = tl.finish()
	m.SpanS = tl.spanS()
	names := make([]string, 0, len(services))
	for n := range services {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v := services[n]
		v.scope.Latency = v.s.stats()
		m.Services = append(m.Services, v.scope)
	}
	return m, nil
}
