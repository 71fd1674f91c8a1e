package calibrate

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"

	"github.com/capsim/capsim/experiments/spans"
	"gonum.org/v1/gonum/stat/distuv"
)

// truth is a traced system whose every time is known: the generator draws
// each span's self time and network hop and writes the spans a traced run
// of it would export, so the learner's answers can be held to what was
// drawn.
type truth struct {
	rng   *rand.Rand
	next  uint64
	spans []*spans.Span
	// drawn self-time samples by segment name, ns
	drawn map[string][]float64
	audit int // gateway spans that called audit
	n     int
}

func (g *truth) id() string {
	g.next++
	return fmt.Sprintf("%016x", g.next*0x9e3779b97f4a7c15)
}

func (g *truth) draw(name string, d interface{ Rand() float64 }) int64 {
	v := float64(int64(d.Rand()/1000) * 1000) // µs, as Jaeger and Zipkin write them
	g.drawn[name] = append(g.drawn[name], float64(int64(v)))
	return int64(v)
}

// call makes a client span in from's service at t, with a server span of
// svc/name inside it after a hop each way; work runs the server's own work
// from its start and returns its end.
func (g *truth) call(tid, parent, from, svc, name string, t int64, work func(sid string, t int64) int64) int64 {
	src := rand.NewPCG(g.rng.Uint64(), 1)
	hop := distuv.Exponential{Rate: 1 / 100e3, Src: src} // mean 0.1 ms one way
	cid := g.id()
	out := int64(hop.Rand()/1000) * 1000
	sid := g.id()
	end := work(sid, t+out)
	back := int64(hop.Rand()/1000) * 1000
	g.spans = append(g.spans,
		&spans.Span{TraceID: tid, SpanID: cid, ParentID: parent, Service: from, Name: name, Kind: spans.Client, Start: t, End: end + back},
		&spans.Span{TraceID: tid, SpanID: sid, ParentID: cid, Service: svc, Name: name, Kind: spans.Server, Start: t + out, End: end})
	return end + back
}

// gateway: cpu A, users.get, cpu B, parallel (recs.list, ads.show), audit.log
// with p = 0.3, users.get again, cpu C.
func (g *truth) trace(start int64) {
	g.n++
	src := rand.NewPCG(g.rng.Uint64(), 2)
	tid := fmt.Sprintf("%032x", g.rng.Uint64())
	root := g.id()
	leaf := func(seg string, d interface{ Rand() float64 }) func(string, int64) int64 {
		return func(_ string, t int64) int64 { return t + g.draw(seg, d) }
	}
	t := start + g.draw("gateway.A", distuv.Exponential{Rate: 1 / 2e6, Src: src})
	users := leaf("users.get", distuv.Exponential{Rate: 1 / 1e6, Src: src})
	t = g.call(tid, root, "gateway", "users", "GET /users/{id}", t, users)
	t += g.draw("gateway.B", distuv.LogNormal{Mu: 14.0, Sigma: 0.5, Src: src})
	e1 := g.call(tid, root, "gateway", "recs", "list", t, leaf("recs.list", distuv.Gamma{Alpha: 4, Beta: 4 / 3e6, Src: src}))
	e2 := g.call(tid, root, "gateway", "ads", "show", t, leaf("ads.show", distuv.LogNormal{Mu: 14.5, Sigma: 0.3, Src: src}))
	t = max(e1, e2)
	if g.rng.Float64() < 0.3 {
		g.audit++
		t = g.call(tid, root, "gateway", "audit", "log", t, leaf("audit.log", constDist(500e3)))
	}
	t = g.call(tid, root, "gateway", "users", "GET /users/{id}", t, users)
	t += g.draw("gateway.C", distuv.Gamma{Alpha: 2, Beta: 2 / 1.5e6, Src: src})
	g.spans = append(g.spans, &spans.Span{TraceID: tid, SpanID: root, Service: "gateway", Name: "GET /", Kind: spans.Server, Start: start, End: t})
}

type constDist float64

func (c constDist) Rand() float64 { return float64(c) }

// newTruth traces n requests arriving as a Poisson stream at rate per
// second.
func newTruth(n int, rate float64, seed uint64) *truth {
	g := &truth{rng: rand.New(rand.NewPCG(seed, 7)), drawn: map[string][]float64{}}
	at := int64(1_700_000_000e9)
	for range n {
		at += int64(g.rng.ExpFloat64()/rate*1e6) * 1000
		g.trace(at)
	}
	return g
}

// otlp writes the spans as the Collector's file exporter does: one
// ExportTraceServiceRequest a line, a resource per service, every
// batchSize spans; base64 ids and string enums when legacy (protojson's
// defaults), Tempo's "batches" and "instrumentationLibrarySpans" too.
func (g *truth) otlp(batchSize int, legacy bool) []byte {
	var b bytes.Buffer
	for i := 0; i < len(g.spans); i += batchSize {
		batch := g.spans[i:min(i+batchSize, len(g.spans))]
		by := map[string][]map[string]any{}
		var services []string
		for _, s := range batch {
			if by[s.Service] == nil {
				services = append(services, s.Service)
			}
			o := map[string]any{"traceId": s.TraceID, "spanId": s.SpanID, "name": s.Name, "kind": int(s.Kind),
				"startTimeUnixNano": strconv.FormatInt(s.Start, 10), "endTimeUnixNano": s.End, "status": map[string]any{}}
			if s.ParentID != "" {
				o["parentSpanId"] = s.ParentID
			}
			if legacy {
				o["traceId"], o["spanId"] = b64(s.TraceID), b64(s.SpanID)
				if s.ParentID != "" {
					o["parentSpanId"] = b64(s.ParentID)
				}
				o["kind"] = "SPAN_KIND_" + map[spans.Kind]string{spans.Server: "SERVER", spans.Client: "CLIENT"}[s.Kind]
			}
			by[s.Service] = append(by[s.Service], o)
		}
		var rs []any
		for _, svc := range services {
			scope := map[string]any{"scope": map[string]any{"name": "capsim-test"}, "spans": by[svc]}
			key := "scopeSpans"
			if legacy {
				key = "instrumentationLibrarySpans"
			}
			rs = append(rs, map[string]any{
				"resource": map[string]any{"attributes": []any{map[string]any{"key": "service.name", "value": map[string]any{"stringValue": svc}}}},
				key:        []any{scope}})
		}
		top := "resourceSpans"
		if legacy {
			top = "batches"
		}
		line, _ := json.Marshal(map[string]any{top: rs})
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func b64(h string) string {
	raw, _ := hex.DecodeString(h)
	return base64.StdEncoding.EncodeToString(raw)
}

// jaeger writes the spans as the Jaeger query service answers: a trace per
// element of "data", µs.
func (g *truth) jaeger() []byte {
	byTrace := map[string][]*spans.Span{}
	var ids []string
	for _, s := range g.spans {
		if byTrace[s.TraceID] == nil {
			ids = append(ids, s.TraceID)
		}
		byTrace[s.TraceID] = append(byTrace[s.TraceID], s)
	}
	var data []any
	for _, id := range ids {
		procs := map[string]any{}
		var js []any
		for _, s := range byTrace[id] {
			pid := "p-" + s.Service
			procs[pid] = map[string]any{"serviceName": s.Service, "tags": []any{}}
			o := map[string]any{"traceID": id[16:], "spanID": s.SpanID, "operationName": s.Name, "startTime": s.Start / 1000,
				"duration": s.End/1000 - s.Start/1000, "processID": pid, "flags": 1,
				"tags": []any{map[string]any{"key": "span.kind", "type": "string", "value": s.Kind.String()}}}
			if s.ParentID != "" {
				o["references"] = []any{map[string]any{"refType": "CHILD_OF", "traceID": id[16:], "spanID": s.ParentID}}
			}
			js = append(js, o)
		}
		data = append(data, map[string]any{"traceID": id[16:], "spans": js, "processes": procs})
	}
	out, _ := json.Marshal(map[string]any{"data": data, "total": 0, "limit": 0})
	return out
}

// zipkin writes the spans as Zipkin v2 (µs), the server span of each call
// sharing its client's id (B3).
func (g *truth) zipkin() []byte {
	clientOf := map[string]string{} // server span id → client span id
	parentOf := map[string]string{}
	for _, s := range g.spans {
		if s.Kind == spans.Server && s.ParentID != "" {
			clientOf[s.SpanID] = s.ParentID
		}
		parentOf[s.SpanID] = s.ParentID
	}
	var out []any
	for _, s := range g.spans {
		o := map[string]any{"traceId": s.TraceID, "id": s.SpanID, "name": s.Name, "kind": map[spans.Kind]string{spans.Server: "SERVER", spans.Client: "CLIENT"}[s.Kind],
			"timestamp": s.Start / 1000, "duration": s.End/1000 - s.Start/1000, "localEndpoint": map[string]any{"serviceName": s.Service}}
		if s.ParentID != "" {
			o["parentId"] = s.ParentID
		}
		if c, ok := clientOf[s.SpanID]; ok { // shared: the client's id
			o["id"], o["shared"] = c, true
			o["parentId"] = parentOf[c]
		}
		out = append(out, o)
	}
	b, _ := json.Marshal(out)
	return b
}

func sortedCopy(xs []float64) []float64 {
	c := append([]float64(nil), xs...)
	sort.Float64s(c)
	return c
}
