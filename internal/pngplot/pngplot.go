// Package pngplot draws line charts as PNG images: stacked panels sharing
// an x axis, each with labelled axes, ticks and a legend. It exists because
// a plotting library's start-up cost (fonts, LaTeX tables) would be paid by
// every drover command, and drover needs only lines.
package pngplot

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Series is one line.
type Series struct {
	Name   string
	Color  color.RGBA
	Dashed bool
	X, Y   []float64
}

// Panel is one chart: its lines share the y axis.
type Panel struct {
	Title  string
	YLabel string
	Series []Series
}

// Chart is panels stacked over one x axis.
type Chart struct {
	Title  string
	XLabel string
	Panels []Panel
	Width  int // pixels; 1000 when zero
	Height int // per panel; 300 when zero
}

// Palette colours.
var (
	Blue   = color.RGBA{31, 119, 180, 255}
	Orange = color.RGBA{255, 127, 14, 255}
	Gray   = color.RGBA{120, 120, 120, 255}
	Green  = color.RGBA{44, 160, 44, 255}
	black  = color.RGBA{0, 0, 0, 255}
	grid   = color.RGBA{228, 228, 228, 255}
)

const (
	marginLeft   = 70
	marginRight  = 20
	marginTop    = 30
	marginBottom = 40
)

// Write draws the chart as PNG.
func (c Chart) Write(w io.Writer) error {
	if len(c.Panels) == 0 {
		return fmt.Errorf("pngplot: nothing to draw")
	}
	width, ph := c.Width, c.Height
	if width == 0 {
		width = 1000
	}
	if ph == 0 {
		ph = 300
	}
	const titleHeight = 24
	img := image.NewRGBA(image.Rect(0, 0, width, ph*len(c.Panels)+titleHeight))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	xmin, xmax := math.Inf(1), math.Inf(-1)
	for _, p := range c.Panels {
		for _, s := range p.Series {
			for _, x := range s.X {
				xmin, xmax = math.Min(xmin, x), math.Max(xmax, x)
			}
		}
	}
	if !(xmax > xmin) {
		xmax = xmin + 1
	}
	text(img, marginLeft, 16, c.Title, black)
	for i, p := range c.Panels {
		top := titleHeight + i*ph + marginTop
		c.drawPanel(img, p, image.Rect(marginLeft, top, width-marginRight, top+ph-marginBottom), xmin, xmax, i == len(c.Panels)-1)
	}
	return png.Encode(w, img)
}

func (c Chart) drawPanel(img *image.RGBA, p Panel, r image.Rectangle, xmin, xmax float64, last bool) {
	ymin, ymax := 0.0, math.Inf(-1)
	for _, s := range p.Series {
		for _, y := range s.Y {
			if !math.IsNaN(y) {
				ymax = math.Max(ymax, y)
			}
		}
	}
	if !(ymax > ymin) {
		ymax = ymin + 1
	}
	ymax = niceCeil(ymax * 1.05)
	px := func(x float64) int { return r.Min.X + int((x-xmin)/(xmax-xmin)*float64(r.Dx())) }
	py := func(y float64) int { return r.Max.Y - int((y-ymin)/(ymax-ymin)*float64(r.Dy())) }
	// Grid and ticks.
	for _, yt := range ticks(ymin, ymax, 5) {
		hline(img, r.Min.X, r.Max.X, py(yt), grid)
		text(img, r.Min.X-8-7*len(label(yt)), py(yt)+4, label(yt), black)
	}
	for _, xt := range ticks(xmin, xmax, 10) {
		vline(img, px(xt), r.Min.Y, r.Max.Y, grid)
		if last {
			text(img, px(xt)-3*len(label(xt)), r.Max.Y+16, label(xt), black)
		}
	}
	hline(img, r.Min.X, r.Max.X, r.Max.Y, black)
	vline(img, r.Min.X, r.Min.Y, r.Max.Y, black)
	text(img, r.Min.X+4, r.Min.Y-6, p.Title+"  ("+p.YLabel+")", black)
	if last && c.XLabel != "" {
		text(img, r.Max.X-7*len(c.XLabel), r.Max.Y+32, c.XLabel, black)
	}
	// Lines, then the legend on top.
	for _, s := range p.Series {
		for i := 1; i < len(s.X) && i < len(s.Y); i++ {
			if math.IsNaN(s.Y[i-1]) || math.IsNaN(s.Y[i]) {
				continue
			}
			line(img, px(s.X[i-1]), py(s.Y[i-1]), px(s.X[i]), py(s.Y[i]), s.Color, s.Dashed)
		}
	}
	lx, ly := r.Max.X-190, r.Min.Y+14
	for _, s := range p.Series {
		line(img, lx, ly-4, lx+24, ly-4, s.Color, s.Dashed)
		text(img, lx+30, ly, s.Name, black)
		ly += 15
	}
}

// ticks returns about n round values covering [lo, hi].
func ticks(lo, hi float64, n int) []float64 {
	step := niceCeil((hi - lo) / float64(n))
	var out []float64
	for v := math.Ceil(lo/step) * step; v <= hi+step/1e6; v += step {
		out = append(out, v)
	}
	return out
}

// niceCeil rounds up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func label(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func text(img *image.RGBA, x, y int, s string, c color.Color) {
	d := &font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

func hline(img *image.RGBA, x0, x1, y int, c color.RGBA) {
	for x := x0; x <= x1; x++ {
		img.SetRGBA(x, y, c)
	}
}

func vline(img *image.RGBA, x, y0, y1 int, c color.RGBA) {
	for y := y0; y <= y1; y++ {
		img.SetRGBA(x, y, c)
	}
}

// line draws a two-pixel line with Bresenham's algorithm, optionally dashed.
func line(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA, dashed bool) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	e := dx + dy
	for n := 0; ; n++ {
		if !dashed || (n/6)%2 == 0 {
			img.SetRGBA(x0, y0, c)
			img.SetRGBA(x0, y0+1, c)
		}
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x0 += sx
		}
		if e2 <= dx {
			e += dx
			y0 += sy
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func sign(v int) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}
