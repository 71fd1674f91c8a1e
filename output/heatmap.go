package output

import (
	"bytes"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Grid is a heatmap's data: a cell per value of the X axis (Columns, left
// to right) and of the Y axis (Rows, bottom to top), coloured by its value
// and with the value written in it when there is room. Missed cells (a
// setting that misses an SLO) are outlined in the SLO's red, so that the
// settings that meet every objective stand out as a region.
type Grid struct {
	Columns, Rows []string
	Values        [][]float64 // [row][column]; NaN: no value
	Missed        [][]bool    `json:",omitempty"`
	Log           bool        // colour by the value's logarithm
}

// viridis is the perceptually uniform, colour-blind-safe scale of
// matplotlib (van der Walt and Smith), at five stops.
var viridis = []color.RGBA{
	{0x44, 0x01, 0x54, 0xff}, {0x3b, 0x52, 0x8b, 0xff}, {0x21, 0x91, 0x8c, 0xff}, {0x5e, 0xc9, 0x62, 0xff}, {0xfd, 0xe7, 0x25, 0xff},
}

// scaleColor is the colour at f ∈ [0, 1] of the scale.
func scaleColor(f float64) color.RGBA {
	f = math.Min(math.Max(f, 0), 1) * float64(len(viridis)-1)
	i := min(int(f), len(viridis)-2)
	t := f - float64(i)
	a, b := viridis[i], viridis[i+1]
	mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(x) + t*(float64(y)-float64(x)))) }
	return color.RGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 0xff}
}

// dark reports whether text on c should be white.
func dark(c color.RGBA) bool {
	return 0.299*float64(c.R)+0.587*float64(c.G)+0.114*float64(c.B) < 140
}

// gridRange is the range of the grid's drawable values (> 0 on a log
// scale), and whether there is any.
func (g *Grid) gridRange() (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, row := range g.Values {
		for _, v := range row {
			if g.drawable(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	return lo, hi, lo <= hi
}

func (g *Grid) drawable(v float64) bool {
	return !math.IsNaN(v) && !math.IsInf(v, 0) && (!g.Log || v > 0)
}

// fraction places v on the colour scale of [lo, hi].
func (g *Grid) fraction(v, lo, hi float64) float64 {
	if hi <= lo {
		return 0.5
	}
	if g.Log {
		return (math.Log(v) - math.Log(lo)) / (math.Log(hi) - math.Log(lo))
	}
	return (v - lo) / (hi - lo)
}

// cellText writes a value short: three significant digits (all of a
// value's integer digits up to 9,999, thousands separated), then "12.7k",
// "2.5M", "3.2B", "1.8e+308".
func cellText(v float64) string {
	switch {
	case v == 0:
		return "0"
	case math.IsNaN(v):
		return "–"
	case math.IsInf(v, 1):
		return "∞"
	case math.IsInf(v, -1):
		return "−∞"
	}
	a := math.Abs(v)
	switch { // from what rounds to the unit
	case a >= 999.5e9:
		return strconv.FormatFloat(v, 'g', 3, 64)
	case a >= 999.5e6:
		return cellText(v/1e9) + "B"
	case a >= 999.5e3:
		return cellText(v/1e6) + "M"
	case a >= 9999.5:
		return cellText(v/1e3) + "k"
	}
	dec := max(0, 2-int(math.Floor(math.Log10(a))))
	return separate(trimZeros(strconv.FormatFloat(v, 'f', min(dec, 6), 64)))
}

// fit shortens s with an ellipsis until it is at most w wide.
func fit(st func(string) vg.Length, s string, w vg.Length) string {
	r := []rune(s)
	for len(r) > 1 && st(s) > w {
		r = r[:len(r)-1]
		s = string(r) + "…"
	}
	return s
}

// every is how many positions, spaced step apart, go between two labels
// up to width wide, so that no two overlap (6 points apart at least).
func every(width, step vg.Length) int {
	if step <= 0 {
		return 1
	}
	return max(1, int(math.Ceil(float64((width+6)/step))))
}

// renderGrid draws a heatmap chart in the layout every chart shares: the
// same plot area, title and axis labels, and its colour scale in the
// legend column.
func renderGrid(c Chart, format string) ([]byte, error) {
	g := c.Grid
	// Rows up to 44 points high (a single row is not a wall of colour),
	// but room for the colour scale.
	plotH := min(max(vg.Length(len(g.Rows))*44, 150), chartHeight-plotBottom-titleBand)
	height := plotBottom + titleBand + plotH
	plotTop := height - titleBand
	cw, dc, err := newCanvas(height, format)
	if err != nil {
		return nil, err
	}
	lo, hi, have := g.gridRange()
	nc, nr := len(g.Columns), len(g.Rows)
	tick := textStyle(9, muted)
	// The rows' labels are names more often than numbers: the plot area
	// starts right of the widest (up to a third of the chart), and the Y
	// axis's label left of them.
	left := plotLeft
	for _, r := range g.Rows {
		left = max(left, min(tick.Width(r)+26, chartWidth/3))
	}
	cellW, cellH := (plotRight-left)/vg.Length(max(nc, 1)), (plotTop-plotBottom)/vg.Length(max(nr, 1))
	valueStyle := textStyle(9, ink)
	valueStyle.XAlign, valueStyle.YAlign = draw.XCenter, draw.YCenter
	missed := draw.LineStyle{Color: sloInk, Width: vg.Points(2.2)}
	anyMissed := false
	for r := 0; r < nr && r < len(g.Values); r++ {
		for k := 0; k < nc && k < len(g.Values[r]); k++ {
			x0, y0 := left+vg.Length(k)*cellW, plotBottom+vg.Length(r)*cellH
			v := g.Values[r][k]
			fill := color.RGBA{0xf2, 0xf2, 0xf2, 0xff} // no value
			if g.drawable(v) {
				fill = scaleColor(g.fraction(v, lo, hi))
			}
			dc.FillPolygon(fill, []vg.Point{{X: x0, Y: y0}, {X: x0 + cellW, Y: y0}, {X: x0 + cellW, Y: y0 + cellH}, {X: x0, Y: y0 + cellH}})
			if r < len(g.Missed) && k < len(g.Missed[r]) && g.Missed[r][k] {
				anyMissed = true
				in := vg.Length(math.Min(2, float64(min(cellW, cellH))/6))
				dc.StrokeLines(missed, []vg.Point{{X: x0 + in, Y: y0 + in}, {X: x0 + cellW - in, Y: y0 + in}, {X: x0 + cellW - in, Y: y0 + cellH - in},
					{X: x0 + in, Y: y0 + cellH - in}, {X: x0 + in, Y: y0 + in}})
			}
			if math.IsNaN(v) || math.IsInf(v, 0) { // no value to write
				continue
			}
			s := cellText(v)
			st := valueStyle
			if st.Width(s) > cellW-6 { // a smaller size before none
				st = textStyle(7, ink)
				st.XAlign, st.YAlign = draw.XCenter, draw.YCenter
			}
			if st.Width(s) > cellW-4 || cellH < 11 {
				continue
			}
			if g.drawable(v) && dark(fill) {
				st.Color = color.White
			}
			dc.FillText(st, vg.Point{X: x0 + cellW/2, Y: y0 + cellH/2}, s)
		}
	}
	// White lines between cells keep neighbours of one colour apart.
	sep := draw.LineStyle{Color: color.White, Width: vg.Points(1)}
	for k := 1; k < nc; k++ {
		dc.StrokeLine2(sep, left+vg.Length(k)*cellW, plotBottom, left+vg.Length(k)*cellW, plotTop)
	}
	for r := 1; r < nr; r++ {
		dc.StrokeLine2(sep, left, plotBottom+vg.Length(r)*cellH, plotRight, plotBottom+vg.Length(r)*cellH)
	}

	// Category labels, thinned so that they never overlap.
	widest := func(labels []string, w vg.Length) vg.Length {
		var m vg.Length
		for _, l := range labels {
			m = max(m, tick.Width(fit(tick.Width, l, w)))
		}
		return m
	}
	colStep := every(widest(g.Columns, 2*cellW+60), cellW)
	for k := 0; k < nc; k += colStep {
		st := tick
		st.XAlign, st.YAlign = draw.XCenter, draw.YTop
		dc.FillText(st, vg.Point{X: left + (vg.Length(k)+0.5)*cellW, Y: plotBottom - 4}, fit(tick.Width, g.Columns[k], vg.Length(colStep)*cellW-6))
	}
	rowStep := every(tick.Height("0"), cellH)
	for r := 0; r < nr; r += rowStep {
		st := tick
		st.XAlign, st.YAlign = draw.XRight, draw.YCenter
		dc.FillText(st, vg.Point{X: left - 4, Y: plotBottom + (vg.Length(r)+0.5)*cellH}, fit(tick.Width, g.Rows[r], left-22))
	}
	drawFrame(dc, c, height, left, plotTop)

	// The colour scale in the legend column, then what an outline means.
	var legend []legendEntry
	if have {
		x0, top := plotRight+10, plotTop-6
		const barW, barH, steps = vg.Length(14), vg.Length(110), 44
		for i := 0; i < steps; i++ {
			y := top - barH*vg.Length(i+1)/steps
			dc.FillPolygon(scaleColor(1-float64(i)/(steps-1)), []vg.Point{{X: x0, Y: y}, {X: x0 + barW, Y: y}, {X: x0 + barW, Y: y + barH/steps + 0.3}, {X: x0, Y: y + barH/steps + 0.3}})
		}
		st := textStyle(9, ink)
		st.YAlign = draw.YCenter
		mid := lo/2 + hi/2 // without overflowing
		if g.Log {
			mid = math.Sqrt(lo) * math.Sqrt(hi)
		}
		marks := []struct {
			v float64
			y vg.Length
		}{{hi, top}, {mid, top - barH/2}, {lo, top - barH}}
		if hi <= lo { // one value: one label, where its colour is
			marks = marks[1:2]
		}
		for _, m := range marks {
			dc.FillText(st, vg.Point{X: x0 + barW + 5, Y: m.y}, cellText(m.v))
		}
		if anyMissed {
			legend = append(legend, legendEntry{label: "misses an SLO", line: missed, outline: true})
		}
		drawLegendFrom(dc, legend, top-barH-18)
	}
	var b bytes.Buffer
	if _, err := cw.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
