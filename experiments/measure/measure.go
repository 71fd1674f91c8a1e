package measure

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Format is a measurement file's format.
type Format string

const (
	K6Summary    Format = "k6-summary"    // k6 run --summary-export (or handleSummary's JSON)
	K6JSON       Format = "k6-json"       // k6 run --out json: Metric and Point lines
	VegetaJSON   Format = "vegeta-json"   // vegeta encode --to json: a result a line
	VegetaReport Format = "vegeta-report" // vegeta report -type=json
	Traces       Format = "traces"        // OTLP/JSON, Jaeger or Zipkin (experiments/spans)
)

// Scope is what was measured of one part of the system: the whole test
// ("total", what the load generator saw) or one service (from traces).
type Scope struct {
	Name     string `json:"name"`
	Requests int64  `json:"requests"`
	Failed   int64  `json:"failed"`
	// Latency is over the successful requests where the source tells them
	// apart (LatencyIncludesFailed says when it does not).
	Latency               Stats `json:"latency_ms"`
	LatencyIncludesFailed bool  `json:"latency_includes_failed,omitempty"`
}

// Measurement is what one load test measured.
type Measurement struct {
	Source string `json:"source"`
	Format Format `json:"format"`
	Total  Scope  `json:"total"`
	// Services are per-service scopes (traces only), by name.
	Services []Scope `json:"services,omitempty"`
	// SpanS is the time the requests were sent over, in seconds (0: the
	// source does not say, as a tagged k6 sub-metric).
	SpanS float64 `json:"span_s"`
	// Arrivals and Series are there when the source timestamps each
	// request.
	Arrivals *Arrivals `json:"-"`
	Series   []Window  `json:"series,omitempty"`
	// Notes say what to read with care.
	Notes []string `json:"notes,omitempty"`
}

// Options select what is read.
type Options struct {
	// Tag keeps only samples with this k6 tag ("phase:measure"); for a
	// summary, the sub-metric http_req_duration{phase:measure}.
	Tag string
	// SummaryTimeUnit is the unit of a k6 summary's times (k6's
	// --summary-time-unit; default "ms").
	SummaryTimeUnit string
}

// sniffSize is how much of a file is looked at to tell its format.
const sniffSize = 1 << 20

// maxLine bounds one line of a line-oriented format (k6 --out json,
// vegeta's json encoding); real lines are well under a kilobyte, or a
// few with a response body.
const maxLine = 16 << 20

// Read reads one measurement file (gzip undone), detecting its format by
// content. name is used in error messages.
func Read(name string, r io.Reader, opts Options) (*Measurement, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, sniffSize)
	} else {
		br = bufio.NewReaderSize(br, sniffSize)
	}
	format, err := detect(br)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	var m *Measurement
	switch format {
	case K6Summary:
		m, err = readK6Summary(br, opts)
	case K6JSON:
		m, err = readK6JSON(br, opts)
	case VegetaJSON:
		m, err = readVegetaJSON(br)
	case VegetaReport:
		m, err = readVegetaReport(br)
	default:
		m, err = readTraces(name, br)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	m.Source, m.Format = name, format
	if m.Total.Requests == 0 {
		return nil, fmt.Errorf("%s: %s with no requests%s", name, format, tagHint(opts.Tag))
	}
	return m, nil
}

func tagHint(tag string) string {
	if tag == "" {
		return ""
	}
	return fmt.Sprintf(" tagged %s", tag)
}

// detect tells the format from the first JSON value's top-level keys.
func detect(br *bufio.Reader) (Format, error) {
	head, err := br.Peek(sniffSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return "", err
	}
	head = bytes.TrimLeft(head, " \t\r\n\ufeff")
	if len(head) == 0 {
		return "", errors.New("empty: want a k6 summary or JSON output, vegeta results or report, or traces")
	}
	switch head[0] {
	case '[':
		return Traces, nil // Zipkin v2: a span array
	case '{':
	default:
		return "", fmt.Errorf("not JSON (starts %q): want a k6 summary (--summary-export) or JSON output (--out json), vegeta results (vegeta encode --to json) or report (-type=json), or traces", excerpt(head))
	}
	keys := topKeys(head)
	has := func(k string) bool { return keys[k] }
	switch {
	case has("type") && has("metric"):
		return K6JSON, nil
	case has("metrics") && (has("root_group") || has("state") || has("options") || len(keys) == 1):
		return K6Summary, nil
	case has("latencies") && has("requests"):
		return VegetaReport, nil
	case has("seq") && has("timestamp") && has("latency"):
		return VegetaJSON, nil
	case has("resourceSpans") || has("batches") || has("data"):
		return Traces, nil
	}
	return "", fmt.Errorf("a JSON object with keys %s is no format capsim fit reads: want a k6 summary (metrics, root_group), k6 JSON output lines (type, metric, data), vegeta results (seq, timestamp, latency) or a vegeta report (latencies, requests), or traces (resourceSpans, data)", keyList(keys))
}

// topKeys returns the keys of the first JSON object in b, as far as b
// goes.
func topKeys(b []byte) map[string]bool {
	keys := map[string]bool{}
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return keys
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			break
		}
		k, ok := t.(string)
		if !ok {
			break
		}
		keys[k] = true
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			break
		}
	}
	return keys
}

func keyList(keys map[string]bool) string {
	var ks []string
	for k := range keys {
		ks = append(ks, k)
	}
	if len(ks) == 0 {
		return "(none)"
	}
	sortStrings(ks)
	if len(ks) > 8 {
		ks = append(ks[:8], "…")
	}
	return strings.Join(ks, ", ")
}

func excerpt(b []byte) string {
	if len(b) > 20 {
		b = b[:20]
	}
	return string(b)
}
