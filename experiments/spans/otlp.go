package spans

import (
	"fmt"
	"io"
)

// otlpSpan is trace.proto's Span, as OTLP/JSON (and protojson's proto
// names) spell it; fields capsim does not use are skipped.
type otlpSpan struct {
	TraceID       string    `json:"traceId"`
	TraceID2      string    `json:"trace_id"`
	SpanID        string    `json:"spanId"`
	SpanID2       string    `json:"span_id"`
	ParentSpanID  string    `json:"parentSpanId"`
	ParentSpanID2 string    `json:"parent_span_id"`
	Name          string    `json:"name"`
	Kind          flexEnum  `json:"kind"`
	Start         flexInt   `json:"startTimeUnixNano"`
	Start2        flexInt   `json:"start_time_unix_nano"`
	End           flexInt   `json:"endTimeUnixNano"`
	End2          flexInt   `json:"end_time_unix_nano"`
	Status        otlpState `json:"status"`
}

type otlpState struct {
	Code flexEnum `json:"code"`
}

type otlpKeyValue struct {
	Key   string `json:"key"`
	Value struct {
		StringValue  *string `json:"stringValue"`
		StringValue2 *string `json:"string_value"`
	} `json:"value"`
}

type otlpResource struct {
	Attributes []otlpKeyValue `json:"attributes"`
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func firstInt(a, b flexInt) int64 {
	if a != 0 {
		return int64(a)
	}
	return int64(b)
}

// serviceName is the resource's service.name attribute.
func (r *otlpResource) serviceName() string {
	for _, kv := range r.Attributes {
		if kv.Key == "service.name" {
			if v := kv.Value.StringValue; v != nil {
				return *v
			}
			if v := kv.Value.StringValue2; v != nil {
				return *v
			}
		}
	}
	return ""
}

// maxPending bounds the spans of one ResourceSpans held while its
// resource (which protojson writes first, but JSON does not order) is
// still to come.
const maxPending = 100000

// readOTLP reads a stream of ExportTraceServiceRequest objects (one a line,
// or one alone), each {"resourceSpans": [{"resource", "scopeSpans":
// [{"scope", "spans": [...]}]}]}, or Tempo's legacy {"batches": [{"resource",
// "instrumentationLibrarySpans": [{"spans": [...]}]}]}.
func readOTLP(w *walker, fn func(*Span) error) error {
	for {
		w.cr.mark = w.cr.n
		if !w.dec.More() {
			if _, err := w.dec.Token(); err != io.EOF {
				if err == nil {
					return fmt.Errorf("unexpected value after the requests")
				}
				return err
			}
			return nil
		}
		err := w.object(func(key string) error {
			switch key {
			case "resourceSpans", "resource_spans", "batches":
				return w.array(func() error { return readResourceSpans(w, fn) })
			}
			return w.skip()
		})
		if err != nil {
			return err
		}
	}
}

func readResourceSpans(w *walker, fn func(*Span) error) error {
	var (
		service  string
		haveRes  bool
		pending  []*Span
		overflow bool
	)
	emit := func(s *Span) error {
		if haveRes {
			s.Service = service
			if err := fn(s); err != nil {
				return stopError{err}
			}
			return nil
		}
		if len(pending) >= maxPending {
			overflow = true
			return fmt.Errorf("more than %d spans before their resource: write the resource first (as protojson does)", maxPending)
		}
		pending = append(pending, s)
		return nil
	}
	err := w.object(func(key string) error {
		switch key {
		case "resource":
			var r otlpResource
			if err := w.decode(&r); err != nil {
				return err
			}
			service, haveRes = r.serviceName(), true
			for _, s := range pending {
				if err := emit(s); err != nil {
					return err
				}
			}
			pending = nil
			return nil
		case "scopeSpans", "scope_spans", "instrumentationLibrarySpans", "instrumentation_library_spans":
			return w.array(func() error {
				return w.object(func(key string) error {
					if key != "spans" {
						return w.skip()
					}
					return w.array(func() error {
						var o otlpSpan
						if err := w.decode(&o); err != nil {
							return err
						}
						s, err := o.span()
						if err != nil {
							return err
						}
						return emit(s)
					})
				})
			})
		}
		return w.skip()
	})
	if err != nil || overflow {
		return err
	}
	for _, s := range pending { // no resource at all: no service name
		haveRes = true
		if err := emit(s); err != nil {
			return err
		}
	}
	return nil
}

func (o *otlpSpan) span() (*Span, error) {
	tid, err := ID(first(o.TraceID, o.TraceID2), true)
	if err != nil {
		return nil, fmt.Errorf("traceId: %v", err)
	}
	sid, err := ID(first(o.SpanID, o.SpanID2), false)
	if err != nil {
		return nil, fmt.Errorf("spanId: %v", err)
	}
	pid, err := ID(first(o.ParentSpanID, o.ParentSpanID2), false)
	if err != nil {
		return nil, fmt.Errorf("parentSpanId: %v", err)
	}
	s := &Span{TraceID: tid, SpanID: sid, ParentID: pid, Name: o.Name,
		Start: firstInt(o.Start, o.Start2), End: firstInt(o.End, o.End2)}
	if o.Kind.name != "" {
		s.Kind = kindOf(o.Kind.name)
	} else if o.Kind.num >= 0 && o.Kind.num <= int64(Consumer) {
		s.Kind = Kind(o.Kind.num)
	}
	// Status.code: 2 = STATUS_CODE_ERROR (trace.proto).
	s.Error = o.Status.Code.num == 2 || o.Status.Code.name == "STATUS_CODE_ERROR" || o.Status.Code.name == "ERROR"
	if pid == "0000000000000000" {
		s.ParentID = ""
	}
	return s, nil
}
