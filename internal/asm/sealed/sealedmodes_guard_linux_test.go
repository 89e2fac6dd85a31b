//go:build amd64 && !purego && linux

package sealed

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/go-keylocker/keylocker/internal/guardtest"
)

// TestSealedModesGuardPages: no kernel reads or writes outside src and dst
// (the masked zmm tails, the CBC look-behind), with both buffers against an
// inaccessible page on either side.
func TestSealedModesGuardPages(t *testing.T) {
	sealedRequireAESNI(t)
	region, _ := sealedRegion(t, nil)
	key, tkey, h, ht := smKeys(t, region, 16)
	for _, end := range []bool{true, false} {
		for _, blocks := range []int{1, 2, 3, 4, 5, 7, 9, 15, 17, 31, 33, 35, 63, 67} {
			src := guardtest.Buffer(t, 16*blocks, end)
			dst := guardtest.Buffer(t, 16*blocks, end)
			copy(src, sealedRand(16*blocks))
			for _, path := range sealedPaths() {
				for k := smKernel(0); k < smKernels; k++ {
					what := fmt.Sprintf("%s %s %d blocks, at the end %v", sealedPathNames[path], smNames[k], blocks, end)
					st := smRandState(k)
					wantSt := st
					want := smRef(t, k, key, tkey, src, &wantSt)
					if !smRun(k, region, h, ht, dst, src, &st, path) || !bytes.Equal(dst, want) || st != wantSt {
						t.Fatalf("%s: wrong", what)
					}
					buf := dst
					copy(buf, src)
					st = smRandState(k)
					wantSt = st
					want = smRef(t, k, key, tkey, buf, &wantSt)
					if !smRun(k, region, h, ht, buf, buf, &st, path) || !bytes.Equal(buf, want) || st != wantSt {
						t.Fatalf("%s: in place: wrong", what)
					}
				}
			}
		}
	}
}
