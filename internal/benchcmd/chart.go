package benchcmd

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Chart layout, in points (1/72 inch; a PNG has 96 pixels per inch, 4/3
// pixel per point): a grid of panels of PanelWidth x PanelHeight under a
// header of HeaderHeight plus LegendRowHeight per row of legend.
const (
	PanelWidth      = 240
	PanelHeight     = 180
	HeaderHeight    = 24
	LegendRowHeight = 15
	PNGDPI          = 96
)

// A chart is a grid of panels of throughput against size.
type chart struct {
	title  string
	cols   int
	panels []panel
	legend []legendEntry
}

type panel struct {
	title  string
	series []series
	peak   float64 // MB/s; 0: none
}

type series struct {
	color, dash int // indexes into palette and plotutil.DefaultDashes
	pts         plotter.XYs
}

type legendEntry struct {
	label       string
	color, dash int // color: colorPeak or colorBlack, or an index into palette
}

// palette holds the implementations' colors, in the order of KnownImpls:
// the peers red and orange, Key Locker blues, the sealed path purple,
// generic green; then spares.
var palette = []color.Color{
	color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, // crypto/aes
	color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}, // x/crypto/xts
	color.RGBA{R: 0x1f, G: 0x5f, B: 0xc4, A: 0xff}, // keylocker-wide
	color.RGBA{R: 0x17, G: 0xbe, B: 0xcf, A: 0xff}, // keylocker
	color.RGBA{R: 0x75, G: 0x3f, B: 0xb0, A: 0xff}, // aesni-sealed
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}, // generic
	color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff},
	color.RGBA{R: 0xe3, G: 0x77, B: 0xc2, A: 0xff},
}

// Colors that are not an implementation's.
const (
	colorPeak  = -1 // gray, dotted: the AES peak
	colorBlack = -2 // a line style's legend entry
)

func lineColor(i int) color.Color {
	switch i {
	case colorPeak:
		return color.Gray{Y: 128}
	case colorBlack:
		return color.Black
	}
	return palette[i%len(palette)]
}

// implColor gives each implementation the same color in every chart.
func implColor(name string) int {
	if i := slices.Index(KnownImpls(), name); i >= 0 {
		return i
	}
	return len(KnownImpls())
}

var (
	titleFont  = font.From(plot.DefaultFont, 11)
	legendFont = font.From(plot.DefaultFont, 9)
)

func textStyle(f font.Font) draw.TextStyle {
	return draw.TextStyle{Color: color.Black, Font: f, Handler: plot.DefaultTextHandler}
}

// legendRows lays the legend out in rows that fit width: each entry is a
// 20-point line sample, its label and a gap.
func (c *chart) legendRows(width vg.Length) [][]legendEntry {
	sty := textStyle(legendFont)
	var rows [][]legendEntry
	var row []legendEntry
	x := vg.Length(8)
	for _, e := range c.legend {
		w := 24 + sty.Width(e.label) + 14
		if len(row) > 0 && x+w > width-8 {
			rows, row, x = append(rows, row), nil, 8
		}
		row = append(row, e)
		x += w
	}
	if len(row) > 0 {
		rows = append(rows, row)
	}
	return rows
}

// size returns the chart's size: the grid of panels and the header.
func (c *chart) size() (w, h vg.Length) {
	rows := (len(c.panels) + c.cols - 1) / c.cols
	w = vg.Length(c.cols * PanelWidth)
	h = vg.Length(rows*PanelHeight+HeaderHeight) + vg.Length(len(c.legendRows(w))*LegendRowHeight)
	return w, h
}

// niceTicks labels a logarithmic axis at 1, 2 and 5 times the powers of
// ten in range (k for thousands, m for millions), and at the ends when
// fewer than two such values fall in it.
type niceTicks struct{ sizes bool }

func (t niceTicks) label(v float64) string {
	if t.sizes {
		return SizeLabel(int(v))
	}
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 3, 64) + "m"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'g', 3, 64) + "k"
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

func (t niceTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		for _, m := range []float64{1, 2, 5} {
			if v := m * math.Pow(10, e); v >= lo && v <= hi {
				ticks = append(ticks, plot.Tick{Value: v, Label: t.label(v)})
			}
		}
	}
	if len(ticks) < 2 {
		ticks = []plot.Tick{{Value: lo, Label: t.label(lo)}, {Value: hi, Label: t.label(hi)}}
	}
	return ticks
}

// sizeTicks labels the sizes measured.
type sizeTicks []float64

func (s sizeTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for _, v := range s {
		if v >= lo && v <= hi {
			ticks = append(ticks, plot.Tick{Value: v, Label: SizeLabel(int(v))})
		}
	}
	return ticks
}

func (p *panel) plot() (*plot.Plot, error) {
	pl := plot.New()
	pl.Title.Text = p.title
	pl.Title.TextStyle.Font.Size = 10
	pl.X.Label.Text = "bytes per operation"
	pl.Y.Label.Text = "MB/s"
	for _, a := range []*plot.Axis{&pl.X, &pl.Y} {
		a.Label.TextStyle.Font.Size = 8
		a.Tick.Label.Font.Size = 7
		a.Scale = plot.LogScale{}
	}
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	var sizes []float64
	for _, s := range p.series {
		l, err := plotter.NewLine(s.pts)
		if err != nil {
			return nil, err
		}
		l.LineStyle.Color = lineColor(s.color)
		l.LineStyle.Dashes = plotutil.Dashes(s.dash)
		l.LineStyle.Width = vg.Points(1.2)
		pl.Add(l)
		for _, pt := range s.pts {
			xmin, xmax = min(xmin, pt.X), max(xmax, pt.X)
			ymin, ymax = min(ymin, pt.Y), max(ymax, pt.Y)
			if !slices.Contains(sizes, pt.X) {
				sizes = append(sizes, pt.X)
			}
		}
	}
	if len(sizes) == 0 {
		return pl, nil
	}
	if p.peak > 0 {
		l, err := plotter.NewLine(plotter.XYs{{X: xmin, Y: p.peak}, {X: xmax, Y: p.peak}})
		if err != nil {
			return nil, err
		}
		l.LineStyle.Color = lineColor(-1)
		l.LineStyle.Dashes = []vg.Length{vg.Points(1), vg.Points(2)}
		pl.Add(l)
		ymax = max(ymax, p.peak)
	}
	if xmin == xmax { // one size: give the logarithmic axis a range
		xmin, xmax = xmin/2, xmax*2
	}
	pl.X.Min, pl.X.Max = xmin, xmax
	pl.Y.Min, pl.Y.Max = ymin/1.5, ymax*1.5
	slices.Sort(sizes)
	pl.X.Tick.Marker = sizeTicks(sizes)
	pl.Y.Tick.Marker = niceTicks{}
	return pl, nil
}

// render draws the chart on a canvas of the format ("svg" or "png").
func (c *chart) render(format string) (io.WriterTo, error) {
	w, h := c.size()
	var vc vg.CanvasWriterTo
	switch format {
	case "svg":
		vc = vgsvg.New(w, h)
	case "png":
		vc = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(PNGDPI), vgimg.UseBackgroundColor(color.White))}
	default:
		return nil, fmt.Errorf("unknown chart format %q (want svg or png)", format)
	}
	dc := draw.New(vc)
	// Header: the title, then the legend rows.
	title := textStyle(titleFont)
	y := h - 16
	dc.FillText(title, vg.Point{X: 8, Y: y}, c.title)
	lsty := textStyle(legendFont)
	for _, row := range c.legendRows(w) {
		y -= LegendRowHeight
		x := vg.Length(8)
		for _, e := range row {
			ls := draw.LineStyle{Color: lineColor(e.color), Width: vg.Points(1.5), Dashes: plotutil.Dashes(e.dash)}
			if e.color == colorPeak {
				ls.Dashes = []vg.Length{vg.Points(1), vg.Points(2)}
			}
			dc.StrokeLine2(ls, x, y+3, x+20, y+3)
			dc.FillText(lsty, vg.Point{X: x + 24, Y: y}, e.label)
			x += 24 + lsty.Width(e.label) + 14
		}
	}
	rows := (len(c.panels) + c.cols - 1) / c.cols
	grid := make([][]*plot.Plot, rows)
	for i := range grid {
		grid[i] = make([]*plot.Plot, c.cols)
	}
	for i := range c.panels {
		p, err := c.panels[i].plot()
		if err != nil {
			return nil, err
		}
		grid[i/c.cols][i%c.cols] = p
	}
	area := dc
	area.Max.Y = vg.Length(rows * PanelHeight)
	tiles := draw.Tiles{Rows: rows, Cols: c.cols, PadX: 4, PadY: 4, PadTop: 4, PadBottom: 4, PadLeft: 4, PadRight: 8}
	canvases := plot.Align(grid, tiles, area)
	for i := range grid {
		for j, p := range grid[i] {
			if p != nil {
				p.Draw(canvases[i][j])
			}
		}
	}
	return vc, nil
}

// ChartFormat returns the format a chart file's name asks for by its
// extension: "svg" (.svg) or "png" (.png).
func ChartFormat(path string) (string, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".svg", ".png":
		return ext[1:], nil
	default:
		return "", fmt.Errorf("chart file %q: the name must end in .svg or .png", path)
	}
}

// writeTo renders c in format ("svg" or "png") and writes it to w.
func (c *chart) writeTo(w io.Writer, format string) error {
	wt, err := c.render(format)
	if err != nil {
		return err
	}
	_, err = wt.WriteTo(w)
	return err
}

// directionDash is the line style of an operation in the bench chart:
// solid for the first direction of its mode, dashed for the second.
func directionDash(op Op) int {
	if op.Direction == "decrypt" || op.Direction == "open" {
		return 1
	}
	return 0
}

// WriteChart draws r to w in format ("svg" or "png", as ChartFormat
// names them): throughput against size, one panel per mode and key size
// (modes across, key sizes down), one color per implementation, solid
// lines for encryption (GCM seal, CTR) and dashed for decryption (GCM
// open), and the AES peak of the key size as a dotted gray line.
func (r *Report) WriteChart(w io.Writer, format string) error {
	return r.chart().writeTo(w, format)
}

func (r *Report) chart() *chart {
	c := &chart{title: fmt.Sprintf("aeskl bench: %s, %d thread(s), median of %d", r.Host.CPUModel, r.Settings.Threads, r.Settings.Repetitions)}
	var modes []string
	for _, m := range Modes {
		if slices.ContainsFunc(r.Results, func(res Result) bool { return res.Mode == m }) {
			modes = append(modes, m)
		}
	}
	var keys []int
	for _, res := range r.Results {
		if !slices.Contains(keys, res.KeyBits) {
			keys = append(keys, res.KeyBits)
		}
	}
	slices.Sort(keys)
	c.cols = max(1, len(modes))
	var impls []string
	for _, bits := range keys {
		for _, m := range modes {
			p := panel{title: fmt.Sprintf("%s, AES-%d", strings.ToUpper(m), bits)}
			if r.Peak != nil {
				p.peak = r.Peak.AES128.Median * 10 / float64(rounds(bits))
			}
			for _, op := range Ops {
				if op.Mode != m {
					continue
				}
				for _, name := range r.Settings.Implementations {
					var pts plotter.XYs
					for _, res := range r.Results {
						if res.Op == op.Name && res.KeyBits == bits && res.Implementation == name {
							pts = append(pts, plotter.XY{X: float64(res.Size), Y: res.MBPerS.Median})
						}
					}
					if len(pts) == 0 {
						continue
					}
					if !slices.Contains(impls, name) {
						impls = append(impls, name)
					}
					p.series = append(p.series, series{color: implColor(name), dash: directionDash(op), pts: pts})
				}
			}
			c.panels = append(c.panels, p)
		}
	}
	slices.SortStableFunc(impls, func(a, b string) int { return implColor(a) - implColor(b) })
	for _, name := range impls {
		c.legend = append(c.legend, legendEntry{label: name, color: implColor(name)})
	}
	c.legend = append(c.legend,
		legendEntry{label: "encrypt, seal, ctr", color: colorBlack},
		legendEntry{label: "decrypt, open", color: colorBlack, dash: 1})
	if r.Peak != nil {
		c.legend = append(c.legend, legendEntry{label: "AES peak (raw loop)", color: colorPeak})
	}
	return c
}
