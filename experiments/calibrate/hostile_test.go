package calibrate

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/capsim/capsim/experiments/spans"
)

// learnSpans learns from spans handed over directly (the readers are
// tested on their own).
func learnSpans(ss []*spans.Span) *Model {
	l := NewLearner()
	a := NewAssembler(l.AddTrace)
	for _, s := range ss {
		a.Add(s)
	}
	a.Flush()
	return l.Model(true)
}

func sp(trace, id, parent, svc string, kind spans.Kind, start, end int64) *spans.Span {
	return &spans.Span{TraceID: trace, SpanID: id, ParentID: parent, Service: svc, Name: "op", Kind: kind, Start: start, End: end}
}

// Broken traces are counted, never learned from, and never a panic.
func TestBrokenTraces(t *testing.T) {
	good := func(tr string) []*spans.Span {
		return []*spans.Span{sp(tr, "r", "", "a", spans.Server, 0, 10e6), sp(tr, "c", "r", "a", spans.Client, 1e6, 5e6), sp(tr, "s", "c", "b", spans.Server, 2e6, 4e6)}
	}
	cases := []struct {
		name  string
		spans []*spans.Span
		check func(d Drops) bool
	}{
		{"cycle beside the root", append(good("t"), sp("t", "x", "y", "a", spans.Server, 0, 1), sp("t", "y", "x", "a", spans.Server, 0, 1)),
			func(d Drops) bool { return d.Orphans == 2 && d.Traces == 1 }},
		{"only a cycle", []*spans.Span{sp("t", "x", "y", "a", spans.Server, 0, 1), sp("t", "y", "x", "a", spans.Server, 0, 1)},
			func(d Drops) bool { return d.Incomplete == 1 && d.IncompleteSpans == 2 }},
		{"duplicate span ids", append(good("t"), sp("t", "s", "c", "b", spans.Server, 2e6, 4e6)),
			func(d Drops) bool { return d.Duplicates == 1 && d.Traces == 1 }},
		{"orphan", append(good("t"), sp("t", "o", "gone", "c", spans.Server, 0, 1)),
			func(d Drops) bool { return d.Orphans == 1 }},
		{"negative duration", append(good("t"), sp("t", "n", "r", "a", spans.Internal, 5, 1)),
			func(d Drops) bool { return d.Negative == 1 && d.NegativeTraces == 1 && d.Traces == 0 }},
		{"no service", append(good("t"), sp("t", "n", "r", "", spans.Internal, 1, 5)),
			func(d Drops) bool { return d.NoService == 1 && d.Traces == 0 }},
		{"skewed child", []*spans.Span{sp("t", "r", "", "a", spans.Server, 0, 10e6), sp("t", "c", "r", "a", spans.Client, -1e6, 12e6), sp("t", "s", "c", "b", spans.Server, 0, 1e6)},
			func(d Drops) bool { return d.Skewed >= 1 && d.Traces == 1 }},
		{"two roots", append(good("t"), sp("t", "r2", "", "a", spans.Server, 0, 1e6)),
			func(d Drops) bool { return d.SeveralRoots == 1 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := NewLearner()
			a := NewAssembler(l.AddTrace)
			for _, s := range c.spans {
				a.Add(s)
			}
			a.Flush()
			if !c.check(l.Drops) {
				t.Errorf("drops %+v", l.Drops)
			}
			l.Model(true) // and building the model does not panic
		})
	}
}

// One trace is no rate: the scenario says the rate is assumed, and loads.
func TestSingleTrace(t *testing.T) {
	m := learnSpans([]*spans.Span{sp("t", "r", "", "a", spans.Server, 0, 10e6)})
	src := string(m.Scenario(Options{Sources: []string{"one"}}))
	if !strings.Contains(src, "rate = 1   # ASSUMED") {
		t.Errorf("one root:\n%s", src)
	}
}

// A 100,000-span trace: a tree 2 deep is learned (200 calls of 500 calls
// each); a fan-out of 100,000 calls and a chain 100,000 deep are too large
// and dropped, at once.
func TestHugeTraces(t *testing.T) {
	var tree []*spans.Span
	tree = append(tree, sp("t", "r", "", "gw", spans.Server, 0, 1e15))
	for i := range 20 {
		a := fmt.Sprintf("a%d", i)
		at := int64(i) * 1e13
		tree = append(tree, sp("t", a, "r", "mid", spans.Server, at, at+9e12))
		for j := range 20 {
			b := fmt.Sprintf("b%d.%d", i, j)
			bt := at + int64(j)*4e11
			tree = append(tree, sp("t", b, a, "low", spans.Server, bt, bt+3e11))
			for k := range 250 {
				lt := bt + int64(k)*1e9
				tree = append(tree, sp("t", fmt.Sprintf("l%d.%d.%d", i, j, k), b, "leaf", spans.Server, lt, lt+1e8))
			}
		}
	}
	start := time.Now()
	m := learnSpans(tree)
	if len(tree) < 100000 || m.Drops.Spans != int64(len(tree)) || m.Drops.TooLarge != 0 {
		t.Errorf("tree of %d spans: %+v", len(tree), m.Drops)
	}
	if len(m.Services) != 4 || len(find(t, m, "low", "op").Steps) != 2*250 {
		t.Errorf("tree: %d services, low has %d steps", len(m.Services), len(find(t, m, "low", "op").Steps))
	}
	var fan, chain []*spans.Span
	fan = append(fan, sp("f", "r", "", "gw", spans.Server, 0, 1e12))
	chain = append(chain, sp("c", "0", "", "gw", spans.Server, 0, 1e12))
	for i := 1; i < 100000; i++ {
		fan = append(fan, sp("f", fmt.Sprint(i), "r", "leaf", spans.Server, int64(i), int64(i)+1))
		chain = append(chain, sp("c", fmt.Sprint(i), fmt.Sprint(i-1), "gw", spans.Server, int64(i), 1e12-int64(i)))
	}
	for name, tr := range map[string][]*spans.Span{"fan-out": fan, "chain": chain} {
		l := NewLearner()
		l.AddTrace(tr)
		if l.Drops.TooLarge != 1 || l.Drops.TooLargeSpans != 100000 {
			t.Errorf("%s: %+v", name, l.Drops)
		}
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("took %v", d)
	}
}

// Files cut short keep what was read; hostile gzip is an error at once.
func TestHostileFiles(t *testing.T) {
	g := newTruth(300, 20, 9)
	for name, data := range map[string][]byte{"otlp": g.otlp(64, false), "jaeger": g.jaeger(), "zipkin": g.zipkin()} {
		cut := data[:len(data)*6/10]
		m, err := Learn([]File{{Name: name, R: bytes.NewReader(cut)}}, true)
		switch {
		case name == "jaeger" && err != nil:
			// One object: cut, its last trace is lost; the others stay.
			t.Errorf("%s cut: %v", name, err)
		case err != nil:
			t.Errorf("%s cut: %v", name, err)
		case m.Truncated != 1 || m.Drops.Traces == 0 || m.Drops.Traces >= 300:
			t.Errorf("%s cut: truncated %d, %d traces", name, m.Truncated, m.Drops.Traces)
		}
	}
	bomb := func(unit string, n int) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		chunk := []byte(strings.Repeat(unit, 1<<16/len(unit)))
		for range n {
			zw.Write(chunk)
		}
		zw.Close()
		return b.Bytes()
	}
	for name, data := range map[string][]byte{
		"256 MB of spaces":       bomb(" ", 1<<12),
		"256 MB of zeros":        bomb("\x00", 1<<12),
		"a 256 MB string":        bomb2(`{"resourceSpans":[{"resource":{},"scopeSpans":[{"spans":[{"name":"`, "a", 1<<12),
		"nested arrays":          bomb("[", 1<<12),
		"not json":               []byte("hello"),
		"an empty file":          nil,
		"an otlp line that lies": []byte(`{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"a"}}]},"scopeSpans":[{"spans":[{"traceId":"not-an-id!","spanId":"01"}]}]}]}`),
	} {
		start := time.Now()
		_, err := Learn([]File{{Name: "bomb.gz", R: bytes.NewReader(data)}}, true)
		if err == nil || !strings.Contains(err.Error(), "bomb.gz") {
			t.Errorf("%s: %v, want an error naming the file", name, err)
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("%s: %v", name, d)
		}
	}
}

func bomb2(head, unit string, n int) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(head))
	chunk := []byte(strings.Repeat(unit, 1<<16))
	for range n {
		zw.Write(chunk)
	}
	zw.Close()
	return b.Bytes()
}

// spanStream writes OTLP lines of synthetic traces on the fly, until n bytes.
type spanStream struct {
	n, sent int64
	buf     bytes.Buffer
	g       *truth
}

func (s *spanStream) Read(p []byte) (int, error) {
	for s.buf.Len() < len(p) && s.sent < s.n {
		s.g.spans = s.g.spans[:0]
		for range 50 {
			s.g.trace(s.g.rng.Int64N(1e15))
		}
		line := s.g.otlp(1<<30, false)
		s.sent += int64(len(line))
		s.buf.Write(line)
	}
	if s.buf.Len() == 0 {
		return 0, io.EOF
	}
	return s.buf.Read(p)
}

// Memory is bounded by the traces open at once, not by the file: a stream
// of 300 MB (1 GB with CAPSIM_LONG=1) is learned with the heap in use under
// 300 MB, under the soft memory limit capsim import traces sets
// (MemoryLimit; what is live stays near 70 MB, the rest is garbage the
// collector has not yet taken, of the readers and of this generator).
func TestBoundedMemory(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("long, and the race detector multiplies memory")
	}
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(MemoryLimit))
	size := int64(300 << 20)
	if longTests {
		size = 1 << 30
	}
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
		}
	}()
	src := &spanStream{n: size, g: &truth{rng: newTruth(0, 1, 11).rng, drawn: map[string][]float64{}}}
	m, err := Learn([]File{{Name: "stream", R: src}}, true)
	close(done)
	if err != nil {
		t.Fatal(err)
	}
	if m.Drops.Traces < int64(size/4000) {
		t.Errorf("only %d traces learned from %d MB", m.Drops.Traces, size>>20)
	}
	t.Logf("%d MB, %d traces, %d spans: peak heap %d MB", src.sent>>20, m.Drops.Traces, m.Drops.Spans, peak.Load()>>20)
	if p := peak.Load(); p > 300<<20 {
		t.Errorf("peak heap %d MB for a %d MB stream, want < 300 MB", p>>20, src.sent>>20)
	}
}
