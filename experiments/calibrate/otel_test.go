package calibrate

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// A real traced system on 127.0.0.1: five HTTP services instrumented with
// the OpenTelemetry Go SDK (otelhttp server and client spans, W3C trace
// context between them), exporting OTLP/HTTP protobuf to a receiver that
// writes each ExportTraceServiceRequest as one protojson line — the
// Collector file exporter's format. The shape is the generator's
// (gen_test.go):
//
//	gateway GET: A exp(2 ms), users, B exp(2 ms), parallel(recs list, ads show), audit log with p 0.3, users again, C exp(1 ms)
//	users GET /users/{id}: exp(1 ms)
//	recs list: erlang(k=4, mean=10 ms) holding one of 2 slots (a concurrency limit)
//	ads show: exp(2 ms);  audit log: 0.5 ms
//
// Every sleep is timed around itself: the sampled ground truth.

type otlpReceiver struct {
	mu    sync.Mutex
	lines bytes.Buffer
	// discard: count the spans, keep nothing (the runs whose measurement
	// is the load generator's, so that the receiver's growing buffer does
	// not tax the machine the system runs on).
	discard bool
	spans   int
}

func (rc *otlpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	data, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req := &coltracepb.ExportTraceServiceRequest{}
	if err := proto.Unmarshal(data, req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			rc.spans += len(ss.Spans)
		}
	}
	discard := rc.discard
	rc.mu.Unlock()
	if !discard {
		line, err := protojson.Marshal(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		rc.mu.Lock()
		rc.lines.Write(line)
		rc.lines.WriteByte('\n')
		rc.mu.Unlock()
	}
	resp, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(resp)
}

type tracedSystem struct {
	t        testing.TB
	recv     *otlpReceiver
	gateway  string
	mu       sync.Mutex
	drawn    map[string][]float64 // segment → measured sleeps, ns
	rng      *rand.Rand
	audits   int64
	requests int64
	stop     []func()
	slots    chan struct{}
}

func listen(t testing.TB, h http.Handler) (string, func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skipf("no loopback: %v", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}
}

// sleep sleeps for a draw and records how long it took.
func (s *tracedSystem) sleep(segment string, draw func(*rand.Rand) float64) {
	s.mu.Lock()
	d := time.Duration(draw(s.rng))
	s.mu.Unlock()
	start := time.Now()
	time.Sleep(d)
	took := float64(time.Since(start))
	s.mu.Lock()
	s.drawn[segment] = append(s.drawn[segment], took)
	s.mu.Unlock()
}

func expMS(ms float64) func(*rand.Rand) float64 {
	return func(r *rand.Rand) float64 { return r.ExpFloat64() * ms * 1e6 }
}

// erlangMS is the sum of k exponentials, mean ms in all (cv 1/√k).
func erlangMS(k int, ms float64) func(*rand.Rand) float64 {
	return func(r *rand.Rand) float64 {
		var x float64
		for range k {
			x += r.ExpFloat64()
		}
		return x * ms / float64(k) * 1e6
	}
}

func constMS(ms float64) func(*rand.Rand) float64 {
	return func(*rand.Rand) float64 { return ms * 1e6 }
}

func startTracedSystem(t testing.TB, seed uint64) *tracedSystem {
	s := &tracedSystem{t: t, recv: &otlpReceiver{}, drawn: map[string][]float64{}, rng: rand.New(rand.NewPCG(seed, 7)), slots: make(chan struct{}, 2)}
	recvURL, stopRecv := listen(t, s.recv)
	prop := propagation.TraceContext{}
	var providers []*sdktrace.TracerProvider
	provider := func(service string) *sdktrace.TracerProvider {
		exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(recvURL+"/v1/traces"))
		if err != nil {
			t.Fatal(err)
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(200*time.Millisecond), sdktrace.WithMaxQueueSize(1<<16)),
			sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", service))))
		providers = append(providers, tp)
		return tp
	}
	serve := func(service, operation string, h http.HandlerFunc) (string, *http.Client) {
		tp := provider(service)
		// The server span is named by its route, as otelhttp does when
		// given one (its default since semconv 1.26 is the method alone).
		name := otelhttp.WithSpanNameFormatter(func(op string, _ *http.Request) string { return op })
		url, stop := listen(t, otelhttp.NewHandler(h, operation, otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(prop), name))
		s.stop = append(s.stop, stop)
		client := &http.Client{Transport: otelhttp.NewTransport(&http.Transport{MaxIdleConnsPerHost: 256}, otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(prop))}
		return url, client
	}
	ok := func(w http.ResponseWriter) { w.WriteHeader(http.StatusOK) }
	users, _ := serve("users", "GET /users/{id}", func(w http.ResponseWriter, r *http.Request) { s.sleep("users.get", expMS(1)); ok(w) })
	recs, _ := serve("recs", "list", func(w http.ResponseWriter, r *http.Request) {
		s.slots <- struct{}{}
		s.sleep("recs.list", erlangMS(4, 10))
		<-s.slots
		ok(w)
	})
	ads, _ := serve("ads", "show", func(w http.ResponseWriter, r *http.Request) { s.sleep("ads.show", expMS(2)); ok(w) })
	audit, _ := serve("audit", "log", func(w http.ResponseWriter, r *http.Request) { s.sleep("audit.log", constMS(0.5)); ok(w) })
	var gwClient *http.Client
	call := func(r *http.Request, url string) {
		req, _ := http.NewRequestWithContext(r.Context(), "GET", url, nil)
		resp, err := gwClient.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	s.gateway, gwClient = serve("gateway", "GET", func(w http.ResponseWriter, r *http.Request) {
		s.sleep("gateway.A", expMS(2))
		call(r, users+"/users/1")
		s.sleep("gateway.B", expMS(2))
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); call(r, recs+"/list") }()
		go func() { defer wg.Done(); call(r, ads+"/show") }()
		wg.Wait()
		s.mu.Lock()
		audited := s.rng.Float64() < 0.3
		s.requests++
		if audited {
			s.audits++
		}
		s.mu.Unlock()
		if audited {
			call(r, audit+"/log")
		}
		call(r, users+"/users/2")
		s.sleep("gateway.C", expMS(1))
		ok(w)
	})
	s.stop = append(s.stop, func() {
		for _, tp := range providers {
			tp.ForceFlush(context.Background())
			tp.Shutdown(context.Background())
		}
		stopRecv()
	})
	return s
}

// close flushes every exporter and stops the services; the receiver then
// holds every span.
func (s *tracedSystem) close() {
	for i := len(s.stop) - 1; i >= 0; i-- {
		s.stop[i]()
	}
	s.stop = nil
}

// drive sends rate requests/s to the gateway for d with vegeta (evenly
// spaced), returning its results as vegeta encode --to json writes them.
func (s *tracedSystem) drive(rate int, d time.Duration) ([]byte, *vegeta.Metrics) {
	targeter := vegeta.NewStaticTargeter(vegeta.Target{Method: "GET", URL: s.gateway + "/"})
	a := vegeta.NewAttacker(vegeta.Timeout(30*time.Second), vegeta.Workers(64), vegeta.KeepAlive(true))
	var buf bytes.Buffer
	enc := vegeta.NewJSONEncoder(&buf)
	var m vegeta.Metrics
	for res := range a.Attack(targeter, vegeta.Rate{Freq: rate, Per: time.Second}, d, "capsim") {
		enc.Encode(res)
		m.Add(res)
	}
	m.Close()
	return buf.Bytes(), &m
}

func (s *tracedSystem) sortedDrawn(segment string) []float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	xs := append([]float64(nil), s.drawn[segment]...)
	sort.Float64s(xs)
	return xs
}

func gzipWriter(w io.Writer) (*gzip.Writer, error) {
	return gzip.NewWriterLevel(w, gzip.BestCompression)
}
