package output

import (
	"encoding/json"
	"html"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/capsim/capsim/examples"
)

// checkScript measures the report as laid out by the browser: for every
// chart, the box of its plot frame and its tick labels; and every pair of
// text elements of one chart that overlap.
const checkScript = `<script>
(function () {
  const out = {charts: [], overlaps: []};
  document.querySelectorAll('figure').forEach(fig => {
    const svg = fig.querySelector('svg');
    const title = fig.getAttribute('aria-label');
    const boxes = [...svg.querySelectorAll('text')].filter(t => t.textContent.trim() !== '').map(t => {
      const r = t.getBoundingClientRect();
      return {t: t.textContent, l: r.left, r: r.right, top: r.top, b: r.bottom, tick: (t.getAttribute('style') || '').includes('#5F6368')};
    });
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i], b = boxes[j];
      if (a.l < b.r - 0.5 && b.l < a.r - 0.5 && a.top < b.b - 0.5 && b.top < a.b - 0.5) out.overlaps.push(title + ': "' + a.t + '" and "' + b.t + '"');
    }
    const frame = [...svg.querySelectorAll('path')].find(p => (p.getAttribute('style') || '').includes('stroke:#4D4D4D'));
    const f = frame ? frame.getBoundingClientRect() : {left: -1, right: -1};
    const ticks = boxes.filter(b => b.tick);
    const bottom = Math.max(...ticks.map(b => b.b));
    out.charts.push({title: title, left: f.left, right: f.right,
      xticks: ticks.filter(b => b.b === bottom).length, yticks: ticks.filter(b => b.r <= f.left).length});
  });
  const pre = document.createElement('pre');
  pre.id = 'capsim-check';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>`

var checkResult = regexp.MustCompile(`(?s)<pre id="capsim-check">(.*?)</pre>`)

// Every embedded example's report, laid out by headless Chromium: the time
// charts' plot areas line up to the pixel, no text of a chart overlaps
// another, and every chart labels at least three ticks on each axis.
// Skipped where Chromium is not installed (.ci/run installs it) and with
// -short.
func TestExampleReportsInChromium(t *testing.T) {
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not installed (.ci/run installs it)")
	}
	if testing.Short() {
		t.Skip("slow: runs every example")
	}
	for _, name := range examples.Names() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var overrides []string
			if name == "rtb-kafka" {
				overrides = []string{"run.duration=60s"}
			}
			o := example(t, name, overrides...)
			src, _ := examples.Get(name)
			page, err := HTML(o, Charts(o), src)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			file := filepath.Join(dir, "report.html")
			doc := strings.Replace(string(page), "</body>", checkScript+"\n</body>", 1)
			if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
				"--disable-background-networking", "--disable-component-update", "--disable-sync",
				"--user-data-dir="+filepath.Join(dir, "profile"), "--window-size=1280,1000", "--dump-dom", "file://"+file)
			dom, err := cmd.Output()
			if err != nil {
				t.Fatalf("chromium: %v", err)
			}
			m := checkResult.FindSubmatch(dom)
			if m == nil {
				t.Fatal("the check script left no result")
			}
			var res struct {
				Charts []struct {
					Title          string
					Left, Right    float64
					XTicks, YTicks int
				}
				Overlaps []string
			}
			if err := json.Unmarshal([]byte(html.UnescapeString(string(m[1]))), &res); err != nil {
				t.Fatal(err)
			}
			if len(res.Charts) < 5 {
				t.Errorf("%d charts, want at least 5", len(res.Charts))
			}
			var left, right float64
			for _, c := range res.Charts {
				if c.XTicks < 3 || c.YTicks < 3 && !strings.HasPrefix(c.Title, "Timeline") { // a timeline has lanes, not values
					t.Errorf("%s: %d x and %d y tick labels, want at least 3 each", c.Title, c.XTicks, c.YTicks)
				}
				if strings.Contains(c.Title, "spectrum") {
					continue
				}
				if left == 0 {
					left, right = c.Left, c.Right
				} else if math.Abs(c.Left-left) > 0.5 || math.Abs(c.Right-right) > 0.5 { // to the pixel
					t.Errorf("%s: plot area from %v to %v px, the first chart's from %v to %v", c.Title, c.Left, c.Right, left, right)
				}
			}
			t.Logf("%d charts, plot area %.1f–%.1f px", len(res.Charts), left, right)
			for _, o := range res.Overlaps {
				t.Errorf("overlapping text: %s", o)
			}
		})
	}
}
