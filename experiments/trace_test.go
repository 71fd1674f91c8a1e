package experiments_test

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/capsim/capsim/examples"
	"github.com/capsim/capsim/experiments"
	"github.com/capsim/capsim/experiments/scenario"
)

// runFiles runs a scenario that names files in dir.
func runFiles(t *testing.T, dir, src string, sets ...string) *experiments.Outcome {
	t.Helper()
	p := filepath.Join(dir, "s.toml")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := scenario.Load(p, sets)
	return runChecked(t, sc, err)
}

const nasaRows, nasaURLs = 30_969, 2_088 // shared/traces/README.md

// Replaying the NASA-HTTP trace yields exactly its 30,969 requests, and
// its URLs are the keys: a cache big enough never to evict misses exactly
// once per distinct URL (2,088).
func TestNASAReplay(t *testing.T) {
	src := `
[run]
duration = "13h"
window = "10m"
[traffic.nasa]
to = "web"
trace = "traces/nasa_http_1995-08-01_requests.csv.gz"
key_column = "url"
spread = "even"
[service.web]
steps = [ { call = "pages" } ]
[cache.pages]
capacity = 10000
lookup = "0s"
`
	sc, err := scenario.Parse("nasa.toml", []byte(src), nil, examples.Files())
	if err != nil {
		t.Fatal(err)
	}
	o, err := experiments.Run(sc, experiments.Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, o)
	if a := o.Summary.Requests.Arrived; a != nasaRows {
		t.Errorf("%d requests, the trace has %d", a, nasaRows)
	}
	c := o.Summary.Components["pages"]
	misses := int64(math.Round(float64(c.Requests) * (1 - *c.HitRatio)))
	if misses != nasaURLs {
		t.Errorf("%d misses, the trace has %d distinct URLs", misses, nasaURLs)
	}
	// Time is kept: the trace spans 46,321 s, so arrivals end in the
	// window holding that second.
	last := 0
	for i, w := range o.Result.Windows {
		if w.Arrivals > 0 {
			last = i
		}
	}
	if got := o.Result.Windows[last].Start.Seconds(); got != 46_200 {
		t.Errorf("last arrivals in the window starting at %vs, want 46200s", got)
	}
}

// The embedded nasa-replay example replays every request of the trace.
func TestNASAExample(t *testing.T) {
	data, _ := examples.Get("nasa-replay")
	sc, err := scenario.Parse("nasa-replay.toml", data, nil, examples.Files())
	if err != nil {
		t.Fatal(err)
	}
	o, err := experiments.Run(sc, experiments.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a := o.Summary.Requests.Arrived; a != nasaRows {
		t.Errorf("%d requests, want %d", a, nasaRows)
	}
}

// writeLines writes a (gzip-compressed, if name ends in .gz) file.
func writeLines(t testing.TB, name string, n int, line func(i int) string) {
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var w *bufio.Writer
	if filepath.Ext(name) == ".gz" {
		gz := gzip.NewWriter(f)
		defer gz.Close()
		w = bufio.NewWriter(gz)
	} else {
		w = bufio.NewWriter(f)
	}
	defer w.Flush()
	for i := 0; i < n; i++ {
		w.WriteString(line(i))
		w.WriteByte('\n')
	}
}

// rate_scale thins (keeping each row with the fraction's probability) or
// clones (an exact number of copies for whole factors); speedup divides
// time.
func TestTraceScaling(t *testing.T) {
	dir := t.TempDir()
	writeLines(t, filepath.Join(dir, "t.csv"), 10_001, func(i int) string {
		if i == 0 {
			return "timestamp_s,user"
		}
		return fmt.Sprintf("%d,%d", i/10, i%100)
	})
	src := "[run]\nduration = \"2000s\"\n[traffic.tr]\nto = \"s\"\ntrace = \"t.csv\"\nkey_column = \"user\"\n[service.s]\ncores = 8\nsteps = [ { cpu = \"exp(1ms)\" } ]\n"
	if a := runFiles(t, dir, src).Summary.Requests.Arrived; a != 10_000 {
		t.Errorf("plain replay: %d", a)
	}
	if a := runFiles(t, dir, src, "traffic.tr.rate_scale=3").Summary.Requests.Arrived; a != 30_000 {
		t.Errorf("rate_scale 3: %d, want exactly 30000", a)
	}
	if a := runFiles(t, dir, src, "traffic.tr.rate_scale=0.25").Summary.Requests.Arrived; math.Abs(float64(a)-2500) > 4*math.Sqrt(10_000*0.25*0.75) {
		t.Errorf("rate_scale 0.25: %d, want 2500 ± binomial noise", a)
	}
	o := runFiles(t, dir, src, "traffic.tr.speedup=10", "run.duration=101s", "run.window=10s")
	if a := o.Summary.Requests.Arrived; a != 10_000 {
		t.Errorf("speedup 10: %d arrivals in 101 s, want all 10000", a)
	}
	// Rows 1..999 carry times 0..99 s: the first 10 s after speedup.
	if got := o.Result.Windows[0].Arrivals; got != 999 {
		t.Errorf("speedup 10: %d arrivals in the first 10 s, want 999", got)
	}
	// Looping replays the trace again after its end.
	// The second pass starts one resolution (1 s) after the last row (1000 s),
	// so its last row is at 2001 s.
	if a := runFiles(t, dir, src, "traffic.tr.loop=true", "run.duration=2002s").Summary.Requests.Arrived; a != 20_000 {
		t.Errorf("loop: %d arrivals in 2000 s of a 1000 s trace", a)
	}
}

// A per-interval count file replays as a piecewise-constant Poisson
// process: each interval's arrivals are Poisson with mean its count.
func TestCountTrace(t *testing.T) {
	dir := t.TempDir()
	counts := make([]int, 300)
	writeLines(t, filepath.Join(dir, "c.csv.gz"), 301, func(i int) string {
		if i == 0 {
			return "minute,hits"
		}
		counts[i-1] = 600 + int(500*math.Sin(float64(i)/20)) // per 10 s
		if i%7 == 0 {
			return fmt.Sprintf("%d,%d", (i-1)*10, 0)
		}
		return fmt.Sprintf("%d,%d", (i-1)*10, counts[i-1])
	})
	for i := range counts {
		if (i+1)%7 == 0 {
			counts[i] = 0
		}
	}
	o := runFiles(t, dir, `
[run]
duration = "3000s"
window = "10s"
[traffic.tr]
to = "s"
trace = "c.csv.gz"
format = "counts"
time_column = "minute"
count_column = "hits"
interval = "10s"
[service.s]
cores = 64
steps = [ { cpu = "exp(1ms)" } ]
`)
	var chi2 float64
	dof := 0
	for i, w := range o.Result.Windows {
		e := float64(counts[i])
		if e == 0 {
			if w.Arrivals != 0 {
				t.Errorf("window %d: %d arrivals in an empty interval", i, w.Arrivals)
			}
			continue
		}
		chi2 += (float64(w.Arrivals) - e) * (float64(w.Arrivals) - e) / e
		dof++
	}
	// Within Poisson noise: the chi-square statistic of dof Poisson counts
	// stays below dof + 4·sqrt(2·dof) with overwhelming probability.
	if chi2 > float64(dof)+4*math.Sqrt(2*float64(dof)) {
		t.Errorf("per-interval counts: chi-square %.1f over %d intervals", chi2, dof)
	} else {
		t.Logf("per-interval counts: chi-square %.1f over %d intervals", chi2, dof)
	}
}

// NCSA Common Log Format: one request per line, the path as key, the
// method as endpoint.
func TestCLFTrace(t *testing.T) {
	dir := t.TempDir()
	lines := []string{
		`199.72.81.55 - - [01/Jul/1995:00:00:01 -0400] "GET /history/apollo/ HTTP/1.0" 200 6245`,
		`unicomp6.unicomp.net - - [01/Jul/1995:00:00:06 -0400] "GET /shuttle/countdown/ HTTP/1.0" 200 3985`,
		`199.120.110.21 - - [01/Jul/1995:00:00:09 -0400] "POST /login HTTP/1.0" 200 4085`,
		`burger.letters.com - - [01/Jul/1995:00:00:11 -0400] "GET /shuttle/countdown/ HTTP/1.0" 304 0`,
	}
	writeLines(t, filepath.Join(dir, "access.log"), len(lines), func(i int) string { return lines[i] })
	o := runFiles(t, dir, `
[run]
duration = "1m"
[traffic.log]
to = "web"
trace = "access.log"
format = "clf"
endpoint = "GET"
[service.web.endpoint.GET]
steps = [ { call = "c" } ]
[service.web.endpoint.POST]
steps = [ { call = "c" }, { call = "auth" } ]
[service.auth]
steps = [ { cpu = "exp(1ms)" } ]
[cache.c]
capacity = 10
`)
	if a := o.Summary.Requests.Arrived; a != 4 {
		t.Errorf("%d requests, want 4", a)
	}
	if n := o.Summary.Components["auth"].Requests; n != 1 {
		t.Errorf("%d POSTs reached auth, want 1", n)
	}
	if h := *o.Summary.Components["c"].HitRatio; h != 0.25 { // the second /shuttle/countdown/ hits
		t.Errorf("hit ratio %v, want 0.25", h)
	}
}

// A trace replays in constant memory: a million rows hold no more heap
// than a hundred thousand.
func TestTraceStreamsInConstantMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 1M-row trace")
	}
	dir := t.TempDir()
	heap := func(rows int) uint64 {
		name := fmt.Sprintf("t%d.csv.gz", rows)
		writeLines(t, filepath.Join(dir, name), rows+1, func(i int) string {
			if i == 0 {
				return "t,key"
			}
			return fmt.Sprintf("%d,%d", i/1000, i%50_000)
		})
		o := runFiles(t, dir, fmt.Sprintf(`
[run]
duration = "%ds"
window = "%ds"
[traffic.tr]
to = "s"
trace = %q
key_column = "key"
[service.s]
cores = 16
steps = [ { cpu = "exp(1ms)" } ]
`, rows/1000+1, rows/1000/50+1, name))
		if a := o.Summary.Requests.Arrived; a != int64(rows) {
			t.Fatalf("%d of %d rows replayed", a, rows)
		}
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		runtime.KeepAlive(o)
		return m.HeapInuse
	}
	small, large := heap(100_000), heap(1_000_000)
	t.Logf("heap in use after replay: %d KiB for 100k rows, %d KiB for 1M", small/1024, large/1024)
	if large > small+1024*1024 {
		t.Errorf("heap grew from %d KiB to %d KiB", small/1024, large/1024)
	}
}

// A bad row is an error naming the file and line: validation finds it when
// it is among the rows it reads to infer the resolution, the run otherwise.
func TestTraceBadRow(t *testing.T) {
	dir := t.TempDir()
	writeLines(t, filepath.Join(dir, "t.csv"), 5, func(i int) string {
		return []string{"timestamp_s", "1", "2", "x", "4"}[i]
	})
	if err := os.WriteFile(filepath.Join(dir, "s.toml"), []byte("[traffic.tr]\nto = \"s\"\ntrace = \"t.csv\"\n[service.s]\nsteps = [ { cpu = \"1ms\" } ]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := scenario.Load(filepath.Join(dir, "s.toml"), nil)
	if err == nil {
		_, err = experiments.Run(sc, experiments.Options{})
	}
	if err == nil || !strings.Contains(err.Error(), `t.csv:4: time "x" is not a number`) {
		t.Errorf("error %v", err)
	}
	// With the resolution given, validation reads only the header, and the
	// run meets the bad row.
	sc, err = scenario.Load(filepath.Join(dir, "s.toml"), []string{"traffic.tr.resolution=1s"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = experiments.Run(sc, experiments.Options{}); err == nil || !strings.Contains(err.Error(), `t.csv:4: time "x" is not a number`) {
		t.Errorf("run error %v", err)
	}
}

// A daily cycle: over a whole period the arrivals average the midpoint,
// and each part of the day gets the cosine's rate.
func TestDiurnalAndFlash(t *testing.T) {
	o := runTOML(t, `
[run]
duration = "24h"
window = "1h"
[traffic.day]
to = "s"
diurnal = { peak = 100, trough = 20, period = "24h", peak_at = "14h" }
[service.s]
cores = 8
steps = [ { cpu = "exp(1ms)" } ]
`)
	if a := float64(o.Summary.Requests.Arrived); math.Abs(a-60*86400) > 4*math.Sqrt(60*86400) {
		t.Errorf("%v arrivals in a day, want 60/s × 86400 s", a)
	}
	for _, h := range []int{2, 14, 20} {
		w := o.Result.Windows[h]
		// Mean of 60 + 40 cos over the hour [h, h+1).
		a0, a1 := 2*math.Pi*float64(h-14)/24, 2*math.Pi*float64(h+1-14)/24
		want := 60 + 40*(math.Sin(a1)-math.Sin(a0))/(a1-a0)
		got := float64(w.Arrivals) / 3600
		if math.Abs(got-want) > 4*math.Sqrt(want/3600) {
			t.Errorf("hour %d: %.2f requests/s, want %.2f", h, got, want)
		}
	}
	o = runTOML(t, `
[run]
duration = "10m"
window = "30s"
[traffic.news]
to = "s"
rate = 50
flash = { at = "2m", peak = 950, rise = "30s", hold = "2m", decay = "1m" }
[service.s]
cores = 64
steps = [ { cpu = "exp(1ms)" } ]
`)
	for _, c := range []struct {
		window int
		rate   float64
	}{{1, 50}, {4, 50 + 950.0/2}, {6, 1000}, {8, 1000}, {10, 50 + 950.0/4}, {15, 50}} {
		w := o.Result.Windows[c.window]
		got := float64(w.Arrivals) / 30
		if math.Abs(got-c.rate) > 4*math.Sqrt(c.rate/30)+0.5 {
			t.Errorf("flash crowd window %d: %.1f requests/s, want %.1f", c.window, got, c.rate)
		}
	}
}

// The same end to end: 301 rows at 100/s with 10 ms timestamps and one
// duplicate, into a 1 ms service. With the file's own times nothing queues
// (every request takes 1 ms); regrouped per second, 51 would arrive at once.
func TestTraceTenMillisecondTimestamps(t *testing.T) {
	dir := t.TempDir()
	writeLines(t, filepath.Join(dir, "t.csv"), 303, func(i int) string {
		switch {
		case i == 0:
			return "t"
		case i <= 151:
			return strconv.FormatFloat(float64(i-1)/100, 'f', 2, 64)
		default:
			return strconv.FormatFloat(float64(i-2)/100, 'f', 2, 64) // row 152 repeats 1.50
		}
	})
	os.WriteFile(filepath.Join(dir, "s.toml"), []byte("[run]\nduration = \"5s\"\n[traffic.tr]\nto = \"s\"\ntrace = \"t.csv\"\n[service.s]\nsteps = [ { cpu = \"const(1ms)\" } ]\n"), 0o644)
	sc, err := scenario.Load(filepath.Join(dir, "s.toml"), nil)
	o := runChecked(t, sc, err)
	if s := o.Summary; s.Requests.Arrived != 302 || s.Latency.Max != 1 {
		t.Errorf("%d arrived, latency max %v ms; want 302 and 1 ms", s.Requests.Arrived, s.Latency.Max)
	}
}
