//go:build amd64 && !purego

package aeskl

import (
	"testing"
	"time"

	"github.com/go-keylocker/keylocker/internal/asm/peak"
)

// BenchmarkSealedPeak measures EncryptBlocks over 64 KiB on each sealed
// path (aes-ni, vaes-ymm, vaes-zmm, forced in turn) against the raw AES-128
// rate of the same register width on this CPU, taken in the same run
// (peak.AES: 12 independent blocks per register set, round keys in
// registers, nothing loaded or stored). ns/op and MB/s are EncryptBlocks';
// the %peak metric is its throughput as a percentage of the raw rate.
//
//	go test -run '^$' -bench SealedPeak ./aeskl
func BenchmarkSealedPeak(b *testing.B) {
	s := detect()
	widths := [...]int{16, 32, 64}
	for p, name := range sealedPathNames {
		b.Run(name, func(b *testing.B) {
			if unavailable(s, AESNISealed, 16, 0) != "" || !sealedPathUsable(s, p) {
				b.Skipf("this CPU cannot run the %s path", name)
			}
			c, err := New(make([]byte, 16), WithImplementation(AESNISealed), withSealedPath(p))
			if err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, 64<<10)
			w := widths[p]
			iters := len(buf) / (12 * w) // one peak.AES call covers 64 KiB
			b.SetBytes(int64(len(buf)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := c.EncryptBlocks(buf, buf); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			sealed := b.Elapsed()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				peak.AES(w, iters)
			}
			raw := time.Since(start)
			rawBytes := float64(b.N) * float64(iters*12*w)
			b.ReportMetric(100*(float64(b.N)*float64(len(buf))/sealed.Seconds())/(rawBytes/raw.Seconds()), "%peak")
		})
	}
}
