//go:build amd64 && !purego && linux

package sealed

import (
	"fmt"
	"testing"
	"unsafe"

	"golang.org/x/sys/cpu"

	"github.com/go-keylocker/keylocker/internal/guardtest"
	"github.com/go-keylocker/keylocker/internal/kernel"
)

// state16 returns a 16-byte state block against an inaccessible page
// (after it, or before it), holding v.
func state16(t *testing.T, end bool, v [16]byte) *[16]byte {
	b := (*[16]byte)(guardtest.Buffer(t, 16, end))
	*b = v
	return b
}

// TestSealedGCMStateGuardPages: the GCM kernels read and write their
// 16-byte state arguments (j0, tagMask, acc, lens) and a batch's message
// descriptors, and nothing next to them: each lies against an
// inaccessible page on either side, on every path.
func TestSealedGCMStateGuardPages(t *testing.T) {
	region, _ := sealedRegion(t, nil)
	_, h, _, tbl := gcmKey(t, region, 16)
	zmm := cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512VPCLMULQDQ
	for _, end := range []bool{true, false} {
		for _, size := range []int{1, 16, 100, 1000, GCMBatch + 17} {
			src := guardtest.Buffer(t, size, end)
			dst := guardtest.Buffer(t, size, end)
			for _, path := range sealedPaths() {
				for _, flags := range []int{0, kernel.ModeDecrypt} {
					what := fmt.Sprintf("%d bytes, path %d, flags %d, guard page after %v", size, path, flags, end)
					j0, mask := state16(t, end, [16]byte{15: 1}), state16(t, end, [16]byte{})
					if !SealedGCMCTR(region, h, dst, src, j0, mask, flags, path) {
						t.Fatalf("SealedGCMCTR, %s: false", what)
					}
					if path != PathVAES512 || !zmm {
						continue
					}
					j0, mask = state16(t, end, [16]byte{15: 1}), state16(t, end, [16]byte{})
					acc, lens := state16(t, end, [16]byte{}), state16(t, end, [16]byte{15: 8})
					if !SealedGCM(region, h, dst, src, j0, mask, &tbl, acc, lens, flags, path) {
						t.Fatalf("SealedGCM, %s: false", what)
					}
					// One message whose descriptor lies against a guard page
					// too (it holds pointers to the mmapped buffers only).
					gm := guardtest.Buffer(t, int(unsafe.Sizeof(GCMMessage{})), end)
					msgs := unsafe.Slice((*GCMMessage)(unsafe.Pointer(&gm[0])), 1)
					msgs[0] = GCMMessage{dst: &dst[0], src: &src[0], n: size}
					msgs[0].J0[15] = 1
					if !SealedGCMMessages(region, h, msgs, &tbl, flags, path) {
						t.Fatalf("SealedGCMMessages, %s: false", what)
					}
				}
			}
		}
	}
}
