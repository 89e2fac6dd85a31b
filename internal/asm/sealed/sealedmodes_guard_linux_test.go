//go:build amd64 && !purego && linux

package sealed

import (
	"bytes"
	"fmt"
	"syscall"
	"testing"
)

// smGuarded returns n bytes that end right before an inaccessible page (end
// true) or start right after one, and a function to unmap them.
func smGuarded(t *testing.T, n int, end bool) ([]byte, func()) {
	t.Helper()
	pg := syscall.Getpagesize()
	pages := (n+pg-1)/pg + 2
	m, err := syscall.Mmap(-1, 0, pages*pg, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		t.Skip("mmap:", err)
	}
	if err := syscall.Mprotect(m[:pg], syscall.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mprotect(m[(pages-1)*pg:], syscall.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	var b []byte
	if end {
		b = m[(pages-1)*pg-n : (pages-1)*pg : (pages-1)*pg]
	} else {
		b = m[pg : pg+n : pg+n]
	}
	return b, func() { syscall.Munmap(m) }
}

// TestSealedModesGuardPages: no kernel reads or writes outside src and dst
// (the masked zmm tails, the CBC look-behind), with both buffers against an
// inaccessible page on either side.
func TestSealedModesGuardPages(t *testing.T) {
	sealedRequireAESNI(t)
	region, _ := sealedRegion(t, nil)
	key, tkey, h, ht := smKeys(t, region, 16)
	for _, end := range []bool{true, false} {
		for _, blocks := range []int{1, 2, 3, 4, 5, 7, 9, 15, 17, 31, 33, 35, 63, 67} {
			src, freeSrc := smGuarded(t, 16*blocks, end)
			dst, freeDst := smGuarded(t, 16*blocks, end)
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
			freeSrc()
			freeDst()
		}
	}
}
