package output

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// palette is Okabe and Ito's colour-blind-safe palette.
var palette = []color.RGBA{
	{0x00, 0x72, 0xB2, 0xff}, // blue
	{0xD5, 0x5E, 0x00, 0xff}, // vermillion
	{0x00, 0x9E, 0x73, 0xff}, // bluish green
	{0xCC, 0x79, 0xA7, 0xff}, // reddish purple
	{0xE6, 0x9F, 0x00, 0xff}, // orange
	{0x56, 0xB4, 0xE9, 0xff}, // sky blue
	{0x00, 0x00, 0x00, 0xff}, // black
}

// Chart size: wide enough for a slide, short enough to stack on one axis.
const (
	chartWidth  = 10 * vg.Inch
	chartHeight = 3.6 * vg.Inch
	// legendMargin is the width kept for the legend right of every chart.
	legendMargin = 1.9 * vg.Inch
)

// nines maps a percentile q to the log axis of a percentile spectrum.
func nines(q float64) float64 { return 1 / math.Max(1-q, 1e-9) }

type ninesTicks struct{}

func (ninesTicks) Ticks(min, max float64) []plot.Tick {
	var t []plot.Tick
	for _, q := range []float64{0, 0.5, 0.9, 0.99, 0.999, 0.9999, 0.99999, 0.999999} {
		if v := nines(q); v >= min*0.999 && v <= max*1.001 {
			t = append(t, plot.Tick{Value: v, Label: strconv.FormatFloat(100*q, 'f', -1, 64) + "%"})
		}
	}
	return t
}

// Render draws a chart as "png" or "svg". Points that cannot be drawn
// (NaN, or ≤ 0 on a log axis) are left out.
func Render(c Chart, format string) ([]byte, error) {
	series := make([]Series, len(c.Series))
	for i, s := range c.Series {
		series[i] = Series{Name: s.Name, X: append([]float64(nil), s.X...), Y: append([]float64(nil), s.Y...)}
		cleanSeries(&series[i], c.LogY)
	}
	c.Series = series
	p := plot.New()
	p.Title.Text = c.Title
	p.X.Label.Text = c.XLabel
	p.Y.Label.Text = c.YLabel
	for _, f := range []*font.Font{&p.Title.TextStyle.Font, &p.X.Label.TextStyle.Font, &p.Y.Label.TextStyle.Font,
		&p.X.Tick.Label.Font, &p.Y.Tick.Label.Font} {
		f.Variant = "Sans"
	}
	p.Title.TextStyle.Font.Size = vg.Points(13)
	legend := plot.NewLegend()
	legend.TextStyle.Font.Variant = "Sans"
	legend.TextStyle.Font.Size = vg.Points(10)
	legend.Top = true
	p.Add(plotter.NewGrid())
	ymin, ymax, xmin, xmax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	tx := func(x float64) float64 {
		if c.Nines {
			return nines(x)
		}
		return x
	}
	for _, s := range c.Series {
		for i := range s.Y {
			ymin, ymax = math.Min(ymin, s.Y[i]), math.Max(ymax, s.Y[i])
			xmin, xmax = math.Min(xmin, tx(s.X[i])), math.Max(xmax, tx(s.X[i]))
		}
	}
	for _, l := range c.Lines {
		ymin, ymax = math.Min(ymin, l.Y), math.Max(ymax, l.Y)
	}
	if math.IsInf(xmin, 0) { // nothing to draw: an empty, labelled plot
		xmin, xmax, ymin, ymax = 0, 1, 0, 1
		if c.LogY {
			ymin = 1
		}
		if c.Nines { // a log axis: 1/(1 − q) ≥ 1
			xmin, xmax = 1, 10
		}
	}
	if c.XMax > c.XMin {
		xmin, xmax = c.XMin, c.XMax
	}
	if !c.LogY {
		ymin = math.Min(ymin, 0)
	}
	if ymax <= ymin {
		ymax = ymin + 1
	}
	for _, sp := range c.Spans {
		lo, hi := ymin, ymax
		poly, err := plotter.NewPolygon(plotter.XYs{{X: sp.From, Y: lo}, {X: sp.To, Y: lo}, {X: sp.To, Y: hi}, {X: sp.From, Y: hi}})
		if err != nil {
			return nil, err
		}
		poly.Color = color.RGBA{0xee, 0xee, 0xee, 0xff}
		poly.LineStyle.Width = 0
		p.Add(poly)
		legend.Add(sp.Label, poly)
	}
	for i, s := range c.Series {
		if len(s.X) == 0 {
			continue
		}
		xys := make(plotter.XYs, len(s.X))
		for k := range s.X {
			xys[k] = plotter.XY{X: tx(s.X[k]), Y: s.Y[k]}
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %v", c.Name, s.Name, err)
		}
		l.Color = palette[i%len(palette)]
		l.Width = vg.Points(1.5)
		p.Add(l)
		legend.Add(s.Name, l)
	}
	for _, lv := range c.Lines {
		l, err := plotter.NewLine(plotter.XYs{{X: xmin, Y: lv.Y}, {X: xmax, Y: lv.Y}})
		if err != nil {
			return nil, err
		}
		l.Color = color.RGBA{0xC0, 0x00, 0x00, 0xff}
		l.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
		l.Width = vg.Points(1.2)
		p.Add(l)
		// Name each limit on the line itself (they share one style).
		labels, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: xmin, Y: lv.Y}},
			Labels: []string{lv.Label}})
		if err != nil {
			return nil, err
		}
		for i := range labels.TextStyle {
			labels.TextStyle[i].Color = l.Color
			labels.TextStyle[i].Font.Variant = "Sans"
			labels.TextStyle[i].Font.Size = vg.Points(9)
			labels.TextStyle[i].YAlign = draw.YBottom
		}
		labels.Offset = vg.Point{X: vg.Points(4), Y: vg.Points(1)}
		p.Add(labels)
	}
	if len(c.Marks) > 0 {
		xys := make(plotter.XYs, len(c.Marks))
		for i, m := range c.Marks {
			xys[i] = plotter.XY{X: m.X, Y: m.Y}
		}
		sc, err := plotter.NewScatter(xys)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle.Shape = draw.TriangleGlyph{}
		sc.GlyphStyle.Color = color.RGBA{0x55, 0x55, 0x55, 0xff}
		sc.GlyphStyle.Radius = vg.Points(3)
		p.Add(sc)
		legend.Add("scaling decision", sc)
	}
	if c.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		p.Y.Min, p.Y.Max = ymin*0.8, ymax*1.25
	} else {
		p.Y.Min, p.Y.Max = ymin, ymax*1.08
	}
	if c.Nines {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = ninesTicks{}
	}
	p.X.Min, p.X.Max = xmin, xmax
	// The legend goes to the right of the plot, where it hides no data, in
	// a margin of fixed width (unless a legend needs more), so that the
	// charts of a report share one time axis.
	canvas, err := draw.NewFormattedCanvas(chartWidth, chartHeight, format)
	if err != nil {
		return nil, err
	}
	dc := draw.New(canvas)
	r := legend.Rectangle(dc)
	legend.YOffs = -p.Title.TextStyle.FontExtents().Height - vg.Points(6)
	legend.XOffs = -vg.Points(4)
	legend.Draw(dc)
	margin := max(r.Max.X-r.Min.X+vg.Points(12), legendMargin)
	p.Draw(draw.Crop(dc, 0, -margin, 0, 0))
	var b bytes.Buffer
	if _, err := canvas.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
