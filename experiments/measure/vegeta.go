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
	"time"
)

// vegeta's results and report (github.com/tsenart/vegeta/v12, lib/results.go
// and lib/metrics.go): `vegeta encode --to json` writes one Result a line
// — timestamp (when the request was sent, RFC 3339), latency and the
// other durations in nanoseconds, code (0 when no response came); and
// `vegeta report -type=json` the Metrics of a set of results, where a
// request succeeded when its code is 200–399 and duration is the time
// from the first send to the last.

type vegetaResult struct {
	Seq       *uint64  `json:"seq"`
	Code      int      `json:"code"`
	Timestamp string   `json:"timestamp"`
	Latency   *float64 `json:"latency"`
	Error     string   `json:"error"`
}

func readVegetaJSON(r io.Reader) (*Measurement, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	m := &Measurement{Total: Scope{Name: "total"}}
	s, tl := newSamples(maxExact), newTimeline()
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var res vegetaResult
		if err := json.Unmarshal(b, &res); err != nil {
			return nil, fmt.Errorf("line %d: not a vegeta result (%v): is the file cut short?", line, err)
		}
		if res.Latency == nil || res.Timestamp == "" {
			return nil, fmt.Errorf("line %d: a vegeta result needs timestamp and latency", line)
		}
		lat := *res.Latency
		if math.IsNaN(lat) || lat < 0 || lat > float64(maxSpan) {
			return nil, fmt.Errorf("line %d: latency %v: want nanoseconds, 0 or more", line, lat)
		}
		at, err := time.Parse(time.RFC3339Nano, res.Timestamp)
		if err != nil {
			return nil, fmt.Errorf("line %d: timestamp %q: want RFC 3339", line, res.Timestamp)
		}
		ms := lat / 1e6
		ok := res.Code >= 200 && res.Code < 400
		m.Total.Requests++
		if ok {
			s.add(ms)
		} else {
			m.Total.Failed++
		}
		if err := tl.add(at.UnixNano(), ms, ok); err != nil {
			return nil, fmt.Errorf("line %d: %v", line, err)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("line %d: longer than %d MB: not vegeta results", line+1, maxLine>>20)
		}
		return nil, fmt.Errorf("line %d: %v", line+1, err)
	}
	m.Total.Latency = s.stats()
	m.Arrivals, m.Series = tl.finish()
	m.SpanS = tl.spanS()
	return m, nil
}

func readVegetaReport(r io.Reader) (*Measurement, error) {
	var rep struct {
		Latencies map[string]float64 `json:"latencies"`
		Duration  float64            `json:"duration"`
		Requests  int64              `json:"requests"`
		Codes     map[string]int64   `json:"status_codes"`
	}
	if err := json.NewDecoder(io.LimitReader(r, 64<<20)).Decode(&rep); err != nil {
		return nil, fmt.Errorf("not a vegeta report: %v", jsonErr(err))
	}
	if rep.Requests < 0 || rep.Duration < 0 {
		return nil, fmt.Errorf("requests %d and duration %v: want 0 or more", rep.Requests, rep.Duration)
	}
	m := &Measurement{Total: Scope{Name: "total", Requests: rep.Requests}}
	var ok, coded int64
	for code, n := range rep.Codes {
		c, err := strconv.Atoi(code)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("status_codes: %q: %d: want a status code and a count", code, n)
		}
		coded += n
		if c >= 200 && c < 400 {
			ok += n
		}
	}
	if coded != rep.Requests {
		return nil, fmt.Errorf("status_codes count %d requests, requests says %d", coded, rep.Requests)
	}
	m.Total.Failed = rep.Requests - ok
	m.Total.LatencyIncludesFailed = m.Total.Failed > 0
	st := Stats{N: rep.Requests, Has: map[string]bool{}}
	for _, f := range []struct {
		key, name string
		dst       *float64
	}{{"mean", "mean", &st.Mean}, {"p50", "50th", &st.P50}, {"p90", "90th", &st.P90}, {"p95", "95th", &st.P95},
		{"p99", "99th", &st.P99}, {"max", "max", &st.Max}} {
		if v, has := rep.Latencies[f.name]; has {
			*f.dst, st.Has[f.key] = v/1e6, true
		}
	}
	if err := checkTrend("latencies", map[string]float64{"min": rep.Latencies["min"] / 1e6}, st); err != nil {
		return nil, err
	}
	m.Total.Latency = st
	if n := rep.Requests; n > 1 {
		m.SpanS = rep.Duration / 1e9 * float64(n) / float64(n-1)
	}
	m.Notes = append(m.Notes, "vegeta's report estimates percentiles (a t-digest) over every request, failed ones included")
	return m, nil
}
