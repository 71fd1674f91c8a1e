package measure

import (
	"fmt"
	"time"
)

// Limits on what a measurement may hold, whatever its file's size.
const (
	// maxBuckets bounds the arrival counts: 8 Mi buckets (32 MB) are 2.3
	// hours at 1 ms; a longer test is bucketed more coarsely.
	maxBuckets = 8 << 20
	// maxWindows bounds the per-window series: 20,000 windows (26 MB) are
	// 5.5 hours of seconds; a longer test gets wider windows.
	maxWindows = 20_000
	// maxSpan is the longest test a measurement may cover: timestamps
	// further apart are not one load test.
	maxSpan = 31 * 24 * time.Hour
)

// grid holds cells of width ns from an origin (a multiple of the width)
// that moves back when an earlier time arrives, and widens its cells
// (merging neighbours) rather than hold more than max of them.
type grid[T any] struct {
	origin, width int64
	cells         []T
	max           int
	merge         func(dst, src *T)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// at returns the cell holding time t (ns).
func (g *grid[T]) at(t int64) *T {
	if len(g.cells) == 0 {
		g.origin = floorDiv(t, g.width) * g.width
	}
	for {
		if t < g.origin {
			k := int((g.origin - t + g.width - 1) / g.width)
			if len(g.cells)+k <= g.max {
				g.cells = append(make([]T, k, len(g.cells)+k), g.cells...)
				g.origin -= int64(k) * g.width
				continue
			}
		} else {
			i := (t - g.origin) / g.width
			if i < int64(len(g.cells)) {
				return &g.cells[i]
			}
			if i < int64(g.max) {
				var zero T
				for int64(len(g.cells)) <= i {
					g.cells = append(g.cells, zero)
				}
				return &g.cells[i]
			}
		}
		g.coarsen()
	}
}

// coarsen doubles the cells' width, merging each pair.
func (g *grid[T]) coarsen() {
	w := 2 * g.width
	origin := floorDiv(g.origin, w) * w
	n := int((g.origin + int64(len(g.cells))*g.width - origin + w - 1) / w)
	cells := make([]T, n)
	for i := range g.cells {
		j := (g.origin + int64(i)*g.width - origin) / w
		g.merge(&cells[j], &g.cells[i])
	}
	g.origin, g.width, g.cells = origin, w, cells
}

// window is one window of the series.
type window struct {
	sent, failed, ok uint32
	lat              windowHist
}

func mergeWindow(dst, src *window) {
	dst.sent += src.sent
	dst.failed += src.failed
	dst.ok += src.ok
	dst.lat.merge(&src.lat)
}

// timeline accumulates the requests of a test that timestamps them: the
// arrivals (sends) per bucket and the per-window series.
type timeline struct {
	arrivals    grid[uint32]
	windows     grid[window]
	first, last int64 // first and last send, ns since the epoch
	n           int64
}

func newTimeline() *timeline {
	return &timeline{
		arrivals: grid[uint32]{width: int64(time.Millisecond), max: maxBuckets, merge: func(d, s *uint32) { *d += *s }},
		windows:  grid[window]{width: int64(time.Second), max: maxWindows, merge: mergeWindow},
	}
}

// add records a request sent at sent (ns since the epoch) that answered
// after latency ms, ok or not.
func (tl *timeline) add(sent int64, latencyMS float64, ok bool) error {
	if tl.n == 0 {
		tl.first, tl.last = sent, sent
	}
	tl.first, tl.last = min(tl.first, sent), max(tl.last, sent)
	if time.Duration(tl.last-tl.first) > maxSpan {
		return fmt.Errorf("requests sent %v apart (%s and %s): not one load test (at most %v)",
			time.Duration(tl.last-tl.first).Round(time.Second), time.Unix(0, tl.first).UTC().Format(time.RFC3339),
			time.Unix(0, tl.last).UTC().Format(time.RFC3339), maxSpan)
	}
	tl.n++
	*tl.arrivals.at(sent)++
	w := tl.windows.at(sent)
	w.sent++
	if ok {
		w.ok++
		w.lat.add(latencyMS)
	} else {
		w.failed++
	}
	return nil
}

// spanS is the time the sends cover: first to last, plus one mean gap
// (n evenly spaced sends cover n gaps), in seconds.
func (tl *timeline) spanS() float64 {
	if tl.n < 2 {
		return 0
	}
	d := float64(tl.last-tl.first) / 1e9
	return d * float64(tl.n) / float64(tl.n-1)
}

// Arrivals are a test's sends, counted per bucket: Counts[i] requests were
// sent in [Origin + i·Resolution, Origin + (i+1)·Resolution).
type Arrivals struct {
	Origin     time.Time
	Resolution time.Duration
	Counts     []uint32
	// First is when the first request was sent (in the first bucket).
	First time.Time
}

// Total is the number of requests.
func (a *Arrivals) Total() int64 {
	var n int64
	for _, c := range a.Counts {
		n += int64(c)
	}
	return n
}

// Window is one row of a measured series, by the time requests were sent.
type Window struct {
	StartS  float64 `json:"start_s"` // since the first request
	LengthS float64 `json:"length_s"`
	Sent    int64   `json:"sent"`
	Failed  int64   `json:"failed"`
	// P50MS and P99MS are the window's successful latencies'
	// percentiles, within 9 % (NaN: none succeeded).
	P50MS float64 `json:"p50_ms"`
	P99MS float64 `json:"p99_ms"`
}

func (tl *timeline) finish() (*Arrivals, []Window) {
	if tl.n == 0 {
		return nil, nil
	}
	a := &Arrivals{Origin: time.Unix(0, tl.arrivals.origin).UTC(), Resolution: time.Duration(tl.arrivals.width),
		Counts: tl.arrivals.cells, First: time.Unix(0, tl.first).UTC()}
	ws := make([]Window, len(tl.windows.cells))
	for i := range tl.windows.cells {
		c := &tl.windows.cells[i]
		ws[i] = Window{
			StartS:  float64(tl.windows.origin+int64(i)*tl.windows.width-tl.first) / 1e9,
			LengthS: float64(tl.windows.width) / 1e9,
			Sent:    int64(c.sent), Failed: int64(c.failed),
			P50MS: c.lat.quantile(0.5, c.ok), P99MS: c.lat.quantile(0.99, c.ok),
		}
	}
	return a, ws
}

// LongestPause is the longest stretch without a send between the first
// and the last, and when it began (since the first send): a load
// generator that stalls (its machine paused, it ran out of VUs) sends
// nothing and then a burst, which a replay reproduces but a reader of
// its percentiles should know of.
func (a *Arrivals) LongestPause() (length, at time.Duration) {
	run, start, first := 0, 0, -1
	for i, c := range a.Counts {
		if c > 0 {
			if first >= 0 && run > 0 && time.Duration(run+1)*a.Resolution > length {
				length, at = time.Duration(run+1)*a.Resolution, time.Duration(start-1-first)*a.Resolution
			}
			if first < 0 {
				first = i
			}
			run = 0
			continue
		}
		if run == 0 {
			start = i
		}
		run++
	}
	return length, at
}
