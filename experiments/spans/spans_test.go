package spans

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"
)

func readAll(t *testing.T, data string) ([]*Span, Format) {
	t.Helper()
	var out []*Span
	f, err := Read("t.json", strings.NewReader(data), func(s *Span) error {
		out = append(out, s)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, f
}

// Each format's spellings, as its specification writes them, become the
// same span.
func TestFormats(t *testing.T) {
	want := Span{TraceID: "5b8efff798038103d269b633813fc60c", SpanID: "eee19b7ec3c1b174", ParentID: "eee19b7ec3c1b173",
		Service: "cart", Name: "GET /cart", Kind: Server, Start: 1544712660000000000, End: 1544712661000000000, Error: true}
	cases := map[string]struct {
		data   string
		format Format
	}{
		"otlp": {`{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"cart"}}]},
			"scopeSpans":[{"scope":{"name":"x"},"spans":[{"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"eee19b7ec3c1b174",
			"parentSpanId":"eee19b7ec3c1b173","name":"GET /cart","kind":2,"startTimeUnixNano":"1544712660000000000",
			"endTimeUnixNano":1544712661000000000,"status":{"code":2}}]}]}]}`, OTLP},
		"otlp, protojson's proto names, base64 ids and enum names": {`{"resource_spans":[{"scope_spans":[{"spans":[{"trace_id":"W47/95gDgQPSabYzgT/GDA==",
			"span_id":"7uGbfsPBsXQ=","parent_span_id":"7uGbfsPBsXM=","name":"GET /cart","kind":"SPAN_KIND_SERVER",
			"start_time_unix_nano":"1544712660000000000","end_time_unix_nano":"1544712661000000000","status":{"code":"STATUS_CODE_ERROR"}}]}],
			"resource":{"attributes":[{"key":"service.name","value":{"string_value":"cart"}}]}}]}`, OTLP},
		"tempo's legacy batches": {`{"batches":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"cart"}}]},
			"instrumentationLibrarySpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
			"parentSpanId":"eee19b7ec3c1b173","name":"GET /cart","kind":"SPAN_KIND_SERVER","startTimeUnixNano":"1544712660000000000",
			"endTimeUnixNano":"1544712661000000000","status":{"code":2}}]}]}]}`, OTLP},
		"jaeger": {`{"data":[{"traceID":"5b8efff798038103d269b633813fc60c","spans":[{"traceID":"5b8efff798038103d269b633813fc60c",
			"spanID":"eee19b7ec3c1b174","operationName":"GET /cart","references":[{"refType":"CHILD_OF","traceID":"5b8efff798038103d269b633813fc60c",
			"spanID":"eee19b7ec3c1b173"}],"startTime":1544712660000000,"duration":1000000,"tags":[{"key":"span.kind","type":"string","value":"server"},
			{"key":"error","type":"bool","value":true}],"processID":"p1"}],"processes":{"p1":{"serviceName":"cart","tags":[]}}}],"total":0}`, Jaeger},
		"zipkin": {`[{"traceId":"5b8efff798038103d269b633813fc60c","id":"eee19b7ec3c1b174","parentId":"eee19b7ec3c1b173","name":"GET /cart",
			"kind":"SERVER","timestamp":1544712660000000,"duration":1000000,"localEndpoint":{"serviceName":"cart"},"tags":{"error":"500"}}]`, Zipkin},
		"zipkin, a list of traces": {`[[{"traceId":"5b8efff798038103d269b633813fc60c","id":"eee19b7ec3c1b174","parentId":"eee19b7ec3c1b173","name":"GET /cart",
			"kind":"SERVER","timestamp":1544712660000000,"duration":1000000,"localEndpoint":{"serviceName":"cart"},"tags":{"error":""}}]]`, Zipkin},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, f := readAll(t, c.data)
			if f != c.format || len(got) != 1 || *got[0] != want {
				t.Errorf("%s: %+v, want %+v", f, got, want)
			}
		})
	}
}

// The Collector's file exporter writes one request a line, gzip or not;
// 64-bit Jaeger and Zipkin trace ids pad to 128 bits; a Jaeger
// FOLLOWS_FROM reference and a Zipkin shared span are kept.
func TestStreamsAndIDs(t *testing.T) {
	line := `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"a"}}]},"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"x","kind":1}]}]}]}`
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(line + "\n" + line + "\n\n" + line))
	zw.Close()
	got, _ := readAll(t, gz.String())
	if len(got) != 3 || got[2].Kind != Internal || got[2].Service != "a" {
		t.Errorf("%d spans from three lines: %+v", len(got), got)
	}
	j, _ := readAll(t, `{"data":[{"traceID":"d269b633813fc60c","spans":[{"spanID":"1","operationName":"x","references":[{"refType":"FOLLOWS_FROM","spanID":"2"}],"processID":"p"}],"processes":{"p":{"serviceName":"q"}}}]}`)
	if s := j[0]; s.TraceID != "0000000000000000d269b633813fc60c" || s.SpanID != "0000000000000001" || !s.FollowsFrom || s.Service != "q" {
		t.Errorf("jaeger: %+v", s)
	}
	z, _ := readAll(t, `[{"traceId":"d269b633813fc60c","id":"a","kind":"SERVER","shared":true}]`)
	if !z[0].Shared || z[0].TraceID != "0000000000000000d269b633813fc60c" {
		t.Errorf("zipkin: %+v", z[0])
	}
}

// Bad files are errors naming the file and the place.
func TestErrors(t *testing.T) {
	for name, data := range map[string]string{
		"empty":       "",
		"not json":    "GET / HTTP/1.1",
		"bad id":      `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz!"}]}]}]}`,
		"bad time":    `[{"traceId":"01","id":"02","timestamp":"soon"}]`,
		"cut short":   `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10"`,
		"huge time":   `[{"traceId":"01","id":"02","timestamp":99999999999999999999}]`,
		"wrong shape": `{"resourceSpans":{"a":1}}`,
	} {
		_, err := Read("f.json", strings.NewReader(data), func(*Span) error { return nil })
		if err == nil || !strings.HasPrefix(err.Error(), "f.json") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// FuzzRead: whatever the bytes, a reader returns spans or an error, never
// a panic, and every span's ids are lowercase hex.
func FuzzRead(f *testing.F) {
	for _, s := range []string{
		`{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"a"}}]},"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","parentSpanId":"0102030405060709","name":"x","kind":2,"startTimeUnixNano":"1","endTimeUnixNano":2,"status":{"code":2}}]}]}]}`,
		`{"batches":[{"instrumentationLibrarySpans":[{"spans":[{"traceId":"AQIDBAUGBwgJCgsMDQ4PEA==","spanId":"AQIDBAUGBwg=","kind":"SPAN_KIND_CLIENT"}]}]}]}`,
		`{"data":[{"traceID":"01","spans":[{"spanID":"1","references":[{"refType":"CHILD_OF","spanID":"2"}],"startTime":1,"duration":2,"tags":[{"key":"span.kind","value":"client"}],"processID":"p"}],"processes":{"p":{"serviceName":"q"}}}]}`,
		`[{"traceId":"01","id":"02","parentId":"03","kind":"CLIENT","timestamp":1,"duration":2,"shared":true,"localEndpoint":{"serviceName":"s"},"tags":{"error":"x"}}]`,
		`[[{"traceId":"01","id":"02"}],[]]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		Read("fuzz", bytes.NewReader(data), func(s *Span) error {
			for _, id := range []string{s.TraceID, s.SpanID, s.ParentID} {
				if id != strings.ToLower(id) || !isHex(id) {
					t.Fatalf("id %q", id)
				}
			}
			return nil
		})
	})
}
