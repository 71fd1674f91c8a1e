package measure

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// k6's JSON output (k6 run --out json=FILE,
// https://grafana.com/docs/k6/latest/results-output/real-time/json/): one
// JSON object a line, {"type": "Metric", "metric": NAME, "data": {...}}
// declaring a metric or {"type": "Point", "metric": NAME, "data":
// {"time": RFC 3339, "value": V, "tags": {...}}} for a sample ("time
// values are in milliseconds"). A request's http_req_duration point is
// emitted when the response has been read, so the request was sent at
// time − value; its expected_response tag ("true"/"false") is what
// http_req_failed counts (status 200–399 by default), its status tag the
// fallback.

type k6Line struct {
	Type   string `json:"type"`
	Metric string `json:"metric"`
	Data   struct {
		Time  string            `json:"time"`
		Value *float64          `json:"value"`
		Tags  map[string]string `json:"tags"`
	} `json:"data"`
}

func readK6JSON(r io.Reader, opts Options) (*Measurement, error) {
	var tagKey, tagValue string
	if opts.Tag != "" {
		k, v, ok := strings.Cut(opts.Tag, ":")
		if !ok || k == "" {
			return nil, fmt.Errorf("tag %q: want NAME:VALUE, as phase:measure", opts.Tag)
		}
		tagKey, tagValue = k, v
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	var (
		line     int
		s        = newSamples(maxExact)
		tl       = newTimeline()
		m        = &Measurement{}
		noStatus int64
		name     = []byte(`"http_req_duration"`)
	)
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if b[0] != '{' || b[len(b)-1] != '}' {
			return nil, fmt.Errorf("line %d: not a JSON object (%s…): is the file cut short?", line, excerpt(b))
		}
		if !bytes.Contains(b, name) {
			continue // another metric's line: not needed
		}
		var l k6Line
		if err := json.Unmarshal(b, &l); err != nil {
			return nil, fmt.Errorf("line %d: %v", line, err)
		}
		if l.Type != "Point" || l.Metric != "http_req_duration" {
			continue
		}
		if tagKey != "" && l.Data.Tags[tagKey] != tagValue {
			continue
		}
		if l.Data.Value == nil {
			return nil, fmt.Errorf("line %d: an http_req_duration point without a value", line)
		}
		v := *l.Data.Value
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return nil, fmt.Errorf("line %d: http_req_duration %v: want a duration in ms, 0 or more", line, v)
		}
		at, err := time.Parse(time.RFC3339Nano, l.Data.Time)
		if err != nil {
			return nil, fmt.Errorf("line %d: time %q: want RFC 3339, as k6 writes it", line, l.Data.Time)
		}
		ok := true
		switch l.Data.Tags["expected_response"] {
		case "true":
		case "false":
			ok = false
		default:
			if st, err := strconv.Atoi(l.Data.Tags["status"]); err == nil {
				ok = st >= 200 && st < 400
			} else {
				noStatus++
			}
		}
		m.Total.Requests++
		if ok {
			s.add(v)
		} else {
			m.Total.Failed++
		}
		sent := at.UnixNano() - int64(v*float64(time.Millisecond))
		if err := tl.add(sent, v, ok); err != nil {
			return nil, fmt.Errorf("line %d: %v", line, err)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("line %d: longer than %d MB: not k6 JSON output", line+1, maxLine>>20)
		}
		return nil, fmt.Errorf("line %d: %v", line+1, err)
	}
	if noStatus > 0 {
		m.Notes = append(m.Notes, fmt.Sprintf("%d points carry neither expected_response nor status: counted as successful", noStatus))
	}
	m.Total.Name = "total"
	m.Total.Latency = s.stats()
	m.Arrivals, m.Series = tl.finish()
	m.SpanS = tl.spanS()
	return m, nil
}
