package output

import (
	"bytes"
	"image/color"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	_ "gonum.org/v1/plot/vg/vgimg" // png
	_ "gonum.org/v1/plot/vg/vgsvg" // svg
)

// palette is Okabe and Ito's colour-blind-safe palette. Components keep
// their colour from chart to chart (Series.Color); beyond seven, the
// colours come round again dashed.
var palette = []color.RGBA{
	{0x00, 0x72, 0xB2, 0xff}, // blue
	{0xD5, 0x5E, 0x00, 0xff}, // vermillion
	{0x00, 0x9E, 0x73, 0xff}, // bluish green
	{0xCC, 0x79, 0xA7, 0xff}, // reddish purple
	{0xE6, 0x9F, 0x00, 0xff}, // orange
	{0x56, 0xB4, 0xE9, 0xff}, // sky blue
	{0x00, 0x00, 0x00, 0xff}, // black
}

// The layout, in points. Every chart has the same width and the same plot
// area left and right — whatever its tick labels — so a
// vertical line at time t crosses every time chart of a report at the
// same place. The legend has the column right of the plot, where it hides
// no data.
const (
	chartWidth  = 10 * vg.Inch
	chartHeight = 3.6 * vg.Inch
	legendWidth = 1.9 * vg.Inch
	plotLeft    = vg.Length(66)
	plotRight   = chartWidth - legendWidth - 10
	plotBottom  = vg.Length(36)
	titleBand   = vg.Length(26) // above the plot area
)

// frameColor draws the plot area's frame, and nothing else (the tests find
// the plot area by it).
var frameColor = color.RGBA{0x4D, 0x4D, 0x4D, 0xff}

var (
	ink      = color.RGBA{0x1d, 0x1d, 0x1f, 0xff}
	muted    = color.RGBA{0x5f, 0x63, 0x68, 0xff}
	gridInk  = color.RGBA{0xe3, 0xe5, 0xe8, 0xff}
	sloInk   = color.RGBA{0xB0, 0x00, 0x20, 0xff}
	warmInk  = color.RGBA{0xee, 0xee, 0xee, 0xff}
	faultInk = color.RGBA{0xfb, 0xe0, 0xe0, 0xff}
	markInk  = color.RGBA{0x55, 0x55, 0x55, 0xff}
)

func textStyle(size float64, c color.Color) text.Style {
	return text.Style{Color: c, Font: font.From(font.Font{Typeface: "Liberation", Variant: "Sans"}, vg.Points(size)),
		Handler: plot.DefaultTextHandler}
}

// nines maps a percentile q to the log axis of a percentile spectrum.
func nines(q float64) float64 { return 1 / math.Max(1-q, 1e-9) }

// tick is one labelled position on an axis.
type tick struct {
	v     float64
	label string
}

// axis maps data values to a length range, linearly or on a log scale.
type axis struct {
	min, max float64
	log      bool
	lo, hi   vg.Length
	ticks    []tick
}

func (a *axis) pos(v float64) vg.Length {
	f := (v - a.min) / (a.max - a.min)
	if a.log {
		f = (math.Log10(v) - math.Log10(a.min)) / (math.Log10(a.max) - math.Log10(a.min))
	}
	return a.lo + vg.Length(f)*(a.hi-a.lo)
}

// niceStep is the 1-2-5 step that cuts span into about n intervals.
func niceStep(span float64, n int) float64 {
	raw := span / float64(n)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// linearTicks are the nice ticks within [lo, hi].
func linearTicks(lo, hi float64, n int) []tick {
	step := niceStep(hi-lo, n)
	var out []tick
	for k := math.Ceil(lo/step - 1e-9); k*step <= hi+step*1e-9; k++ {
		v := k * step
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		out = append(out, tick{v, formatTick(v, step)})
	}
	return out
}

// logTicks are the ticks of a log axis over whole decades [lo, hi]: 1, 2
// and 5 times each power of ten over up to three decades, powers of ten
// beyond.
func logTicks(lo, hi float64) []tick {
	var out []tick
	mults := []float64{1, 2, 5}
	if hi/lo > 1e3 {
		mults = []float64{1}
	}
	for p := lo; p <= hi*1.0001; p *= 10 {
		for _, m := range mults {
			if v := p * m; v <= hi*1.0001 {
				out = append(out, tick{v, formatTick(v, p)})
			}
		}
	}
	return out
}

// formatTick writes v with the decimals step needs, thousands separated,
// and millions and billions as "1.5M", "2B".
func formatTick(v, step float64) string {
	switch a := math.Abs(v); {
	case a >= 1e9:
		return trimZeros(strconv.FormatFloat(v/1e9, 'f', 2, 64)) + "B"
	case a >= 1e6:
		return trimZeros(strconv.FormatFloat(v/1e6, 'f', 2, 64)) + "M"
	}
	dec := 0 // as many decimals as the step has
	for m := step; dec < 6 && math.Abs(m-math.Round(m)) > 1e-6*math.Max(1, m); m *= 10 {
		dec++
	}
	s := strconv.FormatFloat(v, 'f', dec, 64)
	if dec > 0 {
		s = trimZeros(s)
	}
	return separate(s)
}

func trimZeros(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// separate puts thousands separators into a formatted number.
func separate(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := b.String()
	if hasFrac {
		out += "." + frac
	}
	if neg {
		out = "-" + out
	}
	return out
}

// ninesTicks label a percentile spectrum's axis.
var ninesTicks = []tick{{0, "0"}, {0.5, "50%"}, {0.9, "90%"}, {0.99, "99%"}, {0.999, "99.9%"}, {0.9999, "99.99%"},
	{0.99999, "99.999%"}, {0.999999, "99.9999%"}}

// Render draws a chart as "png" or "svg". Points that cannot be drawn
// (NaN, or ≤ 0 on a log axis) are left out.
func Render(c Chart, format string) ([]byte, error) {
	if c.Grid != nil {
		return renderGrid(c, format)
	}
	series := make([]Series, len(c.Series))
	for i, s := range c.Series {
		series[i] = s
		series[i].X, series[i].Y = append([]float64(nil), s.X...), append([]float64(nil), s.Y...)
		cleanSeries(&series[i], c.LogY)
	}
	c.Series = series
	height := c.height()
	plotTop := height - titleBand
	cw, dc, err := newCanvas(height, format)
	if err != nil {
		return nil, err
	}
	x, y := c.axes(plotTop)
	area := draw.Canvas{Canvas: dc.Canvas, Rectangle: vg.Rectangle{Min: vg.Point{X: plotLeft, Y: plotBottom}, Max: vg.Point{X: plotRight, Y: plotTop}}}
	var legend []legendEntry

	// Shaded spans over the whole plot height, then the grid.
	for _, sp := range c.Spans {
		from, to := math.Max(sp.From, x.min), math.Min(sp.To, x.max)
		if to <= from {
			continue
		}
		ink := faultInk
		if sp.Label == "warm-up" {
			ink = warmInk
		}
		area.FillPolygon(ink, []vg.Point{{X: x.pos(from), Y: plotBottom}, {X: x.pos(to), Y: plotBottom}, {X: x.pos(to), Y: plotTop}, {X: x.pos(from), Y: plotTop}})
		legend = append(legend, legendEntry{label: sp.Label, fill: ink})
	}
	grid := draw.LineStyle{Color: gridInk, Width: vg.Points(0.6)}
	for _, t := range y.ticks {
		dc.StrokeLine2(grid, plotLeft, y.pos(t.v), plotRight, y.pos(t.v))
	}
	for _, t := range x.ticks {
		dc.StrokeLine2(grid, x.pos(t.v), plotBottom, x.pos(t.v), plotTop)
	}

	// Bands (confidence intervals), then the lines.
	var drawn [][]vg.Point // every line, in points, for placing labels clear of them
	for i, s := range c.Series {
		if len(s.Lo) != len(s.X) || len(s.Hi) != len(s.X) || len(s.X) == 0 {
			continue
		}
		col, _ := s.style(i)
		band := color.NRGBA{col.R, col.G, col.B, 0x40} // not premultiplied
		var pts []vg.Point
		for k := range s.X {
			pts = append(pts, vg.Point{X: x.pos(c.tx(s.X[k])), Y: y.pos(c.clampY(s.Lo[k]))})
		}
		for k := len(s.X) - 1; k >= 0; k-- {
			pts = append(pts, vg.Point{X: x.pos(c.tx(s.X[k])), Y: y.pos(c.clampY(s.Hi[k]))})
		}
		area.FillPolygon(band, area.ClipPolygonXY(pts))
		legend = append(legend, legendEntry{label: s.Name + " 95 % CI", fill: band})
	}
	for i, s := range c.Series {
		if len(s.X) == 0 {
			continue
		}
		col, dashed := s.style(i)
		ls := draw.LineStyle{Color: col, Width: vg.Points(1.5)}
		if dashed {
			ls.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		pts := make([]vg.Point, len(s.X))
		for k := range s.X {
			pts[k] = vg.Point{X: x.pos(c.tx(s.X[k])), Y: y.pos(s.Y[k])}
		}
		if s.Scatter {
			g := draw.GlyphStyle{Color: col, Radius: vg.Points(3.5), Shape: draw.CircleGlyph{}}
			for _, p := range pts {
				if area.Contains(p) {
					dc.DrawGlyph(g, p)
				}
				drawn = append(drawn, []vg.Point{p, p})
			}
			legend = append(legend, legendEntry{label: s.Name, glyph: &g})
			continue
		}
		area.StrokeLines(ls, area.ClipLinesXY(pts)...)
		drawn = append(drawn, pts)
		legend = append(legend, legendEntry{label: s.Name, line: ls})
	}

	// Reference lines, each labelled where no curve crosses its label.
	label := textStyle(8.5, sloInk)
	var placed []vg.Rectangle
	for _, lv := range c.Lines {
		if lv.Y < y.min || lv.Y > y.max {
			continue
		}
		ly := y.pos(lv.Y)
		dc.StrokeLine2(draw.LineStyle{Color: sloInk, Width: vg.Points(1.2), Dashes: []vg.Length{vg.Points(6), vg.Points(3)}}, plotLeft, ly, plotRight, ly)
		r := labelBox(label, lv.Label, ly, plotTop, drawn, placed)
		placed = append(placed, r)
		dc.FillText(label, r.Min, lv.Label)
	}

	// A timeline's lanes, and the bars in them.
	for i, r := range c.Rows {
		ly := y.pos(c.laneY(float64(i)))
		dc.StrokeLine2(grid, plotLeft, ly, plotRight, ly)
		st := textStyle(9, muted)
		st.YAlign = draw.YBottom
		dc.FillText(st, vg.Point{X: plotLeft + 4, Y: ly + 5}, r)
	}
	for _, b := range c.Bars {
		from, to := math.Max(b.From, x.min), math.Min(b.To, x.max)
		if to <= from {
			continue
		}
		ly := y.pos(c.laneY(float64(b.Row)))
		area.FillPolygon(sloInk, []vg.Point{{X: x.pos(from), Y: ly - 3}, {X: x.pos(to), Y: ly - 3}, {X: x.pos(to), Y: ly + 3}, {X: x.pos(from), Y: ly + 3}})
	}

	// Marks: autoscaler decisions, a sweep's knee.
	if len(c.Marks) > 0 {
		g := draw.GlyphStyle{Color: markInk, Radius: vg.Points(3.2), Shape: upTriangle{}}
		down := g
		down.Shape = downTriangle{}
		downs := false
		for _, m := range c.Marks {
			p := vg.Point{X: x.pos(c.tx(m.X)), Y: y.pos(c.laneY(c.clampY(m.Y)))}
			if area.Contains(p) {
				if m.Down {
					dc.DrawGlyph(down, p)
					downs = true
				} else {
					dc.DrawGlyph(g, p)
				}
				if c.LabelMarks {
					st := textStyle(9, ink)
					dc.FillText(st, vg.Point{X: p.X + 5, Y: p.Y + 4}, m.Label)
				}
			}
		}
		name := c.MarkLegend
		if name == "" {
			name = "scaling decision"
		}
		if downs {
			name = "scale-out"
		}
		legend = append(legend, legendEntry{label: name, glyph: &g})
		if downs {
			legend = append(legend, legendEntry{label: "scale-in", glyph: &down})
		}
	}

	// The frame, axes' labels, title and legend.
	drawFrame(dc, c, height, plotLeft, plotTop)
	tickStyle := textStyle(9, muted)
	for _, t := range x.ticks {
		st := tickStyle
		st.XAlign, st.YAlign = draw.XCenter, draw.YTop
		dc.FillText(st, vg.Point{X: x.pos(t.v), Y: plotBottom - 4}, t.label)
	}
	for _, t := range y.ticks {
		st := tickStyle
		st.XAlign, st.YAlign = draw.XRight, draw.YCenter
		dc.FillText(st, vg.Point{X: plotLeft - 4, Y: y.pos(t.v)}, t.label)
	}
	drawLegend(dc, legend, plotTop)

	var b bytes.Buffer
	if _, err := cw.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// newCanvas is a white chart of the common width and the given height, as
// "png" or "svg".
func newCanvas(height vg.Length, format string) (vg.CanvasWriterTo, draw.Canvas, error) {
	cw, err := draw.NewFormattedCanvas(chartWidth, height, format)
	if err != nil {
		return nil, draw.Canvas{}, err
	}
	dc := draw.New(cw)
	dc.FillPolygon(color.White, []vg.Point{{X: 0, Y: 0}, {X: chartWidth, Y: 0}, {X: chartWidth, Y: height}, {X: 0, Y: height}})
	return cw, dc, nil
}

// drawFrame draws the plot area's frame (from left), the axes' labels and
// the title.
func drawFrame(dc draw.Canvas, c Chart, height, left, plotTop vg.Length) {
	dc.StrokeLines(draw.LineStyle{Color: frameColor, Width: vg.Points(0.8)},
		[]vg.Point{{X: left, Y: plotBottom}, {X: plotRight, Y: plotBottom}, {X: plotRight, Y: plotTop}, {X: left, Y: plotTop}, {X: left, Y: plotBottom}})
	axisLabel := textStyle(10, ink)
	axisLabel.XAlign, axisLabel.YAlign = draw.XCenter, draw.YBottom
	dc.FillText(axisLabel, vg.Point{X: (left + plotRight) / 2, Y: 4}, c.XLabel)
	axisLabel.Rotation = math.Pi / 2
	axisLabel.YAlign = draw.YTop
	dc.FillText(axisLabel, vg.Point{X: 4, Y: (plotBottom + plotTop) / 2}, c.YLabel)
	title := textStyle(13, ink)
	title.XAlign, title.YAlign = draw.XCenter, draw.YTop
	dc.FillText(title, vg.Point{X: (plotLeft + plotRight) / 2, Y: height - 5}, c.Title)
}

// style is series i's colour and whether it is dashed.
func (s *Series) style(i int) (color.RGBA, bool) {
	k := i
	if s.Color > 0 {
		k = s.Color - 1
	}
	return palette[k%len(palette)], k >= len(palette)
}

// height is the chart's height: the common one, or a timeline's, which
// grows with its rows.
func (c *Chart) height() vg.Length {
	if len(c.Rows) > 0 {
		return plotBottom + titleBand + vg.Length(18*max(len(c.Rows), 2)+12)
	}
	return chartHeight
}

// laneY is row i's place on a timeline's axis (the first row at the top),
// or v itself on other charts.
func (c *Chart) laneY(v float64) float64 {
	if n := len(c.Rows); n > 0 {
		return float64(n-1) - v
	}
	return v
}

// upTriangle is a filled triangle pointing up: a scale-out, a knee.
type upTriangle struct{}

func (upTriangle) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	r := sty.Radius
	c.FillPolygon(sty.Color, []vg.Point{{X: pt.X - r, Y: pt.Y - r*0.6}, {X: pt.X + r, Y: pt.Y - r*0.6}, {X: pt.X, Y: pt.Y + r}})
}

// downTriangle is a filled triangle pointing down: a scale-in.
type downTriangle struct{}

func (downTriangle) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	r := sty.Radius
	c.FillPolygon(sty.Color, []vg.Point{{X: pt.X - r, Y: pt.Y + r*0.6}, {X: pt.X + r, Y: pt.Y + r*0.6}, {X: pt.X, Y: pt.Y - r}})
}

// tx maps a data X to the axis (percentiles to their nines).
func (c *Chart) tx(v float64) float64 {
	if c.Nines {
		return nines(v)
	}
	return v
}

func (c *Chart) scatter() bool {
	for _, s := range c.Series {
		if s.Scatter {
			return true
		}
	}
	return false
}

// integerX reports whether every X is a whole number (a count of
// instances, say), outside time charts.
func (c *Chart) integerX() bool {
	if c.XMax > c.XMin || c.Nines {
		return false
	}
	for _, s := range c.Series {
		for _, x := range s.X {
			if x != math.Trunc(x) {
				return false
			}
		}
	}
	return true
}

// clampY keeps a band's or mark's value drawable on a log axis.
func (c *Chart) clampY(v float64) float64 {
	if c.LogY && v <= 0 {
		return math.SmallestNonzeroFloat64
	}
	return v
}

// axes fits the axes to the data: the time axis to XMin..XMax when set,
// the value axis from 0 (linear) or from the decade below the smallest
// value (log) up to a tick above the largest, so that every axis carries
// at least three labelled ticks.
func (c *Chart) axes(plotTop vg.Length) (x, y axis) {
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range c.Series {
		for i := range s.X {
			xmin, xmax = math.Min(xmin, c.tx(s.X[i])), math.Max(xmax, c.tx(s.X[i]))
			ymin, ymax = math.Min(ymin, s.Y[i]), math.Max(ymax, s.Y[i])
			if len(s.Hi) == len(s.X) && !math.IsNaN(s.Hi[i]) {
				ymax = math.Max(ymax, s.Hi[i])
			}
			if len(s.Lo) == len(s.X) && !math.IsNaN(s.Lo[i]) && (!c.LogY || s.Lo[i] > 0) {
				ymin = math.Min(ymin, s.Lo[i])
			}
		}
	}
	for _, l := range c.Lines {
		ymin, ymax = math.Min(ymin, l.Y), math.Max(ymax, l.Y)
	}
	if math.IsInf(xmin, 0) { // nothing to draw: an empty, labelled plot
		xmin, xmax, ymin, ymax = 0, 1, 1, 1
		if c.Nines {
			xmin, xmax = 1, 10
		}
	}
	if c.XMax > c.XMin {
		xmin, xmax = c.XMin, c.XMax
	} else if c.scatter() { // room around the dots
		pad := math.Max((xmax-xmin)*0.05, math.Abs(xmax)*0.02)
		if pad == 0 {
			pad = 1
		}
		xmin, xmax = xmin-pad, xmax+pad
	}
	if xmax <= xmin {
		xmax = xmin + 1
	}
	x = axis{min: xmin, max: xmax, lo: plotLeft, hi: plotRight}
	if c.Nines {
		x.log, x.min = true, 1
		x.max = math.Max(xmax, 100)
		for _, t := range ninesTicks {
			if v := nines(t.v); v <= x.max*1.0001 {
				x.ticks = append(x.ticks, tick{v, t.label})
			}
		}
	} else {
		x.ticks = linearTicks(xmin, xmax, 8)
		if c.integerX() && len(x.ticks) > 1 && x.ticks[1].v-x.ticks[0].v < 1 && math.Abs(xmin) < 1e9 && math.Abs(xmax) < 1e9 { // counts: whole ticks only
			x.ticks = x.ticks[:0]
			for v := math.Ceil(xmin); v <= xmax; v++ {
				x.ticks = append(x.ticks, tick{v, formatTick(v, 1)})
			}
		}
	}
	y = axis{lo: plotBottom, hi: plotTop}
	if n := len(c.Rows); n > 0 { // lanes, the first at the top; labelled inside
		y.min, y.max = -0.5, float64(n)-0.5
		return x, y
	}
	if c.LogY {
		if !(ymin > 0) {
			ymin = 1
		}
		ymax = math.Max(ymax, ymin)
		y.log = true
		// Within 1e-300..1e300, so that the decades can be counted.
		y.min = math.Pow(10, math.Floor(math.Log10(math.Max(ymin, 1e-300))))
		y.max = math.Pow(10, math.Ceil(math.Log10(math.Min(ymax, 1e300))+1e-9))
		if y.max <= y.min {
			y.max = y.min * 10
		}
		y.ticks = logTicks(y.min, y.max)
		return x, y
	}
	ymin = math.Min(ymin, 0)
	if ymax <= ymin {
		ymax = ymin + 1
	}
	step := niceStep(ymax-ymin, 4)
	y.min = math.Floor(ymin/step) * step
	y.max = math.Ceil(ymax/step-1e-9) * step
	if y.max <= ymax { // room above the highest value
		y.max += step
	}
	y.ticks = linearTicks(y.min, y.max, 4)
	return x, y
}

// labelBox places a reference line's label, at height ly, where it
// crosses no curve and no label placed before: above the line at the
// left, at the right, in the middle, then below; above at the left if
// nowhere is clear.
func labelBox(st text.Style, s string, ly, plotTop vg.Length, lines [][]vg.Point, placed []vg.Rectangle) vg.Rectangle {
	w, h := st.Width(s), st.Height(s)
	var first vg.Rectangle
	for k, c := range []struct {
		x    vg.Length
		dy   vg.Length
		side int
	}{{plotLeft + 4, 2, 0}, {plotRight - 4 - w, 2, 0}, {(plotLeft + plotRight - w) / 2, 2, 0},
		{plotLeft + 4, -h - 2, 0}, {plotRight - 4 - w, -h - 2, 0}, {(plotLeft + plotRight - w) / 2, -h - 2, 0}} {
		r := vg.Rectangle{Min: vg.Point{X: c.x, Y: ly + c.dy}, Max: vg.Point{X: c.x + w, Y: ly + c.dy + h}}
		if k == 0 {
			first = r
		}
		if r.Min.Y < plotBottom || r.Max.Y > plotTop {
			continue
		}
		if !crosses(r, lines) && !overlapsAny(r, placed) {
			return r
		}
	}
	return first
}

// crosses reports whether any of the lines passes through r.
func crosses(r vg.Rectangle, lines [][]vg.Point) bool {
	pad := vg.Points(1.5)
	r = vg.Rectangle{Min: vg.Point{X: r.Min.X - pad, Y: r.Min.Y - pad}, Max: vg.Point{X: r.Max.X + pad, Y: r.Max.Y + pad}}
	for _, l := range lines {
		for i := 1; i < len(l); i++ {
			if segmentHits(l[i-1], l[i], r) {
				return true
			}
		}
	}
	return false
}

// segmentHits reports whether segment a–b meets rectangle r (sampled
// finely enough for labels a few points high).
func segmentHits(a, b vg.Point, r vg.Rectangle) bool {
	if math.Max(float64(a.X), float64(b.X)) < float64(r.Min.X) || math.Min(float64(a.X), float64(b.X)) > float64(r.Max.X) ||
		math.Max(float64(a.Y), float64(b.Y)) < float64(r.Min.Y) || math.Min(float64(a.Y), float64(b.Y)) > float64(r.Max.Y) {
		return false
	}
	d := math.Hypot(float64(b.X-a.X), float64(b.Y-a.Y))
	if math.IsNaN(d) || math.IsInf(d, 0) {
		return false
	}
	n := int(math.Min(d, 4096)) + 1 // a point a pixel or so apart, on the canvas
	for k := 0; k <= n; k++ {
		f := vg.Length(float64(k) / float64(n))
		p := vg.Point{X: a.X + f*(b.X-a.X), Y: a.Y + f*(b.Y-a.Y)}
		if p.X >= r.Min.X && p.X <= r.Max.X && p.Y >= r.Min.Y && p.Y <= r.Max.Y {
			return true
		}
	}
	return false
}

func overlapsAny(r vg.Rectangle, others []vg.Rectangle) bool {
	for _, o := range others {
		if r.Min.X < o.Max.X && o.Min.X < r.Max.X && r.Min.Y < o.Max.Y && o.Min.Y < r.Max.Y {
			return true
		}
	}
	return false
}

// legendEntry is one row of a legend: a line, a filled box or a glyph.
type legendEntry struct {
	label   string
	line    draw.LineStyle
	outline bool // line drawn as a box's outline (a heatmap's missed cell)
	fill    color.Color
	glyph   *draw.GlyphStyle
}

// drawLegend writes the entries down the column right of the plot, a
// name too long for one line on two (then shortened), and says how many
// did not fit.
func drawLegend(dc draw.Canvas, entries []legendEntry, plotTop vg.Length) {
	drawLegendFrom(dc, entries, plotTop-6)
}

// drawLegendFrom writes the legend's entries from height y down.
func drawLegendFrom(dc draw.Canvas, entries []legendEntry, y vg.Length) {
	st := textStyle(9, ink)
	st.YAlign = draw.YCenter
	x0 := plotRight + 10
	const row = vg.Length(12)
	maxText := chartWidth - x0 - 24
	for i, e := range entries {
		lines := wrapLabel(st, e.label, maxText)
		if y-vg.Length(len(lines))*row < plotBottom-row && i < len(entries)-1 || y < plotBottom {
			dc.FillText(st, vg.Point{X: x0, Y: y}, "… "+strconv.Itoa(len(entries)-i)+" more")
			return
		}
		switch {
		case e.glyph != nil:
			dc.DrawGlyph(*e.glyph, vg.Point{X: x0 + 8, Y: y})
		case e.outline:
			dc.StrokeLines(e.line, []vg.Point{{X: x0 + 1, Y: y - 5}, {X: x0 + 15, Y: y - 5}, {X: x0 + 15, Y: y + 5}, {X: x0 + 1, Y: y + 5}, {X: x0 + 1, Y: y - 5}})
		case e.fill != nil:
			dc.FillPolygon(e.fill, []vg.Point{{X: x0, Y: y - 4}, {X: x0 + 16, Y: y - 4}, {X: x0 + 16, Y: y + 4}, {X: x0, Y: y + 4}})
		default:
			dc.StrokeLine2(e.line, x0, y, x0+16, y)
		}
		for _, l := range lines {
			dc.FillText(st, vg.Point{X: x0 + 20, Y: y}, l)
			y -= row
		}
	}
}

// wrapLabel breaks a legend label into at most two lines of width w,
// shortening the second with an ellipsis if need be.
func wrapLabel(st text.Style, s string, w vg.Length) []string {
	if st.Width(s) <= w {
		return []string{s}
	}
	words := strings.Fields(s)
	first := ""
	k := 0
	for ; k < len(words); k++ {
		next := strings.TrimSpace(first + " " + words[k])
		if st.Width(next) > w && first != "" {
			break
		}
		first = next
	}
	second := strings.Join(words[k:], " ")
	for _, p := range []*string{&first, &second} {
		for r := []rune(*p); st.Width(*p) > w && len(r) > 1; {
			r = r[:len(r)-1]
			*p = string(r) + "…"
		}
	}
	if second == "" {
		return []string{first}
	}
	return []string{first, "  " + second}
}
