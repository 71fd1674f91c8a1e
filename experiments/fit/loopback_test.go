package fit_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// server is a real system with a known model, on 127.0.0.1: an HTTP
// service whose handler holds one of `slots` slots (a FIFO wait for a free
// one, as a thread pool) for an exponentially distributed time of mean
// `mean` (a sleep: I/O, not cpu), then answers 200 with no body. It
// records every hold it made, the sampled ground truth.
type server struct {
	slots chan struct{}
	mean  time.Duration
	mu    sync.Mutex
	rng   *rand.Rand
	holds []time.Duration // slot held: the service time
	draws []time.Duration // the sleep asked for
	inner []time.Duration // handler entry to slot release: wait + hold
	srv   *http.Server
	url   string
	busy  atomic.Int64
}

func startServer(t testing.TB, slots int, mean time.Duration, seed uint64) *server {
	t.Helper()
	s := &server{slots: make(chan struct{}, slots), mean: mean, rng: rand.New(rand.NewPCG(seed, 1))}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skipf("no loopback listener: %v", err)
	}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	s.url = "http://" + ln.Addr().String() + "/"
	go s.srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.srv.Shutdown(ctx)
	})
	return s
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	entry := time.Now()
	s.slots <- struct{}{} // wait for a slot (blocked senders are served in order)
	s.mu.Lock()
	d := time.Duration(s.rng.ExpFloat64() * float64(s.mean))
	s.mu.Unlock()
	start := time.Now()
	time.Sleep(d)
	held := time.Since(start)
	<-s.slots
	in := time.Since(entry)
	s.mu.Lock()
	s.holds, s.draws, s.inner = append(s.holds, held), append(s.draws, d), append(s.inner, in)
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// meanMS is the mean of durations, in ms.
func meanMS(ds []time.Duration) float64 {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return float64(sum) / float64(max(1, len(ds))) / 1e6
}

// attack drives the server with vegeta at a constant rate for d (vegeta's
// default pacer spaces requests evenly), returning its results encoded as
// `vegeta encode --to json` writes them, and vegeta's own metrics.
func attack(t testing.TB, url string, rate int, d time.Duration) ([]byte, *vegeta.Metrics) {
	t.Helper()
	targeter := vegeta.NewStaticTargeter(vegeta.Target{Method: "GET", URL: url})
	a := vegeta.NewAttacker(vegeta.Timeout(30*time.Second), vegeta.Workers(64), vegeta.KeepAlive(true))
	var buf bytes.Buffer
	enc := vegeta.NewJSONEncoder(&buf)
	var m vegeta.Metrics
	for res := range a.Attack(targeter, vegeta.Rate{Freq: rate, Per: time.Second}, d, "capsim") {
		if err := enc.Encode(res); err != nil {
			t.Fatal(err)
		}
		m.Add(res)
	}
	m.Close()
	return buf.Bytes(), &m
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

// within reports whether got is within rel of want.
func within(got, want, rel float64) bool { return math.Abs(got-want) <= rel*math.Abs(want) }

var _ = fmt.Sprint
