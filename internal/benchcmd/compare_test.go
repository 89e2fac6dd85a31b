package benchcmd

import (
	"bytes"
	"image"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func result(op string, bits, size int, impl string, mbps float64) Result {
	o, _ := opByName(op)
	return Result{Op: op, Mode: o.Mode, Direction: o.Direction, Implementation: impl, KeyBits: bits, Size: size,
		MBPerS: Stat{Median: mbps, Min: mbps, Max: mbps, Samples: []float64{mbps}}}
}

// TestCompare: each row holds every report's median and its ratio to the
// first report's; a row a report lacks shows "-"; rows sort by operation,
// key size, size and implementation.
func TestCompare(t *testing.T) {
	a := &Report{Host: Host{CPUModel: "Laptop CPU"}, Results: []Result{
		result("gcm-seal", 128, 4096, "aesni-sealed", 2000),
		result("gcm-seal", 128, 4096, CryptoAES, 1000),
		result("ctr", 128, 16, CryptoAES, 300), // only in A
		result("xts-encrypt", 256, 4096, "keylocker-wide", 800),
	}}
	b := &Report{Host: Host{CPUModel: "Desktop CPU"}, Results: []Result{
		result("gcm-seal", 128, 4096, CryptoAES, 1500),
		result("gcm-seal", 128, 4096, "aesni-sealed", 1000),
		result("gcm-seal", 128, 4096, "generic", 50), // only in B
		result("xts-encrypt", 256, 4096, "keylocker-wide", 2000),
	}}
	c3 := &Report{Host: Host{CPUModel: "Server CPU"}, Results: []Result{
		result("gcm-seal", 128, 4096, CryptoAES, 4000),
	}}
	c := Compare([]string{"a.json", "b.json", "c.json"}, []*Report{a, b, c3})
	type row struct {
		key   string
		mbps  [3]float64
		ratio [3]float64
	}
	nan := math.NaN()
	want := []row{
		{"ctr/128/16/crypto/aes", [3]float64{300, nan, nan}, [3]float64{1, nan, nan}},
		{"gcm-seal/128/4096/crypto/aes", [3]float64{1000, 1500, 4000}, [3]float64{1, 1.5, 4}},
		{"gcm-seal/128/4096/aesni-sealed", [3]float64{2000, 1000, nan}, [3]float64{1, 0.5, nan}},
		{"gcm-seal/128/4096/generic", [3]float64{nan, 50, nan}, [3]float64{nan, nan, nan}},
		{"xts-encrypt/256/4096/keylocker-wide", [3]float64{800, 2000, nan}, [3]float64{1, 2.5, nan}},
	}
	same := func(x, y float64) bool { return x == y || math.IsNaN(x) && math.IsNaN(y) }
	if len(c.Rows) != len(want) {
		t.Fatalf("%d rows, want %d: %+v", len(c.Rows), len(want), c.Rows)
	}
	for i, w := range want {
		got := c.Rows[i]
		key := strings.Join([]string{got.Op, itoa(got.KeyBits), itoa(got.Size), got.Implementation}, "/")
		if key != w.key {
			t.Errorf("row %d is %s, want %s", i, key, w.key)
			continue
		}
		for j := range 3 {
			if !same(got.MBPerS[j], w.mbps[j]) || !same(got.Ratio[j], w.ratio[j]) {
				t.Errorf("%s report %d: %v MB/s ratio %v, want %v, %v", key, j, got.MBPerS[j], got.Ratio[j], w.mbps[j], w.ratio[j])
			}
		}
	}
	var out bytes.Buffer
	if err := c.WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, line := range []string{
		"A: a.json: Laptop CPU, 0 thread(s), ",
		"C: c.json: Server CPU",
		"op           key  size  implementation  A MB/s  B MB/s    B/A  C MB/s    C/A",
		"ctr          128    16  crypto/aes         300       -      -       -      -",
		"gcm-seal     128    4k  crypto/aes        1000    1500  1.50x    4000  4.00x",
		"gcm-seal     128    4k  aesni-sealed      2000    1000  0.50x       -      -",
		"gcm-seal     128    4k  generic              -      50      -       -      -",
		"xts-encrypt  256    4k  keylocker-wide     800    2000  2.50x       -      -",
	} {
		if !strings.Contains(text, line) {
			t.Errorf("table lacks %q:\n%s", line, text)
		}
	}

	// The chart: one panel per operation and key size (ctr/128,
	// gcm-seal/128, xts-encrypt/256), three across.
	path := filepath.Join(t.TempDir(), "c.png")
	writeChart(t, path, c.WriteChart)
	img := readPNG(t, path)
	rows := len(c.chart().legendRows(3 * 240))
	if got := img.Bounds().Size(); got != (image.Point{X: 960, Y: (180 + 24 + 15*rows) * 4 / 3}) {
		t.Errorf("compare chart PNG of %v, want 960 x %d", got, (180+24+15*rows)*4/3)
	}
	for _, name := range []string{CryptoAES, "aesni-sealed", "keylocker-wide", "generic"} {
		if !hasColor(img, palette[implColor(name)]) {
			t.Errorf("no line of %s's color in the compare chart", name)
		}
	}
	svg := filepath.Join(t.TempDir(), "c.svg")
	writeChart(t, svg, c.WriteChart)
	if w, _, text := svgSize(t, svg); w != "720pt" || !strings.Contains(text, "B: Desktop CPU (b.json)") {
		t.Errorf("compare SVG: width %s, text %q", w, text)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
