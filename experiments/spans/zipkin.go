package spans

import (
	"encoding/json"
	"fmt"
)

// zipkinSpan is zipkin2-api.yaml's Span.
type zipkinSpan struct {
	TraceID       string            `json:"traceId"`
	ID            string            `json:"id"`
	ParentID      string            `json:"parentId"`
	Name          string            `json:"name"`
	Kind          string            `json:"kind"`
	Timestamp     flexInt           `json:"timestamp"` // µs
	Duration      flexInt           `json:"duration"`  // µs
	Shared        bool              `json:"shared"`
	LocalEndpoint *zipkinEndpoint   `json:"localEndpoint"`
	Tags          map[string]string `json:"tags"`
}

type zipkinEndpoint struct {
	ServiceName string `json:"serviceName"`
}

// readZipkin reads a ListOfSpans, or the API's list of traces (an array of
// ListOfSpans), one span decoded at a time.
func readZipkin(w *walker, fn func(*Span) error) error {
	nested := false
	var span func() error
	span = func() error {
		t, err := w.dec.Token()
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('['): // a trace: a list of spans
			if nested {
				return fmt.Errorf("an array in a trace's list of spans: want a span object")
			}
			nested = true
			defer func() { nested = false }()
			for w.dec.More() {
				w.cr.mark = w.cr.n
				if err := span(); err != nil {
					return err
				}
			}
			return w.delim(']')
		case json.Delim('{'):
		default:
			return fmt.Errorf("want a span object, got %v", t)
		}
		// The '{' is consumed: decode the rest of the object field by field.
		var z zipkinSpan
		for w.dec.More() {
			k, err := w.dec.Token()
			if err != nil {
				return err
			}
			if err := z.field(w, k.(string)); err != nil {
				return err
			}
		}
		if err := w.delim('}'); err != nil {
			return err
		}
		s, err := z.span()
		if err != nil {
			return err
		}
		if err := fn(s); err != nil {
			return stopError{err}
		}
		return nil
	}
	for w.dec.More() {
		if err := w.array(span); err != nil {
			return err
		}
	}
	return nil
}

func (z *zipkinSpan) field(w *walker, key string) error {
	var v any
	switch key {
	case "traceId":
		v = &z.TraceID
	case "id":
		v = &z.ID
	case "parentId":
		v = &z.ParentID
	case "name":
		v = &z.Name
	case "kind":
		v = &z.Kind
	case "timestamp":
		v = &z.Timestamp
	case "duration":
		v = &z.Duration
	case "shared":
		v = &z.Shared
	case "localEndpoint":
		v = &z.LocalEndpoint
	case "tags":
		v = &z.Tags
	default:
		return w.skip()
	}
	return w.decode(v)
}

func (z *zipkinSpan) span() (*Span, error) {
	tid, err := ID(z.TraceID, true)
	if err != nil {
		return nil, fmt.Errorf("traceId: %v", err)
	}
	sid, err := ID(z.ID, false)
	if err != nil {
		return nil, fmt.Errorf("id: %v", err)
	}
	pid, err := ID(z.ParentID, false)
	if err != nil {
		return nil, fmt.Errorf("parentId: %v", err)
	}
	s := &Span{TraceID: tid, SpanID: sid, ParentID: pid, Name: z.Name, Kind: kindOf(z.Kind), Shared: z.Shared,
		Start: int64(z.Timestamp) * 1000, End: (int64(z.Timestamp) + int64(z.Duration)) * 1000}
	if z.LocalEndpoint != nil {
		s.Service = z.LocalEndpoint.ServiceName
	}
	if _, ok := z.Tags["error"]; ok {
		s.Error = true
	}
	return s, nil
}
