package measure

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

func read(t *testing.T, name string, data []byte, opts Options) *Measurement {
	t.Helper()
	m, err := Read(name, bytes.NewReader(data), opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestK6SummaryReal reads a real k6 v1.8.1 --summary-export and checks it
// against the console summary of the same run, to the digits k6 printed.
func TestK6SummaryReal(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "k6", "summary-export.json"))
	if err != nil {
		t.Fatal(err)
	}
	console, err := os.ReadFile(filepath.Join("testdata", "k6", "console-summary.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		tag, line      string
		requests       int64
		span           float64
		mean, p50, p99 float64 // the export's own numbers
	}{
		{"", "{ expected_response:true }", 54001, 54001 / 399.8524749132673, 20.92562909534985, 14.751444, 92.105315},
		{"phase:measure", "{ phase:measure }", 48001, 0, 20.975392712797536, 14.805829, 92.153476},
	} {
		m := read(t, "summary-export.json", data, Options{Tag: tc.tag})
		if m.Format != K6Summary || m.Total.Requests != tc.requests || m.Total.Failed != 0 {
			t.Errorf("tag %q: %s, %d requests, %d failed; want k6-summary, %d, 0", tc.tag, m.Format, m.Total.Requests, m.Total.Failed, tc.requests)
		}
		if math.Abs(m.SpanS-tc.span) > 1e-9 {
			t.Errorf("tag %q: span %v, want %v", tc.tag, m.SpanS, tc.span)
		}
		l := m.Total.Latency
		if l.Mean != tc.mean || l.P50 != tc.p50 || l.P99 != tc.p99 {
			t.Errorf("tag %q: mean %v p50 %v p99 %v, want %v %v %v", tc.tag, l.Mean, l.P50, l.P99, tc.mean, tc.p50, tc.p99)
		}
		// The console line of the same statistics, as k6 rounded them.
		printed := consoleStats(t, string(console), tc.line)
		for k, got := range map[string]float64{"avg": l.Mean, "med": l.P50, "p(90)": l.P90, "p(95)": l.P95, "p(99)": l.P99, "max": l.Max} {
			want, ok := printed[k]
			if !ok {
				t.Fatalf("console line %s has no %s", tc.line, k)
			}
			if d := got - want; d < 0 || d >= 0.01 { // k6 prints two decimals of ms, truncated
				t.Errorf("tag %q: %s %v, the console printed %v", tc.tag, k, got, want)
			}
		}
	}
}

// consoleStats parses a line of k6's console summary ("avg=20.92ms
// min=188.14µs …") into ms.
func consoleStats(t *testing.T, console, label string) map[string]float64 {
	t.Helper()
	for _, line := range strings.Split(console, "\n") {
		if !strings.Contains(line, label) {
			continue
		}
		out := map[string]float64{}
		for _, kv := range regexp.MustCompile(`(\S+)=(\S+)`).FindAllStringSubmatch(line, -1) {
			d, err := time.ParseDuration(kv[2])
			if err != nil {
				t.Fatalf("console %q: %v", kv[0], err)
			}
			out[kv[1]] = float64(d) / 1e6
		}
		return out
	}
	t.Fatalf("no console line %q", label)
	return nil
}

func TestPercentileIsK6s(t *testing.T) {
	v := []float64{1, 2, 3, 4}
	for _, c := range []struct{ p, want float64 }{{0, 1}, {0.5, 2.5}, {0.99, 3.97}, {1, 4}} {
		if got := Percentile(v, c.p); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("p(%v) = %v, want %v", c.p, got, c.want)
		}
	}
}

// k6Lines writes k6 --out json lines as its documentation shows them
// (https://grafana.com/docs/k6/latest/results-output/real-time/json/):
// Metric declarations, vus points without tags, and for each request an
// http_reqs, an http_req_duration and an http_req_failed point with k6's
// default tags, sent every 10 ms from t0, 5 % failing with a 503, the
// second half tagged phase:measure. It returns the durations of the
// successful requests.
func k6Lines(w io.Writer, n int, t0 time.Time, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 2))
	fmt.Fprintln(w, `{"type":"Metric","data":{"type":"gauge","contains":"default","tainted":null,"thresholds":[],"submetrics":null},"metric":"vus"}`)
	fmt.Fprintln(w, `{"type":"Metric","data":{"type":"trend","contains":"time","tainted":null,"thresholds":["p(99)<250"],"submetrics":null},"metric":"http_req_duration"}`)
	var ok []float64
	for i := range n {
		sent := t0.Add(time.Duration(i) * 10 * time.Millisecond)
		d := 5 + rng.ExpFloat64()*20 // ms
		d = math.Round(d*1e6) / 1e6
		status, expected := "200", "true"
		if i%20 == 7 {
			status, expected = "503", "false"
		} else {
			ok = append(ok, d)
		}
		phase := "warm"
		if i >= n/2 {
			phase = "measure"
		}
		at := sent.Add(time.Duration(d * float64(time.Millisecond))).Format(time.RFC3339Nano)
		tags := fmt.Sprintf(`{"expected_response":%q,"group":"","method":"GET","name":"http://127.0.0.1:8080/","phase":%q,"proto":"HTTP/1.1","scenario":"default","status":%q,"url":"http://127.0.0.1:8080/"}`, expected, phase, status)
		if i%100 == 0 {
			fmt.Fprintf(w, `{"type":"Point","data":{"time":%q,"value":%d,"tags":null},"metric":"vus"}`+"\n", at, 10)
		}
		fmt.Fprintf(w, `{"metric":"http_reqs","type":"Point","data":{"time":%q,"value":1,"tags":%s}}`+"\n", at, tags)
		fmt.Fprintf(w, `{"type":"Point","data":{"time":%q,"value":%v,"tags":%s,"metadata":{}},"metric":"http_req_duration"}`+"\n", at, d, tags)
		failed := 0
		if expected == "false" {
			failed = 1
		}
		fmt.Fprintf(w, `{"type":"Point","data":{"time":%q,"value":%d,"tags":%s},"metric":"http_req_failed"}`+"\n", at, failed, tags)
	}
	return ok
}

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.FixedZone("", 3600))

func TestK6JSON(t *testing.T) {
	var buf bytes.Buffer
	ok := k6Lines(&buf, 2000, t0, 1)
	m := read(t, "out.json", buf.Bytes(), Options{})
	if m.Format != K6JSON || m.Total.Requests != 2000 || m.Total.Failed != 100 {
		t.Fatalf("%s: %d requests, %d failed; want k6-json, 2000, 100", m.Format, m.Total.Requests, m.Total.Failed)
	}
	slices.Sort(ok)
	l := m.Total.Latency
	var sum float64
	for _, v := range ok {
		sum += v
	}
	if !l.Exact || math.Abs(l.Mean-sum/float64(len(ok))) > 1e-9 || l.P99 != Percentile(ok, 0.99) || l.P50 != Percentile(ok, 0.5) || l.Max != ok[len(ok)-1] {
		t.Errorf("latency %+v; want mean %v p50 %v p99 %v max %v", l, sum/float64(len(ok)), Percentile(ok, 0.5), Percentile(ok, 0.99), ok[len(ok)-1])
	}
	// Sent every 10 ms from t0 (the point's time minus its duration).
	if m.Arrivals.Total() != 2000 || !m.Arrivals.First.Equal(t0) || math.Abs(m.SpanS-20) > 1e-6 {
		t.Errorf("arrivals %d from %v over %v s; want 2000 from %v over 20 s", m.Arrivals.Total(), m.Arrivals.First, m.SpanS, t0)
	}
	for i, c := range m.Arrivals.Counts {
		if want := uint32(0); i%10 == 0 {
			want = 1
			if c != want {
				t.Fatalf("bucket %d holds %d sends, want 1", i, c)
			}
		} else if c != 0 {
			t.Fatalf("bucket %d holds %d sends, want 0", i, c)
		}
	}
	if len(m.Series) != 20 || m.Series[0].Sent != 100 || m.Series[0].Failed != 5 {
		t.Errorf("series: %d windows, first %+v; want 20 of 100 sent, 5 failed", len(m.Series), m.Series[0])
	}
	// k6 flushes samples in batches, not in time order: the same lines
	// shuffled measure the same.
	lines := strings.SplitAfter(buf.String(), "\n")
	rand.New(rand.NewPCG(3, 3)).Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
	shuffled := read(t, "shuffled.json", []byte(strings.Join(lines, "")), Options{})
	if !reflect.DeepEqual(shuffled.Total, m.Total) || !slices.Equal(shuffled.Arrivals.Counts, m.Arrivals.Counts) || !shuffled.Arrivals.Origin.Equal(m.Arrivals.Origin) {
		t.Errorf("shuffled lines measure %+v, in order %+v", shuffled.Total, m.Total)
	}
	tagged := read(t, "out.json", buf.Bytes(), Options{Tag: "phase:measure"})
	if tagged.Total.Requests != 1000 || tagged.Total.Failed != 50 || math.Abs(tagged.SpanS-10) > 1e-6 {
		t.Errorf("phase:measure: %d requests, %d failed over %v s; want 1000, 50, 10 s", tagged.Total.Requests, tagged.Total.Failed, tagged.SpanS)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(buf.Bytes())
	zw.Close()
	if z := read(t, "out.json.gz", gz.Bytes(), Options{}); !reflect.DeepEqual(z.Total, m.Total) {
		t.Errorf("gzip: %+v, want %+v", z.Total, m.Total)
	}
}

// TestManySamples: past maxExact samples the percentiles come from the
// histogram, within its 0.4 %, and the memory stays bounded.
func TestManySamples(t *testing.T) {
	defer func(n int) { maxExact = n }(maxExact)
	maxExact = 10_000
	var buf bytes.Buffer
	ok := k6Lines(&buf, 50_000, t0, 4)
	m := read(t, "many.json", buf.Bytes(), Options{})
	slices.Sort(ok)
	l := m.Total.Latency
	if l.Exact {
		t.Error("50,000 samples past a 10,000 cap: percentiles said exact")
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"p50", l.P50, Percentile(ok, 0.5)}, {"p99", l.P99, Percentile(ok, 0.99)}} {
		if math.Abs(c.got/c.want-1) > 0.005 {
			t.Errorf("%s %v, exact %v: beyond the histogram's 0.4 %%", c.name, c.got, c.want)
		}
	}
}

// TestHugeK6JSON streams k6 output of millions of requests (generated, not
// stored): the heap stays bounded by the test's seconds, not its requests.
// CAPSIM_LONG=1 streams 10 GB.
func TestHugeK6JSON(t *testing.T) {
	n := 1_000_000
	if os.Getenv("CAPSIM_LONG") != "" {
		n = 25_000_000 // ≈ 10 GB of lines
	}
	pr, pw := io.Pipe()
	go func() {
		bw := bufio.NewWriterSize(pw, 1<<20)
		k6Lines(discardOK{bw}, n, t0, 5)
		bw.Flush()
		pw.Close()
	}()
	var peak uint64
	done := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-time.After(100 * time.Millisecond):
				// The live heap: what the reader holds, not garbage the
				// collector has yet to reclaim.
				runtime.GC()
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}
		}
	}()
	m, err := Read("huge.json", pr, Options{})
	close(done)
	if err != nil {
		t.Fatal(err)
	}
	if m.Total.Requests != int64(n) {
		t.Errorf("%d requests, want %d", m.Total.Requests, n)
	}
	t.Logf("%d requests: live heap at most %d MB", n, peak>>20)
	// 8 bytes a kept sample (at most 4 Mi: 32 MB), the arrival buckets (at
	// most 8 Mi: 32 MB) and the windows (at most 20,000: 26 MB), each up to
	// twice that while a slice grows: under 200 MB whatever the file.
	if peak > 200<<20 {
		t.Errorf("heap reached %d MB reading %d requests", peak>>20, n)
	}
}

// discardOK keeps k6Lines' writer but drops the successful durations it
// returns (the huge test does not hold them).
type discardOK struct{ io.Writer }

func TestBadInput(t *testing.T) {
	var k6 bytes.Buffer
	k6Lines(&k6, 10, t0, 6)
	good := k6.String()
	summary, _ := os.ReadFile(filepath.Join("testdata", "k6", "summary-export.json"))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(good))
	zw.Close()
	for _, c := range []struct {
		name, data string
		opts       Options
		want       string
	}{
		{"empty", "", Options{}, "empty"},
		{"text", "hello", Options{}, "not JSON"},
		{"shape", `{"foo": 1, "bar": [1, 2]}`, Options{}, "keys bar, foo is no format"},
		{"truncated k6 json", good[:len(good)-40], Options{}, "is the file cut short"},
		{"NaN", good + `{"type":"Point","metric":"http_req_duration","data":{"time":"2026-12-01T09:00:01Z","value":NaN}}` + "\n", Options{}, "line 34: invalid character 'N'"},
		{"negative", good + `{"type":"Point","metric":"http_req_duration","data":{"time":"2026-12-01T09:00:01Z","value":-3}}` + "\n", Options{}, "want a duration in ms, 0 or more"},
		{"bad time", good + `{"type":"Point","metric":"http_req_duration","data":{"time":"yesterday","value":3}}` + "\n", Options{}, `time "yesterday"`},
		{"years apart", good + `{"type":"Point","metric":"http_req_duration","data":{"time":"2021-12-01T09:00:01Z","value":3}}` + "\n", Options{}, "not one load test"},
		{"bad tag", good, Options{Tag: "phase"}, "want NAME:VALUE"},
		{"no such tag", good, Options{Tag: "phase:none"}, "no requests tagged phase:none"},
		{"truncated gzip", string(gz.Bytes()[:gz.Len()/2]), Options{}, "unexpected EOF"},
		{"summary tag", string(summary), Options{Tag: "phase:cool"}, "no metric http_reqs{phase:cool} in the summary (it has http_req_duration,"},
		{"summary unit", string(summary), Options{SummaryTimeUnit: "us"}, "were the times exported in another unit"},
		{"summary order", strings.Replace(string(summary), `"med": 14.751444`, `"med": 54.751444`, 1), Options{}, "p90 46.90833 is below p50 54.751444"},
		{"summary truncated", string(summary[:len(summary)/2]), Options{}, "truncated"},
		{"summary NaN", strings.Replace(string(summary), `"avg": 20.92562909534985`, `"avg": "NaN"`, 1), Options{}, `avg is "NaN", not a number`},
		{"summary no http", `{"root_group": {}, "metrics": {"iterations": {"count": 3, "rate": 1}}}`, Options{}, "no HTTP metrics"},
		{"vegeta report codes", `{"latencies":{"mean":1000000,"50th":1000000,"99th":2000000,"max":3000000,"min":500000},"requests":10,"duration":9000000000,"status_codes":{"200":9}}`, Options{}, "status_codes count 9 requests, requests says 10"},
		{"vegeta line", `{"attack":"","seq":0,"code":200,"timestamp":"2026-12-01T09:00:00Z","latency":5000000}` + "\n" + `{"attack":"","seq":1,"code":200,"timestamp":"2026-12-01T09:00:00Z","lat`, Options{}, "line 2: not a vegeta result"},
		{"vegeta negative", `{"attack":"","seq":0,"code":200,"timestamp":"2026-12-01T09:00:00Z","latency":-5}`, Options{}, "latency -5"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Read("bad.json", strings.NewReader(c.data), c.opts)
			if err == nil {
				t.Fatalf("no error, want one saying %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "bad.json") {
				t.Errorf("error %q: want one naming bad.json and saying %q", err, c.want)
			}
		})
	}
}

func TestTraces(t *testing.T) {
	// Two traces in Zipkin v2: a root server span on gateway calling a
	// server span on api; the second trace fails.
	zipkin := `[
{"traceId":"0000000000000001","id":"0000000000000001","kind":"SERVER","name":"get /","timestamp":1764579600000000,"duration":20000,"localEndpoint":{"serviceName":"gateway"}},
{"traceId":"0000000000000001","id":"0000000000000002","parentId":"0000000000000001","kind":"SERVER","name":"get","timestamp":1764579600002000,"duration":15000,"localEndpoint":{"serviceName":"api"}},
{"traceId":"0000000000000002","id":"0000000000000003","kind":"SERVER","name":"get /","timestamp":1764579601000000,"duration":30000,"localEndpoint":{"serviceName":"gateway"},"tags":{"error":"boom"}}
]`
	m := read(t, "zipkin.json", []byte(zipkin), Options{})
	if m.Format != Traces || m.Total.Requests != 2 || m.Total.Failed != 1 || m.Total.Latency.Mean != 20 {
		t.Fatalf("%s: total %+v; want traces, 2 requests, 1 failed, mean 20 ms", m.Format, m.Total)
	}
	if len(m.Services) != 2 || m.Services[0].Name != "api" || m.Services[0].Latency.Mean != 15 || m.Services[1].Requests != 2 {
		t.Errorf("services %+v", m.Services)
	}
}

func FuzzRead(f *testing.F) {
	var k6 bytes.Buffer
	k6Lines(&k6, 5, t0, 7)
	f.Add(k6.Bytes())
	summary, _ := os.ReadFile(filepath.Join("testdata", "k6", "summary-export.json"))
	f.Add(summary)
	f.Add([]byte(`{"attack":"","seq":0,"code":200,"timestamp":"2026-12-01T09:00:00Z","latency":5000000}`))
	f.Add([]byte(`{"latencies":{"mean":1000000,"50th":1000000,"99th":2000000,"max":3000000,"min":500000},"requests":1,"duration":0,"status_codes":{"200":1}}`))
	f.Add([]byte(`[{"traceId":"01","id":"01","timestamp":1,"duration":2,"localEndpoint":{"serviceName":"a"}}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Read("fuzz.json", bytes.NewReader(data), Options{})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.json") {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		if m.Total.Requests <= 0 || m.Total.Failed < 0 || m.Total.Failed > m.Total.Requests {
			t.Errorf("counts %+v", m.Total)
		}
	})
}

func TestLongestPause(t *testing.T) {
	a := &Arrivals{Resolution: time.Millisecond, Counts: []uint32{0, 1, 0, 1, 1, 0, 0, 0, 0, 2, 1, 0}}
	// Sends in buckets 1, 3, 4, 9, 10: the longest gap is from bucket 4
	// to 9 (5 ms), beginning 3 ms after the first send.
	if l, at := a.LongestPause(); l != 5*time.Millisecond || at != 3*time.Millisecond {
		t.Errorf("pause %v at %v, want 5ms at 3ms", l, at)
	}
}
