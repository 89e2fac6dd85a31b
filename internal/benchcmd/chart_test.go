package benchcmd

import (
	"bytes"
	"encoding/xml"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-keylocker/keylocker/aeskl"
)

// synthetic returns a report with made-up throughputs: scale * f(op,
// implementation, size), so that tests know every figure.
func synthetic(cpu string, scale float64, keys []int, modes, impls []string, sizes []int) *Report {
	r := &Report{Schema: Schema, Created: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Host:     Host{CPUModel: cpu, Microcode: "0x1", OS: "linux", Arch: "amd64", LogicalCPUs: 2},
		Settings: Settings{Modes: modes, Sizes: sizes, KeyBits: keys, Implementations: impls, Threads: 2, Repetitions: 3, RepetitionTime: 0.01},
		Peak:     &Peak{AES128: Stat{Median: 20000 * scale, Min: 20000 * scale, Max: 20000 * scale}},
		Notes:    []string{},
	}
	for _, name := range impls {
		r.Implementations = append(r.Implementations, ImplInfo{Name: name, Kind: "aeskl"})
	}
	for i, op := range Ops {
		if !strings.Contains(strings.Join(modes, ","), op.Mode) {
			continue
		}
		for _, bits := range keys {
			for _, size := range sizes {
				for j, name := range impls {
					if !runsMode(name, op.Mode) {
						continue
					}
					v := scale * float64((i+1)*(j+1)) * math.Sqrt(float64(size)) * 128 / float64(bits)
					r.Results = append(r.Results, Result{Op: op.Name, Mode: op.Mode, Direction: op.Direction,
						Implementation: name, KeyBits: bits, Size: size, MBPerS: Stat{Median: v, Min: v, Max: v, Samples: []float64{v}}})
				}
			}
		}
	}
	return r
}

var allImpls = []string{CryptoAES, XCryptoXTS, "aesni-sealed", "generic"}

// pngSize decodes a PNG file and returns its image.
func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s is not a valid PNG: %v", path, err)
	}
	return img
}

// svgSize parses an SVG file to its end and returns the root's width and
// height attributes.
func svgSize(t *testing.T, path string) (w, h string, text string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	root := true
	var texts []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s is not valid XML: %v", path, err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if root {
				if el.Name.Local != "svg" {
					t.Fatalf("root element %q, want svg", el.Name.Local)
				}
				for _, a := range el.Attr {
					switch a.Name.Local {
					case "width":
						w = a.Value
					case "height":
						h = a.Value
					}
				}
				root = false
			}
		case xml.CharData:
			texts = append(texts, string(el))
		}
	}
	return w, h, strings.Join(texts, " ")
}

// hasColor reports whether img has a pixel of exactly c.
func hasColor(img image.Image, c color.Color) bool {
	r0, g0, b0, _ := c.RGBA()
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if r == r0 && g == g0 && b == b0 {
				return true
			}
		}
	}
	return false
}

// TestReportChart: the bench chart has one 240x180-point panel per mode
// and key size (5 modes across, 2 key sizes down) under a 24-point header
// and one 15-point legend row: 1200x399 points, 1600x532 pixels at 96 dpi.
func TestReportChart(t *testing.T) {
	dir := t.TempDir()
	r := synthetic("Test CPU 9000", 1, []int{128, 256}, Modes, allImpls, []int{16, 4096, 65536})
	pngPath, svgPath := filepath.Join(dir, "b.png"), filepath.Join(dir, "b.svg")
	writeChart(t, pngPath, r.WriteChart)
	img := readPNG(t, pngPath)
	if got := img.Bounds().Size(); got != (image.Point{X: 1600, Y: 532}) {
		t.Errorf("PNG of %v, want 1600x532", got)
	}
	for _, name := range allImpls {
		if !hasColor(img, palette[implColor(name)]) {
			t.Errorf("no line of %s's color in the chart", name)
		}
	}
	writeChart(t, svgPath, r.WriteChart)
	w, h, text := svgSize(t, svgPath)
	if w != "1200pt" || h != "399pt" {
		t.Errorf("SVG of %s x %s, want 1200pt x 399pt", w, h)
	}
	for _, want := range []string{"Test CPU 9000", "GCM, AES-256", "XTS, AES-128", "aesni-sealed", "x/crypto/xts", "AES peak"} {
		if !strings.Contains(text, want) {
			t.Errorf("SVG text lacks %q", want)
		}
	}

	// One mode, one key size, one size: one panel, 240 points wide; the
	// legend wraps into rows of 15 points.
	one := synthetic("CPU", 1, []int{192}, []string{"ctr"}, []string{CryptoAES, "generic"}, []int{64})
	writeChart(t, pngPath, one.WriteChart)
	got := readPNG(t, pngPath).Bounds().Size()
	rows := len(one.chart().legendRows(240))
	if got.X != 320 || got.Y != (180+24+15*rows)*4/3 || rows < 2 {
		t.Errorf("one panel: PNG of %v with %d legend rows, want 320 x %d and at least 2 rows", got, rows, (180+24+15*rows)*4/3)
	}
	if f, err := ChartFormat(filepath.Join(dir, "b.jpg")); err == nil || !strings.Contains(err.Error(), ".svg or .png") {
		t.Errorf("a .jpg chart: %q, %v", f, err)
	}
	if err := r.WriteChart(io.Discard, "jpg"); err == nil {
		t.Error("a chart drawn in jpg")
	}
}

// writeChart writes a chart to path in the format its name asks for.
func writeChart(t *testing.T, path string, write func(io.Writer, string) error) {
	t.Helper()
	format, err := ChartFormat(path)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := write(&b, format); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReportJSONRoundTrip(t *testing.T) {
	r := synthetic("CPU", 1, []int{128}, []string{"gcm"}, []string{CryptoAES, "aesni-sealed"}, []int{16})
	r.Support = aeskl.Detect()
	r.Results[1].VsBaseline = &Stat{Median: 2, Min: 1, Max: 3, Samples: []float64{1, 2, 3}}
	var b bytes.Buffer
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"schema": "aeskl-bench/1"`, `"cpu_model": "CPU"`, `"mb_per_s"`, `"vs_baseline": null`, `"peak_fraction": null`, `"microcode": "0x1"`} {
		if !strings.Contains(b.String(), key) {
			t.Errorf("JSON lacks %s", key)
		}
	}
	back, err := ReadReport(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, r) {
		t.Errorf("read back differs:\n%+v\n%+v", back, r)
	}
	for _, schema := range []string{"something-else/1", "aeskl-bench/10", "aeskl-bench/2"} {
		if _, err := ReadReport(strings.NewReader(`{"schema": "` + schema + `"}`)); err == nil || !strings.Contains(err.Error(), "not an aeskl bench report") {
			t.Errorf("schema %s: %v", schema, err)
		}
	}
	// A later version's report: a minor revision of the schema, support
	// facts this version cannot read.
	later := strings.Replace(b.String(), `"schema": "aeskl-bench/1"`, `"schema": "aeskl-bench/1.1"`, 1)
	later = regexp.MustCompile(`"implementation_128": "[^"]*"`).ReplaceAllString(later, `"implementation_128": "quantum-kl"`)
	if !strings.Contains(later, "quantum-kl") {
		t.Fatal("the report has no implementation_128 to change")
	}
	if r2, err := ReadReport(strings.NewReader(later)); err != nil || len(r2.Results) != len(r.Results) {
		t.Errorf("a later report: %v", err)
	}
}

func TestReportTable(t *testing.T) {
	r := synthetic("CPU", 1, []int{128}, []string{"ecb", "gcm"}, []string{CryptoAES, "aesni-sealed"}, []int{16, 4096})
	r.Results[1].VsBaseline = &Stat{Median: 0.25}
	r.Results[1].PeakFraction = &Stat{Median: 0.123}
	var b bytes.Buffer
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	if !strings.HasPrefix(lines[0], "op ") || !strings.Contains(lines[0], "vs crypto/aes") {
		t.Errorf("header %q", lines[0])
	}
	if !strings.Contains(lines[2], "aesni-sealed") || !strings.Contains(lines[2], "0.25x") || !strings.HasSuffix(lines[2], "12.3%") {
		t.Errorf("row %q", lines[2])
	}
	if lines[5] != "" || !strings.HasPrefix(lines[6], "ecb-decrypt") {
		t.Errorf("no blank line between operations:\n%s", b.String())
	}
	for _, l := range lines {
		if strings.HasSuffix(l, " ") {
			t.Errorf("trailing space in %q", l)
		}
	}
}
