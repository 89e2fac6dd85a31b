package main

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/go-keylocker/keylocker/aeskl"
	"golang.org/x/crypto/xts"
)

// result is one measured operation.
type result struct {
	Op             string  `json:"op"`
	Implementation string  `json:"implementation"`
	KeyBits        int     `json:"key_bits"`
	Bytes          int     `json:"bytes"`
	NsPerOp        float64 `json:"ns_per_op"`
	MBPerSec       float64 `json:"mb_per_s"`
	VsCryptoAES    float64 `json:"vs_crypto_aes,omitempty"` // throughput ratio, same op
}

// runBench measures every implementation that can run here against
// crypto/aes (and x/crypto/xts), for people comparing Key Locker with
// AES-NI on their own machine. The go test benchmarks in bench/ are the
// reference measurements; this is the quick look.
func runBench(args []string) int {
	fs := flag.NewFlagSet("aeskl bench", flag.ContinueOnError)
	size := fs.Int("size", 4096, "bytes per bulk operation (a multiple of 16)")
	asJSON := fs.Bool("json", false, "print JSON")
	benchtime := fs.Duration("time", 300*time.Millisecond, "time to run each measurement")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(os.Stderr, "aeskl bench: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	testing.Init()
	flag.Set("test.benchtime", benchtime.String())
	if *size <= 0 || *size%16 != 0 {
		fmt.Fprintln(os.Stderr, "aeskl bench: --size must be a positive multiple of 16")
		return 2
	}
	var impls []aeskl.Implementation
	for _, i := range aeskl.Implementations {
		if _, err := aeskl.New(make([]byte, 16), aeskl.WithImplementation(i)); err == nil {
			impls = append(impls, i)
		}
	}
	var results []result
	for _, bits := range []int{128, 256} {
		key := make([]byte, bits/8)
		base := map[string]float64{}
		add := func(op, impl string, n int, f func(b *testing.B)) {
			r := testing.Benchmark(func(b *testing.B) {
				b.SetBytes(int64(n))
				f(b)
			})
			ns := float64(r.T.Nanoseconds()) / float64(r.N)
			res := result{Op: op, Implementation: impl, KeyBits: bits, Bytes: n, NsPerOp: ns, MBPerSec: float64(n) * 1e3 / ns}
			if impl == "crypto/aes" || impl == "x/crypto/xts+crypto/aes" {
				base[op] = res.MBPerSec
			} else if b := base[op]; b > 0 {
				res.VsCryptoAES = res.MBPerSec / b
			}
			results = append(results, res)
		}
		buf := make([]byte, *size)
		iv := make([]byte, 16)
		blocks := map[string]cipher.Block{}
		ref, _ := aes.NewCipher(key)
		blocks["crypto/aes"] = ref
		names := []string{"crypto/aes"}
		for _, i := range impls {
			c, err := aeskl.New(key, aeskl.WithImplementation(i))
			if err != nil {
				continue
			}
			blocks[i.String()] = c
			names = append(names, i.String())
		}
		for _, name := range names {
			blk := blocks[name]
			add("encrypt 1 block", name, 16, func(b *testing.B) {
				for b.Loop() {
					blk.Encrypt(buf, buf)
				}
			})
			add("ctr", name, *size, func(b *testing.B) {
				s := cipher.NewCTR(blk, iv)
				for b.Loop() {
					s.XORKeyStream(buf, buf)
				}
			})
			add("gcm seal", name, *size, func(b *testing.B) {
				g, _ := cipher.NewGCM(blk)
				out := make([]byte, 0, *size+16)
				for b.Loop() {
					out = g.Seal(out[:0], iv[:12], buf, nil)
				}
			})
			add("cbc decrypt", name, *size, func(b *testing.B) {
				m := cipher.NewCBCDecrypter(blk, iv)
				for b.Loop() {
					m.CryptBlocks(buf, buf)
				}
			})
		}
		xkey := make([]byte, 2*len(key))
		xkey[len(key)] = 1
		add("xts", "x/crypto/xts+crypto/aes", *size, func(b *testing.B) {
			x, _ := xts.NewCipher(aes.NewCipher, xkey)
			for b.Loop() {
				x.Encrypt(buf, buf, 1)
			}
		})
		for _, i := range impls {
			x, err := aeskl.NewXTS(xkey, aeskl.WithImplementation(i))
			if err != nil {
				continue
			}
			add("xts", i.String(), *size, func(b *testing.B) {
				for b.Loop() {
					if err := x.Encrypt(buf, buf, 1); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
	if *asJSON {
		e := json.NewEncoder(os.Stdout)
		e.SetIndent("", "  ")
		if err := e.Encode(results); err != nil {
			fmt.Fprintln(os.Stderr, "aeskl:", err)
			return 1
		}
		return 0
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "op\timplementation\tkey\tbytes\tns/op\tMB/s\tvs crypto/aes\t")
	for _, r := range results {
		ratio := ""
		if r.VsCryptoAES > 0 {
			ratio = fmt.Sprintf("%.2fx", r.VsCryptoAES)
		}
		fmt.Fprintf(w, "%s\t%s\tAES-%d\t%d\t%.1f\t%.0f\t%s\t\n", r.Op, r.Implementation, r.KeyBits, r.Bytes, r.NsPerOp, r.MBPerSec, ratio)
	}
	w.Flush()
	return 0
}
