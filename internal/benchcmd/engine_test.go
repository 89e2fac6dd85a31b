package benchcmd

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-keylocker/keylocker/aeskl"
	"golang.org/x/crypto/xts"
)

// reference computes op on in with crypto/aes, crypto/cipher and
// x/crypto/xts directly, as the workers must.
func reference(t *testing.T, op Op, key, tweakKey, in []byte) []byte {
	t.Helper()
	b, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, len(in))
	switch op.Name {
	case "ecb-encrypt":
		for i := 0; i < len(in); i += 16 {
			b.Encrypt(out[i:], in[i:])
		}
	case "ecb-decrypt":
		for i := 0; i < len(in); i += 16 {
			b.Decrypt(out[i:], in[i:])
		}
	case "ctr":
		cipher.NewCTR(b, benchIV).XORKeyStream(out, in)
	case "cbc-encrypt":
		cipher.NewCBCEncrypter(b, benchIV).CryptBlocks(out, in)
	case "cbc-decrypt":
		cipher.NewCBCDecrypter(b, benchIV).CryptBlocks(out, in)
	case "gcm-seal":
		g, _ := cipher.NewGCM(b)
		out = g.Seal(nil, benchNonce, in, nil)
	case "gcm-open":
		out = append([]byte(nil), in...) // Open returns the plaintext
	case "xts-encrypt", "xts-decrypt":
		x, err := xts.NewCipher(aes.NewCipher, append(append([]byte(nil), key...), tweakKey...))
		if err != nil {
			t.Fatal(err)
		}
		if op.Direction == "encrypt" {
			x.Encrypt(out, in, 1)
		} else {
			x.Decrypt(out, in, 1)
		}
	default:
		t.Fatalf("no reference for %s", op.Name)
	}
	return out
}

// TestWorkersCompute: every implementation that runs here computes what
// crypto/aes, crypto/cipher and x/crypto/xts compute for every operation,
// key size and a short and a long size, so the bench measures the real
// work.
func TestWorkersCompute(t *testing.T) {
	for _, name := range KnownImpls() {
		for _, bits := range []int{128, 192, 256} {
			if why := unavailable(name, bits); why != "" {
				t.Logf("%s AES-%d: not run here: %s", name, bits, why)
				continue
			}
			for _, op := range Ops {
				if !runsMode(name, op.Mode) {
					if _, err := newWorker(name, op, make([]byte, bits/8), make([]byte, bits/8), make([]byte, 16)); err == nil {
						t.Errorf("%s has no %s, but a worker was made", name, op.Name)
					}
					continue
				}
				for _, size := range []int{16, 4096 + 48} {
					key, tweakKey, in := make([]byte, bits/8), make([]byte, bits/8), make([]byte, size)
					rand.Read(key)
					rand.Read(tweakKey)
					rand.Read(in)
					w, err := newWorker(name, op, key, tweakKey, in)
					if err != nil {
						t.Fatalf("%s %s AES-%d: %v", name, op.Name, bits, err)
					}
					if err := w.run(); err != nil {
						t.Fatalf("%s %s AES-%d %d bytes: %v", name, op.Name, bits, size, err)
					}
					if want := reference(t, op, key, tweakKey, in); !bytes.Equal(w.out, want) {
						t.Errorf("%s %s AES-%d %d bytes: wrong output", name, op.Name, bits, size)
					}
					w.close()
				}
			}
		}
	}
}

func TestMeasure(t *testing.T) {
	var calls [3]atomic.Int64
	runs := make([]func() error, 3)
	for i := range runs {
		runs[i] = func() error { calls[i].Add(1); return nil }
	}
	n, elapsed, err := measure(runs, 7, 5*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for i := range calls {
		c := calls[i].Load()
		if c == 0 || c%7 != 0 {
			t.Errorf("runner %d made %d calls: want whole batches of 7, at least one", i, c)
		}
		sum += c
	}
	if n != sum {
		t.Errorf("measure counted %d calls, the runners made %d", n, sum)
	}
	if elapsed < 5*time.Millisecond {
		t.Errorf("elapsed %v, shorter than the time asked for", elapsed)
	}
	// A slow runner: at least one batch, and the time includes it.
	slow := []func() error{func() error { time.Sleep(20 * time.Millisecond); return nil }}
	if n, elapsed, _ := measure(slow, 1, time.Millisecond); n != 1 || elapsed < 20*time.Millisecond {
		t.Errorf("slow runner: %d calls in %v, want 1 in >= 20ms", n, elapsed)
	}
	boom := errors.New("boom")
	bad := []func() error{func() error { return boom }}
	if _, _, err := measure(bad, 4, time.Millisecond); !errors.Is(err, boom) {
		t.Errorf("a failing run: %v, want boom", err)
	}
	spin := func() error { // 100us of work, however busy the machine
		for t0 := time.Now(); time.Since(t0) < 100*time.Microsecond; {
		}
		return nil
	}
	// Each call takes at least 100us, so 2ms holds at most 20 (21 with
	// rounding); a preempted call takes longer, so no lower bound but one.
	b, err := calibrate(spin, 2*time.Millisecond)
	if err != nil || b < 1 || b > 21 {
		t.Errorf("calibrate for 2ms of 100us calls: %d, %v (want 1 to 21: 20 on an idle machine)", b, err)
	}
	// Calls that take next to nothing: many per batch.
	if b, err := calibrate(func() error { return nil }, 2*time.Millisecond); err != nil || b < 1000 {
		t.Errorf("calibrate for 2ms of empty calls: %d, %v (want thousands)", b, err)
	}
}

func TestStat(t *testing.T) {
	s := stat([]float64{3e6, 1e6, 2e6, 10e6}, 1e-6)
	if s.Median != 2.5 || s.Min != 1 || s.Max != 10 || !slices.Equal(s.Samples, []float64{3, 1, 2, 10}) {
		t.Errorf("stat: %+v", s)
	}
	if got := s.Spread(); math.Abs(got-4.5/2.5) > 1e-12 {
		t.Errorf("spread %v, want %v", got, 4.5/2.5)
	}
	if s := stat([]float64{5, 1, 3}, 1); s.Median != 3 {
		t.Errorf("odd median %v", s.Median)
	}
	r := ratioStat([]float64{2, 9, 4}, []float64{1, 3, 8}, 1)
	if r.Median != 2 || r.Min != 0.5 || r.Max != 3 {
		t.Errorf("ratio stat %+v, want the median of 2, 3, 0.5", r)
	}
	for in, want := range map[float64]float64{12345.678: 12345.68, 0.123456: 0.1235, 1.23456: 1.235, 0.000123456: 0.0001235} {
		if got := tidy(in); got != want {
			t.Errorf("tidy(%v) = %v, want %v", in, got, want)
		}
	}
}

// TestRun runs a short bench of every mode and checks what the report
// says against the measurements it holds: every case, ratios computed per
// repetition against the baseline, fractions against the peak, progress.
func TestRun(t *testing.T) {
	var calls []string
	last := -1
	cfg := Config{Sizes: []int{16, 64}, KeyBits: []int{128}, Threads: 2, Time: time.Millisecond, Count: 2,
		Progress: func(done, total int, what string) {
			if done != last+1 && !(done == total && what == "done") {
				t.Errorf("progress went from %d to %d", last, done)
			}
			last = done
			calls = append(calls, fmt.Sprintf("%d/%d %s", done, total, what))
		}}
	r, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var impls []string
	for _, name := range KnownImpls() {
		if why := unavailable(name, 128); why == "" {
			impls = append(impls, name)
		} else if !slices.ContainsFunc(r.Notes, func(n string) bool {
			return strings.HasPrefix(n, name+" does not run here with AES-128: ") && strings.Contains(n, why)
		}) {
			t.Errorf("no note says why %s did not run (%s): %q", name, why, r.Notes)
		}
	}
	want := 0
	for _, op := range Ops {
		for _, name := range impls {
			if runsMode(name, op.Mode) {
				want += len(cfg.Sizes)
			}
		}
	}
	if len(r.Results) != want {
		t.Errorf("%d results, want %d", len(r.Results), want)
	}
	peaks := len(peakWidths(aeskl.Detect()))
	if total := cfg.Count * (want + peaks); len(calls) != total+1 || !strings.HasPrefix(calls[len(calls)-1], fmt.Sprintf("%d/%d done", total, total)) {
		t.Errorf("%d progress calls (last %q), want %d and a final done", len(calls), calls[len(calls)-1], total+1)
	}
	if !slices.ContainsFunc(calls, func(c string) bool { return strings.Contains(c, "repetition 2/2: gcm-open AES-128 64 crypto/aes") }) {
		t.Errorf("progress never named the case gcm-open AES-128 64 crypto/aes: %q", calls)
	}
	type key struct {
		op, impl string
		size     int
	}
	byKey := map[key]Result{}
	for _, res := range r.Results {
		byKey[key{res.Op, res.Implementation, res.Size}] = res
		if len(res.MBPerS.Samples) != cfg.Count || res.MBPerS.Min <= 0 || res.MBPerS.Median < res.MBPerS.Min || res.MBPerS.Median > res.MBPerS.Max {
			t.Errorf("%s %s %d: throughput %+v", res.Op, res.Implementation, res.Size, res.MBPerS)
		}
	}
	for _, res := range r.Results {
		base, ok := byKey[key{res.Op, res.Baseline, res.Size}]
		switch {
		case !ok:
			t.Errorf("%s: baseline %s not measured", res.Op, res.Baseline)
		case res.Implementation == res.Baseline:
			if res.VsBaseline != nil {
				t.Errorf("%s %s: a ratio to itself", res.Op, res.Implementation)
			}
		case res.VsBaseline == nil:
			t.Errorf("%s %s: no ratio", res.Op, res.Implementation)
		default:
			for i, v := range res.VsBaseline.Samples {
				if w := res.MBPerS.Samples[i] / base.MBPerS.Samples[i]; math.Abs(v-w) > 2e-3*w+1e-3 {
					t.Errorf("%s %s %d: ratio of repetition %d is %v, its throughputs say %v", res.Op, res.Implementation, res.Size, i, v, w)
				}
			}
		}
		if r.Peak == nil {
			if res.PeakFraction != nil {
				t.Errorf("a fraction of the peak without a peak")
			}
			continue
		}
		for i, v := range res.PeakFraction.Samples {
			if w := res.MBPerS.Samples[i] / r.Peak.AES128.Samples[i]; math.Abs(v-w) > 2e-3*w+1e-4 {
				t.Errorf("%s %s %d: fraction of repetition %d is %v, throughput over peak is %v", res.Op, res.Implementation, res.Size, i, v, w)
			}
		}
	}
	if r.Peak != nil {
		best := 0.0
		for _, w := range r.Peak.Widths {
			best = max(best, w.MBPerS.Samples[0])
		}
		if r.Peak.AES128.Samples[0] != best {
			t.Errorf("peak of repetition 1 is %v, the best width %v", r.Peak.AES128.Samples[0], best)
		}
	}
	if r.Schema != Schema || r.Host.LogicalCPUs < 1 || r.Settings.Threads != 2 || r.Build.GoVersion == "" {
		t.Errorf("report facts: schema %q host %+v settings %+v build %+v", r.Schema, r.Host, r.Settings, r.Build)
	}
}

func TestRunRefuses(t *testing.T) {
	base := Config{Sizes: []int{16}, KeyBits: []int{128}, Time: time.Millisecond, Count: 1}
	for _, c := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Time = 0 }, "time"},
		{func(c *Config) { c.Count = 0 }, "repetition"},
		{func(c *Config) { c.Threads = -1 }, "thread"},
		{func(c *Config) { c.Modes, c.Impls = []string{"xts"}, []string{CryptoAES} }, "nothing to measure"},
		{func(c *Config) { c.Impls, c.KeyBits = []string{aeskl.KeyLockerWide.String()}, []int{192} }, "cannot run here"},
	} {
		cfg := base
		c.edit(&cfg)
		if _, err := Run(cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Run(%+v): %v, want an error about %q", cfg, err, c.want)
		}
	}
}
