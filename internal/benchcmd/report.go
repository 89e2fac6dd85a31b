package benchcmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-keylocker/keylocker/aeskl"
	"github.com/go-keylocker/keylocker/internal/cliutil"
)

// Schema names the JSON format of a Report. It changes only with an
// incompatible change of the format (a new major number).
const Schema = "aeskl-bench/1"

// A Report is what one bench run measured, with what it ran on. Its JSON
// form (snake_case keys) is the documented, stable format of
// `aeskl bench --json` that `aeskl bench compare` reads.
type Report struct {
	Schema          string            `json:"schema"`  // Schema
	Created         time.Time         `json:"created"` // when the run ended (RFC 3339, UTC)
	Host            Host              `json:"host"`
	Build           cliutil.BuildInfo `json:"build"`   // the aeskl binary: module, version, VCS revision, Go version
	Support         aeskl.Support     `json:"support"` // aeskl.Detect(): the facts of `aeskl info --json`
	Settings        Settings          `json:"settings"`
	Implementations []ImplInfo        `json:"implementations"`
	Peak            *Peak             `json:"peak"` // null where this build has no raw AES loop
	Results         []Result          `json:"results"`
	Notes           []string          `json:"notes"`
}

// Settings are the run's parameters.
type Settings struct {
	Modes           []string `json:"modes"`
	Sizes           []int    `json:"sizes"` // bytes per operation
	KeyBits         []int    `json:"key_bits"`
	Implementations []string `json:"implementations"` // those that ran
	Threads         int      `json:"threads"`         // goroutines running each case at once
	GOMAXPROCS      int      `json:"gomaxprocs"`
	RepetitionTime  float64  `json:"repetition_seconds"` // how long each repetition of a case ran
	Repetitions     int      `json:"repetitions"`        // of each case, interleaved
}

// ImplInfo says what an implementation is and which path it takes here.
type ImplInfo struct {
	Name   string `json:"name"`           // as --impl names it
	Kind   string `json:"kind"`           // "aeskl" or "peer"
	Path   string `json:"path,omitempty"` // aesni-sealed: the bulk path (aes-ni, vaes-ymm, vaes-zmm)
	Detail string `json:"detail"`
}

// A Stat summarizes the repetitions of one figure.
type Stat struct {
	Median  float64   `json:"median"`
	Min     float64   `json:"min"`
	Max     float64   `json:"max"`
	Samples []float64 `json:"samples"` // one per repetition, in the order they ran
}

// Spread is half the range of s as a fraction of its median: the ± of the
// table.
func (s Stat) Spread() float64 {
	if s.Median == 0 {
		return 0
	}
	return (s.Max - s.Min) / 2 / s.Median
}

// Peak is the CPU's raw AES rate, measured in each repetition.
type Peak struct {
	Method string      `json:"method"`
	Widths []PeakWidth `json:"widths"`
	// AES128 is the best width's rate of each repetition, in MB/s (10^6
	// bytes per second) of AES-128; the peak of a key size with r rounds
	// is AES128 * 10 / r (12 rounds for AES-192, 14 for AES-256).
	AES128 Stat `json:"aes128_mb_per_s"`
}

// PeakWidth is the raw rate of one register width.
type PeakWidth struct {
	Bits   int  `json:"width_bits"` // 128 (xmm, AES-NI), 256 (ymm, VAES), 512 (zmm, VAES)
	MBPerS Stat `json:"mb_per_s"`
}

// A Result is one operation of one implementation with one key size and
// one size.
type Result struct {
	Op             string `json:"op"`        // from Ops: "gcm-seal"
	Mode           string `json:"mode"`      // "gcm"
	Direction      string `json:"direction"` // "seal"
	Implementation string `json:"implementation"`
	KeyBits        int    `json:"key_bits"`
	Size           int    `json:"size"` // bytes per operation
	// MBPerS is the aggregate throughput of all threads in 10^6 bytes per
	// second; NsPerOp the time of one operation of one thread at the
	// median (threads * size / median throughput).
	MBPerS  Stat    `json:"mb_per_s"`
	NsPerOp float64 `json:"ns_per_op"`
	// Baseline is the implementation VsBaseline compares with: crypto/aes,
	// or for xts x/crypto/xts over crypto/aes. VsBaseline is the ratio of
	// this throughput to the baseline's in the same repetition (greater
	// is faster); null for the baseline itself or when it did not run.
	Baseline   string `json:"baseline"`
	VsBaseline *Stat  `json:"vs_baseline"`
	// PeakFraction is this throughput as a fraction of the raw AES rate of
	// the key size in the same repetition (Peak); null without one.
	PeakFraction *Stat `json:"peak_fraction"`
}

// rounds is the number of AES rounds for a key size.
func rounds(bits int) int { return 6 + bits/32 }

// Run measures what cfg asks for and returns the report.
func Run(cfg Config) (*Report, error) {
	if cfg.Modes == nil {
		cfg.Modes = Modes
	}
	if cfg.Threads == 0 {
		cfg.Threads = runtime.NumCPU()
	}
	switch {
	case cfg.Time <= 0:
		return nil, errors.New("the time of a repetition must be > 0")
	case cfg.Count < 1:
		return nil, errors.New("at least one repetition is needed")
	case cfg.Threads < 1:
		return nil, errors.New("at least one thread is needed")
	case len(cfg.Sizes) == 0 || len(cfg.KeyBits) == 0 || len(cfg.Modes) == 0:
		return nil, errors.New("no size, key size or mode to measure")
	}
	cases, impls, notes, err := plan(cfg)
	if err != nil {
		return nil, err
	}
	sup := aeskl.Detect()
	widths := peakWidths(sup)
	peakSamples := make([][]float64, len(widths))
	peakIters := make([]int, len(widths))
	total := cfg.Count * (len(cases) + len(widths))
	done := 0
	progress := func(what string) {
		if cfg.Progress != nil {
			cfg.Progress(done, total, what)
		}
		done++
	}
	for rep := range cfg.Count {
		at := fmt.Sprintf("repetition %d/%d: ", rep+1, cfg.Count)
		for i, w := range widths {
			progress(fmt.Sprintf("%sraw AES peak, %d-bit registers", at, 8*w))
			if peakIters[i] == 0 {
				n, err := calibrate(peakCall(w, 1), batchTime(cfg.Time))
				if err != nil {
					return nil, err
				}
				peakIters[i] = n
			}
			runs := make([]func() error, cfg.Threads)
			for t := range runs {
				runs[t] = peakCall(w, peakIters[i])
			}
			calls, elapsed, err := measure(runs, 1, cfg.Time)
			if err != nil {
				return nil, err
			}
			peakSamples[i] = append(peakSamples[i], float64(calls)*float64(peakIters[i]*12*w)/elapsed.Seconds())
		}
		for _, c := range cases {
			progress(at + c.String())
			if err := runCase(c, cfg.Threads, cfg.Time); err != nil {
				return nil, err
			}
		}
	}
	if cfg.Progress != nil {
		cfg.Progress(total, total, "done")
	}

	r := &Report{
		Schema:  Schema,
		Created: time.Now().UTC().Round(time.Second),
		Host:    readHost(sup),
		Build:   cliutil.ReadBuildInfo(),
		Support: sup,
		Settings: Settings{Modes: cfg.Modes, Sizes: cfg.Sizes, KeyBits: cfg.KeyBits, Implementations: impls,
			Threads: cfg.Threads, GOMAXPROCS: runtime.GOMAXPROCS(0), RepetitionTime: cfg.Time.Seconds(), Repetitions: cfg.Count},
		Notes: append([]string{}, notes...),
	}
	for _, name := range impls {
		r.Implementations = append(r.Implementations, implInfo(name, sup))
	}
	var peak128 []float64 // bytes per second, per repetition
	if len(widths) > 0 {
		r.Peak = &Peak{Method: fmt.Sprintf("internal/asm/peak: %d goroutines each run AESENC/VAESENC on 12 independent "+
			"registers with a round key in a register, 9 rounds and a last round per block, nothing loaded or stored, "+
			"for each register width in each repetition; the best width's rate is the peak", cfg.Threads)}
		peak128 = make([]float64, cfg.Count)
		for i, w := range widths {
			r.Peak.Widths = append(r.Peak.Widths, PeakWidth{Bits: 8 * w, MBPerS: stat(peakSamples[i], 1e-6)})
			for rep, v := range peakSamples[i] {
				peak128[rep] = max(peak128[rep], v)
			}
		}
		r.Peak.AES128 = stat(peak128, 1e-6)
	} else {
		r.Notes = append(r.Notes, "this build has no raw AES loop (it needs amd64 assembly): no fraction of the peak")
	}
	type key struct {
		op         string
		bits, size int
		impl       string
	}
	byKey := map[key]*benchCase{}
	for _, c := range cases {
		byKey[key{c.op.Name, c.bits, c.size, c.impl}] = c
	}
	for _, c := range cases {
		res := Result{Op: c.op.Name, Mode: c.op.Mode, Direction: c.op.Direction, Implementation: c.impl,
			KeyBits: c.bits, Size: c.size, MBPerS: stat(c.samples, 1e-6), Baseline: baseline(c.op.Mode)}
		res.NsPerOp = tidy(float64(cfg.Threads) * float64(c.size) / (res.MBPerS.Median * 1e6) * 1e9)
		if b := byKey[key{c.op.Name, c.bits, c.size, res.Baseline}]; b != nil && b != c {
			res.VsBaseline = ptr(ratioStat(c.samples, b.samples, 1))
		}
		if peak128 != nil {
			p := make([]float64, len(peak128))
			for i, v := range peak128 {
				p[i] = v * 10 / float64(rounds(c.bits))
			}
			res.PeakFraction = ptr(ratioStat(c.samples, p, 1))
		}
		r.Results = append(r.Results, res)
	}
	return r, nil
}

func ptr[T any](v T) *T { return &v }

// stat summarizes samples scaled by scale (rounded to 4 significant
// digits or 0.01, whichever is finer).
func stat(samples []float64, scale float64) Stat {
	s := Stat{Samples: make([]float64, len(samples))}
	for i, v := range samples {
		s.Samples[i] = tidy(v * scale)
	}
	sorted := slices.Sorted(slices.Values(s.Samples))
	s.Min, s.Max = sorted[0], sorted[len(sorted)-1]
	if n := len(sorted); n%2 == 1 {
		s.Median = sorted[n/2]
	} else {
		s.Median = tidy((sorted[n/2-1] + sorted[n/2]) / 2)
	}
	return s
}

// tidy rounds v to 4 significant digits, or to 2 decimals when that is
// finer, as the nearest float64 to the decimal (so JSON shows it short).
func tidy(v float64) float64 {
	if v == 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return v
	}
	d := max(2, 3-int(math.Floor(math.Log10(math.Abs(v)))))
	t, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', d, 64), 64)
	return t
}

// ratioStat summarizes a[i]/b[i] over the repetitions.
func ratioStat(a, b []float64, scale float64) Stat {
	r := make([]float64, min(len(a), len(b)))
	for i := range r {
		r[i] = a[i] / b[i]
	}
	return stat(r, scale)
}

// implInfo describes implementation name as it runs here.
func implInfo(name string, s aeskl.Support) ImplInfo {
	switch name {
	case CryptoAES:
		d := "Go standard library"
		if s.AESNI && s.Arch == "amd64" {
			d += " (AES-NI assembly where the build allows it)"
		}
		return ImplInfo{Name: name, Kind: "peer", Detail: d + "; ECB as Block.Encrypt per block, the modes from crypto/cipher"}
	case XCryptoXTS:
		return ImplInfo{Name: name, Kind: "peer", Detail: "golang.org/x/crypto/xts over crypto/aes"}
	}
	info := ImplInfo{Name: name, Kind: "aeskl"}
	switch name {
	case aeskl.KeyLockerWide.String():
		info.Detail = "Intel Key Locker, AES*WIDE*KL: 8 blocks per instruction"
	case aeskl.KeyLocker.String():
		info.Detail = "Intel Key Locker, one block per instruction"
	case aeskl.AESNISealed.String():
		info.Path = s.SealedPath
		info.Detail = "sealed AES-NI/VAES: the handle unwrapped in registers once per call, bulk path " + s.SealedPath
	case aeskl.Generic.String():
		info.Detail = "portable Go: constant-time bitsliced AES on the sealed handle"
	}
	return info
}

// WriteJSON writes r as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(r)
}

// ReadReport reads a report written by WriteJSON and checks its schema.
// The support facts are read as far as this version of aeskl understands
// them (a report from a later version may name an implementation this one
// does not know): they do not take part in comparisons.
func ReadReport(rd io.Reader) (*Report, error) {
	type plain Report // without methods
	var raw struct {
		plain
		Support json.RawMessage `json:"support"`
	}
	if err := json.NewDecoder(rd).Decode(&raw); err != nil {
		return nil, err
	}
	r := Report(raw.plain)
	if !strings.HasPrefix(r.Schema, Schema) || len(r.Schema) > len(Schema) && r.Schema[len(Schema)] != '.' {
		return nil, fmt.Errorf("not an aeskl bench report (schema %q, want %q)", r.Schema, Schema)
	}
	if len(raw.Support) > 0 {
		json.Unmarshal(raw.Support, &r.Support) // best effort
	}
	return &r, nil
}

// Describe writes the lines that say what r ran on and how it measured.
func (r *Report) Describe(w io.Writer) {
	h := r.Host
	cpu := h.CPUModel
	if h.Microcode != "" {
		cpu += ", microcode " + h.Microcode
	}
	osName := h.OS
	if h.OSRelease != "" {
		osName += " " + h.OSRelease
	}
	fmt.Fprintf(w, "CPU: %s; %s/%s, %d logical CPUs, %s\n", cpu, osName, h.Arch, h.LogicalCPUs, r.Build.GoVersion)
	for _, i := range r.Implementations {
		fmt.Fprintf(w, "  %-15s %s\n", i.Name+":", i.Detail)
	}
	s := r.Settings
	fmt.Fprintf(w, "Each figure: %d thread(s) together, the median of %d interleaved repetitions of %v; "+
		"± is half their range as a share of the median.\n", s.Threads, s.Repetitions, time.Duration(s.RepetitionTime*float64(time.Second)))
	fmt.Fprintln(w, "MB/s is 10^6 bytes per second. Ratios are against crypto/aes (xts: x/crypto/xts over crypto/aes), per repetition.")
	if p := r.Peak; p != nil {
		var ws []string
		for _, pw := range p.Widths {
			ws = append(ws, fmt.Sprintf("%d-bit %.0f", pw.Bits, pw.MBPerS.Median))
		}
		fmt.Fprintf(w, "AES peak (raw AESENC/VAESENC loop over registers, %d thread(s)): %.0f MB/s for AES-128 (%s); "+
			"%% of peak is against it, scaled by 10/rounds for longer keys.\n", s.Threads, p.AES128.Median, strings.Join(ws, ", "))
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "Note: %s\n", n)
	}
}

// WriteTable writes the results as a text table, one line per result, a
// blank line between operations.
func (r *Report) WriteTable(w io.Writer) error {
	t := &table{head: []string{"op", "key", "size", "implementation", "MB/s", "±", "vs crypto/aes", "% of peak"},
		right: []bool{false, true, true, false, true, true, true, true}}
	prev := ""
	for _, res := range r.Results {
		if prev != "" && res.Op != prev {
			t.blank()
		}
		prev = res.Op
		ratio, frac := "", ""
		if res.VsBaseline != nil {
			ratio = fmt.Sprintf("%.2fx", res.VsBaseline.Median)
		}
		if res.PeakFraction != nil {
			frac = fmt.Sprintf("%.1f%%", 100*res.PeakFraction.Median)
		}
		t.add(res.Op, strconv.Itoa(res.KeyBits), SizeLabel(res.Size), res.Implementation,
			fmt.Sprintf("%.0f", res.MBPerS.Median), fmt.Sprintf("%.0f%%", 100*res.MBPerS.Spread()), ratio, frac)
	}
	return t.write(w)
}
