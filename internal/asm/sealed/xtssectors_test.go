//go:build amd64 && !purego

package sealed

import (
	"bytes"
	"crypto/aes"
	"fmt"
	"runtime"
	"testing"

	"golang.org/x/sys/cpu"

	"github.com/go-keylocker/keylocker/internal/asm/asmtest"
	"github.com/go-keylocker/keylocker/internal/kernel"
	"github.com/go-keylocker/keylocker/internal/kernel/kerneltest"
)

// TestSealedXTSSectorsRegsClear: after SealedXTSSectors, on every path, key
// size, direction and with a good or a changed handle, the vector
// registers are zero and neither the data key, its round keys, a sector's
// tweak nor a block tweak derived from it is left in the routine's stack
// area. (Its results are checked on every path by aeskl's conformance
// suite.)
func TestSealedXTSSectorsRegsClear(t *testing.T) {
	sealedRequireAESNI(t)
	if !cpu.X86.HasAVX512F {
		t.Skip("the register dump helper needs AVX-512F")
	}
	asmtest.Escape(SealedXTSSectors) // linked: called only through its address
	region, _ := sealedRegion(t, nil)
	for _, n := range []int{16, 24, 32} {
		key, tkey, h, _ := smKeys(t, region, n)
		bad := *h
		bad[20] ^= 1
		rks := sealedExpand(key)
		tb, _ := aes.NewCipher(tkey)
		for _, path := range sealedPaths() {
			for _, geom := range [][2]int{{1, 16}, {3, 48}, {2, 512}, {5, 4096}} {
				for _, flags := range []int{0, kernel.ModeDecrypt} {
					for _, hh := range []*Handle{h, &bad} {
						count, size := geom[0], geom[1]
						what := fmt.Sprintf("AES-%d %s %d x %d bytes flags %d good %v", 8*n, sealedPathNames[path], count, size, flags, hh == h)
						src := sealedRand(count * size)
						dst := make([]byte, len(src))
						tweaks := make([]byte, 16*count)
						for i := range count {
							tweaks[16*i] = byte(i + 1)
							tb.Encrypt(tweaks[16*i:], tweaks[16*i:])
						}
						var out [48][64]byte
						w := append(append(append([]uint64{asmtest.Word(region), asmtest.Word(hh)}, asmtest.SliceWords(dst)...), asmtest.SliceWords(src)...),
							asmtest.Word(&tweaks[0]), uint64(size), uint64(flags), uint64(path))
						f := callZ(t, asmtest.CallABI0Z, "SealedXTSSectors", w, 13, &out)
						runtime.KeepAlive(region)
						runtime.KeepAlive(hh)
						runtime.KeepAlive(dst)
						runtime.KeepAlive(src)
						runtime.KeepAlive(tweaks)
						if ok := f[12]&0xFF != 0; ok != (hh == h) {
							t.Fatalf("%s: returned %v", what, ok)
						}
						regs, width := 16, 16
						if hh == h && path == PathVAES256 {
							width = 64
						}
						if hh == h && path == PathVAES512 {
							regs, width = 32, 64
						}
						for r := 0; r < regs; r++ {
							if !bytes.Equal(out[r][:width], make([]byte, width)) {
								t.Fatalf("%s: Z%d not clear after return: %x", what, r, out[r])
							}
						}
						flat := bytes.Join(func() [][]byte {
							var b [][]byte
							for i := range out[32:] {
								b = append(b, out[32+i][:])
							}
							return b
						}(), nil)
						for i, rk := range rks {
							if bytes.Contains(flat, rk[:8]) {
								t.Fatalf("%s: round key %d left on the stack", what, i)
							}
						}
						if bytes.Contains(flat, key[n-8:]) {
							t.Fatalf("%s: key left on the stack", what)
						}
						for i := range count {
							// The sector's tweak and the block tweaks derived from it
							// (the first 32, a zmm batch's).
							var tw [16]byte
							copy(tw[:], tweaks[16*i:])
							for b := range 32 {
								if bytes.Contains(flat, tw[:8]) || bytes.Contains(flat, tw[8:]) {
									t.Fatalf("%s: the tweak of sector %d, block %d, left on the stack", what, i, b)
								}
								kerneltest.XTSDouble(&tw)
							}
						}
					}
				}
			}
		}
	}
}

// TestSealedXTSSectorsBadGeometry: a sector size that is zero, not a
// multiple of 16 or does not divide the data is refused before anything is
// written, on every path.
func TestSealedXTSSectorsBadGeometry(t *testing.T) {
	sealedRequireAESNI(t)
	region, _ := sealedRegion(t, nil)
	_, _, h, _ := smKeys(t, region, 16)
	tweaks := make([]byte, 16*8)
	for _, path := range sealedPaths() {
		for _, c := range []struct{ n, size int }{{512, 0}, {512, 8}, {512, 24}, {512, 1024}, {48, 32}} {
			src := sealedRand(c.n)
			dst := make([]byte, c.n)
			if SealedXTSSectors(region, h, dst, src, &tweaks[0], c.size, 0, path) {
				t.Errorf("%s: %d bytes in sectors of %d accepted", sealedPathNames[path], c.n, c.size)
			}
			if !bytes.Equal(dst, make([]byte, c.n)) {
				t.Errorf("%s: %d bytes in sectors of %d: output written", sealedPathNames[path], c.n, c.size)
			}
		}
	}
}
