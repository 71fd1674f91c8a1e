package spans

import (
	"fmt"
	"strings"
)

// jaegerTrace is one element of the query service's "data": model/json's
// Trace.
type jaegerTrace struct {
	TraceID   string                   `json:"traceID"`
	Spans     []jaegerSpan             `json:"spans"`
	Processes map[string]jaegerProcess `json:"processes"`
}

type jaegerSpan struct {
	TraceID       string         `json:"traceID"`
	SpanID        string         `json:"spanID"`
	ParentSpanID  string         `json:"parentSpanID"` // before references (deprecated)
	OperationName string         `json:"operationName"`
	References    []jaegerRef    `json:"references"`
	StartTime     flexInt        `json:"startTime"` // µs
	Duration      flexInt        `json:"duration"`  // µs
	Tags          []jaegerTag    `json:"tags"`
	ProcessID     string         `json:"processID"`
	Process       *jaegerProcess `json:"process"`
}

type jaegerRef struct {
	RefType string `json:"refType"` // CHILD_OF or FOLLOWS_FROM
	TraceID string `json:"traceID"`
	SpanID  string `json:"spanID"`
}

type jaegerTag struct {
	Key   string `json:"key"`
	Value any    `json:"value"`
}

type jaegerProcess struct {
	ServiceName string `json:"serviceName"`
}

// readJaeger reads {"data": [trace, …]}, one trace decoded at a time.
func readJaeger(w *walker, fn func(*Span) error) error {
	trace := func() error {
		var t jaegerTrace
		if err := w.decode(&t); err != nil {
			return err
		}
		return t.emit(fn)
	}
	for w.dec.More() {
		w.cr.mark = w.cr.n
		err := w.object(func(key string) error {
			if key == "data" {
				return w.array(trace)
			}
			return w.skip()
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (t *jaegerTrace) emit(fn func(*Span) error) error {
	for i := range t.Spans {
		js := &t.Spans[i]
		tid, err := ID(first(js.TraceID, t.TraceID), true)
		if err != nil {
			return fmt.Errorf("traceID: %v", err)
		}
		sid, err := ID(js.SpanID, false)
		if err != nil {
			return fmt.Errorf("spanID: %v", err)
		}
		s := &Span{TraceID: tid, SpanID: sid, Name: js.OperationName,
			Start: int64(js.StartTime) * 1000, End: (int64(js.StartTime) + int64(js.Duration)) * 1000}
		parent := js.ParentSpanID
		for _, r := range js.References {
			if r.TraceID != "" {
				if rt, _ := ID(r.TraceID, true); rt != tid {
					continue // a link to another trace
				}
			}
			parent = r.SpanID
			s.FollowsFrom = r.RefType == "FOLLOWS_FROM"
			break
		}
		if s.ParentID, err = ID(parent, false); err != nil {
			return fmt.Errorf("parent: %v", err)
		}
		if s.ParentID == "0000000000000000" {
			s.ParentID = ""
		}
		if p := js.Process; p != nil {
			s.Service = p.ServiceName
		} else if p, ok := t.Processes[js.ProcessID]; ok {
			s.Service = p.ServiceName
		}
		for _, tag := range js.Tags {
			switch tag.Key {
			case "span.kind":
				if v, ok := tag.Value.(string); ok {
					s.Kind = kindOf(v)
				}
			case "error":
				switch v := tag.Value.(type) {
				case bool:
					s.Error = v
				case string:
					s.Error = strings.EqualFold(v, "true")
				}
			case "otel.status_code":
				if v, ok := tag.Value.(string); ok && v == "ERROR" {
					s.Error = true
				}
			}
		}
		if err := fn(s); err != nil {
			return stopError{err}
		}
	}
	return nil
}
