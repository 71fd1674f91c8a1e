package prometheus

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var record = flag.Bool("record", false, "query a real Prometheus again and rewrite testdata/query_range.json")

// The recorded production traffic: http_requests_total of two instances,
// scraped every 15 s for two hours from t0; instance a serves 100 ± 50
// requests/s on an hourly sine, b a steady 30/s.
var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

const hours = 2

func trueRate(t float64) float64 { return 100 + 50*math.Sin(2*math.Pi*t/3600) + 30 }

// openMetrics writes the counters as OpenMetrics text, which promtool
// turns into TSDB blocks.
func openMetrics() []byte {
	var b bytes.Buffer
	b.WriteString("# TYPE http_requests counter\n")
	var a, c float64
	for s := 0; s <= hours*3600; s += 15 {
		t := float64(s)
		// Exact integrals of the rates from 0 to t.
		a = 100*t + 50*3600/(2*math.Pi)*(1-math.Cos(2*math.Pi*t/3600))
		c = 30 * t
		ts := t0.Unix() + int64(s)
		fmt.Fprintf(&b, "http_requests_total{job=\"api\",instance=\"a\"} %.3f %d\n", a, ts)
		fmt.Fprintf(&b, "http_requests_total{job=\"api\",instance=\"b\"} %.3f %d\n", c, ts)
	}
	b.WriteString("# EOF\n")
	return b.Bytes()
}

// queryRealPrometheus builds TSDB blocks with promtool, serves them with a
// real Prometheus on 127.0.0.1, and asks it the range query, as a user
// would with curl.
func queryRealPrometheus(t *testing.T, query string, step time.Duration) []byte {
	t.Helper()
	for _, bin := range []string{"promtool", "prometheus"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s is not installed (apt-get install prometheus; .ci/run does)", bin)
		}
	}
	dir := t.TempDir()
	om := filepath.Join(dir, "requests.om")
	os.WriteFile(om, openMetrics(), 0o644)
	data := filepath.Join(dir, "data")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "promtool", "tsdb", "create-blocks-from", "openmetrics", om, data).CombinedOutput(); err != nil {
		t.Fatalf("promtool: %v\n%s", err, out)
	}
	cfg := filepath.Join(dir, "prometheus.yml")
	os.WriteFile(cfg, []byte("global:\n  scrape_interval: 15s\n"), 0o644)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skip(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.CommandContext(ctx, "prometheus", "--config.file="+cfg, "--storage.tsdb.path="+data,
		"--storage.tsdb.retention.time=100y", "--web.listen-address="+addr)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	base := "http://" + addr
	for {
		resp, err := http.Get(base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("prometheus did not become ready:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	q := url.Values{"query": {query}, "start": {fmt.Sprint(t0.Unix())}, "end": {fmt.Sprint(t0.Unix() + hours*3600)}, "step": {fmt.Sprint(int(step.Seconds()))}}
	resp, err := http.Get(base + "/api/v1/query_range?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("query_range: %s: %s", resp.Status, body)
	}
	return body
}

const query = "sum(rate(http_requests_total[1m]))"

// TestRealPrometheus: a real Prometheus's answer (recorded in testdata, and
// asked again when prometheus is installed) imports as the traffic it
// recorded: 120 windows of 60 s whose rates follow the true ones.
func TestRealPrometheus(t *testing.T) {
	golden := filepath.Join("testdata", "query_range.json")
	if *record || hasPrometheus() {
		live := queryRealPrometheus(t, query, time.Minute)
		if *record {
			os.WriteFile(golden, live, 0o644)
		}
		recorded, _ := os.ReadFile(golden)
		a, errA := Read("live", live, Options{})
		b, errB := Read("recorded", recorded, Options{})
		if errA != nil || errB != nil || fmt.Sprint(a.Counts) != fmt.Sprint(b.Counts) {
			t.Errorf("the live answer imports differently from the recorded one: %v %v", errA, errB)
		}
	}
	data, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Read("query_range.json", data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The first step with a rate is t0 + 1 m: rate() needs two samples.
	if r.Step != time.Minute || !r.Start.Equal(t0.Add(time.Minute)) || len(r.Counts) != hours*60 || r.Series != 1 {
		t.Fatalf("step %v from %v, %d windows of %d series", r.Step, r.Start, len(r.Counts), r.Series)
	}
	// rate() over 1 m of a counter scraped every 15 s is the counter's
	// increase between the window's first and last samples (which sit on
	// its edges: no extrapolation): the true rate averaged over the last
	// minute (Prometheus's values match it to 2·10⁻⁷), and the counts
	// carry their rounding to the next window (at most 1 request).
	for i, c := range r.Counts {
		end := float64((i + 1) * 60)
		var avg float64
		for k := 0; k < 60; k++ {
			avg += trueRate(end-60+float64(k)+0.5) / 60
		}
		if got := float64(c) / 60; math.Abs(got-avg) > 1e-5*avg+1.0/60 {
			t.Errorf("window %d: %v/s, the true rate averaged %v/s", i, got, avg)
		}
	}
}

func hasPrometheus() bool {
	_, e1 := exec.LookPath("promtool")
	_, e2 := exec.LookPath("prometheus")
	return e1 == nil && e2 == nil
}

func TestBadAnswers(t *testing.T) {
	ok := `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"job":"api"},"values":[[1764234000,"10"],[1764234060,"12"],[1764234120,"11"]]}]}}`
	for _, c := range []struct {
		name, data string
		opts       Options
		want       string
	}{
		{"not json", "hello", Options{}, "not a Prometheus API answer"},
		{"error", `{"status":"error","errorType":"bad_data","error":"parse error at char 5"}`, Options{}, "bad_data): parse error at char 5"},
		{"vector", `{"status":"success","data":{"resultType":"vector","result":[]}}`, Options{}, "not an instant query"},
		{"empty", `{"status":"success","data":{"resultType":"matrix","result":[]}}`, Options{}, "holds no series"},
		{"NaN", strings.Replace(ok, `"12"`, `"NaN"`, 1), Options{}, `series {job="api"} at 2025-11-27T09:01:00Z: value NaN`},
		{"Inf", strings.Replace(ok, `"12"`, `"+Inf"`, 1), Options{}, "must be a finite number"},
		{"negative", strings.Replace(ok, `"12"`, `"-1"`, 1), Options{}, "is negative"},
		{"one point", `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1764234000,"10"]]}]}}`, Options{}, "a single point"},
		{"real gap", strings.Replace(ok, `[1764234120,"11"]`, `[1764234120,"11"],[1764234300,"9"]`, 1), Options{}, "no point from 2025-11-27T09:02:00Z to 2025-11-27T09:05:00Z (2 steps)"},
		{"no match", ok, Options{Match: []string{"job=web"}}, "no series has the labels job=web"},
		{"bad match", ok, Options{Match: []string{"job"}}, "want label=value"},
		{"unordered", strings.Replace(ok, `[1764234120,"11"]`, `[1764234000,"11"]`, 1), Options{}, "not in time order"},
		{"string time", strings.Replace(ok, `[1764234060,`, `["x",`, 1), Options{}, "want Unix seconds"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Read("q.json", []byte(c.data), c.opts)
			named := err != nil && (strings.HasPrefix(err.Error(), "q.json") || c.name == "bad match")
			if err == nil || !strings.Contains(err.Error(), c.want) || !named {
				t.Errorf("error %v: want one naming q.json and saying %q", err, c.want)
			}
		})
	}
	// A gap filled with zeros on request; several series summed.
	gappy := strings.Replace(ok, `[1764234120,"11"]`, `[1764234120,"11"],[1764234300,"9"]`, 1)
	r, err := Read("q.json", []byte(gappy), Options{ZeroGaps: true})
	if err != nil || fmt.Sprint(r.Counts) != "[600 720 660 0 0 540]" {
		t.Errorf("zero gaps: %v %v", r, err)
	}
	two := `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"i":"a"},"values":[[60,"1.5"],[120,"0.25"]]},{"metric":{"i":"b"},"values":[[60,"1"],[120,"1"]]}]}}`
	r, err = Read("q.json", []byte(two), Options{})
	if err != nil || fmt.Sprint(r.Counts) != "[150 75]" || r.Series != 2 {
		t.Errorf("two series: %+v %v", r, err)
	}
	r, err = Read("q.json", []byte(two), Options{Match: []string{"i=a"}, Counts: true})
	if err != nil || fmt.Sprint(r.Counts) != "[1 0]" {
		t.Errorf("counts, one series: %+v %v", r, err)
	}
}
