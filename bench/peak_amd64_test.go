//go:build amd64 && !purego

package bench

import (
	"testing"

	"github.com/go-keylocker/keylocker/aeskl"
	"github.com/go-keylocker/keylocker/internal/asm/peak"
)

// BenchmarkRawAES is the ceiling of every other benchmark here: the CPU's
// raw AES-128 rate per register width (internal/asm/peak: 12 independent
// blocks per register set, the round key in a register, nothing loaded
// or stored), on one goroutine. No AES-128 mode of that width can run
// faster, so its ratio to crypto/aes's CTR in the same run bounds what
// any mode can gain over crypto/aes on this CPU (on CPUs whose 512-bit
// AES runs as two 256-bit halves, zmm is no faster than ymm).
func BenchmarkRawAES(b *testing.B) {
	const iters = 64
	s := aeskl.Detect()
	for _, w := range []struct {
		name  string
		width int
		ok    bool
	}{
		{"xmm", 16, s.AESNI},
		{"ymm", 32, s.VAES && s.AVX2},
		{"zmm", 64, s.VAES && s.AVX512},
	} {
		b.Run(w.name, func(b *testing.B) {
			if !w.ok {
				b.Skipf("this CPU has no %d-bit AES", 8*w.width)
			}
			b.SetBytes(int64(12 * w.width * iters))
			for b.Loop() {
				peak.AES(w.width, iters)
			}
		})
	}
}
