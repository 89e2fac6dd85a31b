//go:build amd64 && !purego && linux

package ghash

import (
	"testing"
	"unsafe"

	"github.com/go-keylocker/keylocker/internal/guardtest"
)

// TestGHASHGuardPages: GHASHInit and GHASHUpdate read and write the table,
// the state and the data, and nothing next to them: each lies against an
// inaccessible page on either side, on every path.
func TestGHASHGuardPages(t *testing.T) {
	for _, end := range []bool{true, false} {
		for _, path := range ghashPaths(t) {
			tb := (*GHASHTable)(unsafe.Pointer(&guardtest.Buffer(t, int(unsafe.Sizeof(GHASHTable{})), end)[0]))
			h := (*[16]byte)(guardtest.Buffer(t, 16, end))
			acc := (*[16]byte)(guardtest.Buffer(t, 16, end))
			ghashInitPath(h, tb, path)
			for _, n := range []int{16, 48, 128, 512, 16 * 95} {
				GHASHUpdate(tb, acc, guardtest.Buffer(t, n, end))
			}
		}
	}
}
