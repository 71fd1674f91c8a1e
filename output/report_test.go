package output

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/capsim/capsim/experiments"
	"github.com/capsim/capsim/experiments/scenario"
)

// The data behind every plot is golden (not the pixels).
func TestGoldenChartData(t *testing.T) {
	charts := Charts(shop(t))
	round := func(x float64) float64 { return math.Round(x*1000) / 1000 }
	for ci := range charts {
		for si := range charts[ci].Series {
			s := &charts[ci].Series[si]
			for i := range s.X {
				s.X[i], s.Y[i] = round(s.X[i]), round(s.Y[i])
			}
		}
	}
	js, err := json.MarshalIndent(charts, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "shop.charts.json", append(js, '\n'))
	names := map[string]bool{}
	for _, c := range charts {
		names[c.Name] = true
	}
	for _, want := range []string{"load", "instances", "latency", "utilization", "queue", "errors", "cost", "latency_spectrum"} {
		if !names[want] {
			t.Errorf("no %s chart", want)
		}
	}
}

// Every chart renders as a PNG that decodes and an SVG that parses.
func TestRenderFormats(t *testing.T) {
	for _, c := range Charts(shop(t)) {
		p, err := Render(c, "png")
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		img, err := png.Decode(bytes.NewReader(p))
		if err != nil || img.Bounds().Dx() < 900 {
			t.Errorf("%s.png: %v (%v)", c.Name, err, img.Bounds())
		}
		s, err := Render(c, "svg")
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		d := xml.NewDecoder(bytes.NewReader(s))
		for {
			if _, err := d.Token(); err != nil {
				if err.Error() != "EOF" {
					t.Errorf("%s.svg: %v", c.Name, err)
				}
				break
			}
		}
	}
}

// An empty chart (no data at all) still renders.
func TestRenderEmpty(t *testing.T) {
	for _, c := range []Chart{{Name: "e", Title: "empty"}, {Name: "l", Title: "log", LogY: true, Series: []Series{{Name: "none"}}},
		// A spectrum of latencies that are all 0 (a producer that waits
		// for nothing): log axes both ways, nothing left to draw.
		{Name: "s", Title: "spectrum", LogY: true, Nines: true, Series: []Series{{Name: "zeros", X: []float64{0.5, 0.99}, Y: []float64{0, 0}}}}} {
		if _, err := Render(c, "svg"); err != nil {
			t.Errorf("%s: %v", c.Title, err)
		}
	}
}

var external = regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?\s*(https?:)?//|url\(\s*["']?(https?:)?//|@import`)

// report.html is self-contained: it loads nothing from anywhere.
func TestReportSelfContained(t *testing.T) {
	o := shop(t)
	src, _ := os.ReadFile("testdata/shop.toml")
	html, err := HTML(o, Charts(o), src)
	if err != nil {
		t.Fatal(err)
	}
	if m := external.Find(html); m != nil {
		t.Errorf("report loads an external resource: %s", m)
	}
	for _, want := range []string{"<!doctype html>", "SLO met", "<svg", "Latency percentile spectrum", "[service.web]", "Autoscaler decisions"} {
		if !bytes.Contains(html, []byte(want)) {
			t.Errorf("report lacks %q", want)
		}
	}
	// Well-formed enough for an XML parser once the doctype is gone? HTML
	// is not XML; check the tags at least balance for the main sections.
	for _, tag := range []string{"section", "table", "figure", "svg"} {
		if o, c := bytes.Count(html, []byte("<"+tag)), bytes.Count(html, []byte("</"+tag+">")); o != c {
			t.Errorf("<%s>: %d opened, %d closed", tag, o, c)
		}
	}
}

// The report renders in headless Chromium (installed by .ci/run): the
// screenshot is not blank. Skipped where Chromium is not installed.
func TestReportRendersInChromium(t *testing.T) {
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not installed (.ci/run installs it)")
	}
	o := shop(t)
	html, err := HTML(o, Charts(o), nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if err := os.WriteFile(page, html, 0o644); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "shot.png")
	cmd := exec.Command(browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--window-size=1280,1600", "--screenshot="+shot, "file://"+page)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	dark := 0
	for y := b.Min.Y; y < b.Max.Y; y += 4 {
		for x := b.Min.X; x < b.Max.X; x += 4 {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r+g+bl < 3*0xA000 {
				dark++
			}
		}
	}
	if total := (b.Dx() / 4) * (b.Dy() / 4); dark < total/200 {
		t.Errorf("screenshot looks blank: %d of %d sampled pixels are not light", dark, total)
	}
}

// BenchmarkReport renders the whole bundle (charts as PNG and SVG, and the
// HTML report) for a one-hour run with 10 s windows.
func BenchmarkReport(b *testing.B) {
	sc, err := scenario.Load("testdata/shop.toml", []string{"run.duration=1h", "run.window=10s"})
	if err != nil {
		b.Fatal(err)
	}
	o, err := experiments.Run(sc, experiments.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		charts := Charts(o)
		for _, c := range charts {
			if _, err := Render(c, "png"); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := HTML(o, charts, nil); err != nil {
			b.Fatal(err)
		}
	}
}
