//go:build amd64 && !purego

package ghash

import (
	"runtime"
	"testing"
	"unsafe"

	"github.com/go-keylocker/keylocker/internal/asm/asmtest"
	"github.com/go-keylocker/keylocker/internal/kernel"
)

// The register probes: ghashInit and ghashUpdate called through their ABI0
// entries by asmtest.CallABI0Z, which dumps Z0-Z31 right after the call
// (nothing in between touches a vector register). They need AVX-512F.

const pkgPath = "github.com/go-keylocker/keylocker/internal/asm/ghash."

// probe calls the routine name with the argument words w and copies Z0-Z31
// as it left them to out.
func probe(t testing.TB, name string, w []uint64, out *[32][64]byte) {
	t.Helper()
	var f [16]uint64
	copy(f[:], w)
	var all [48][64]byte
	asmtest.CallABI0Z(asmtest.ABI0(t, pkgPath+name), &f, &all)
	copy(out[:], all[:32])
}

// ghashRegsAfter calls ghashUpdate and then stores Z0-Z31 into out.
// AVX-512F only.
func ghashRegsAfter(t testing.TB, tb *GHASHTable, acc *[16]byte, data *byte, blocks int, out *[32][64]byte) {
	probe(t, "ghashUpdate", []uint64{asmtest.Word(tb), asmtest.Word(acc), asmtest.Word(data), uint64(blocks)}, out)
	runtime.KeepAlive(tb)
	runtime.KeepAlive(acc)
	runtime.KeepAlive(data)
}

// ghashRegsAfterInit calls ghashInit and then stores Z0-Z31 into out.
// AVX-512F only.
func ghashRegsAfterInit(t testing.TB, h *[16]byte, tb *GHASHTable, out *[32][64]byte) {
	probe(t, "ghashInit", []uint64{asmtest.Word(h), asmtest.Word(tb)}, out)
	runtime.KeepAlive(h)
	runtime.KeepAlive(tb)
}

// TestGHASHTableLayout: the assembly addresses the table at
// internal/kernel's offsets.
func TestGHASHTableLayout(t *testing.T) {
	var tb GHASHTable
	for _, c := range []struct {
		what      string
		got, want uintptr
	}{
		{"pow", unsafe.Offsetof(tb.pow), kernel.GHASHTablePow},
		{"kar", unsafe.Offsetof(tb.kar), kernel.GHASHTableKar},
		{"wide", unsafe.Offsetof(tb.wide), kernel.GHASHTablePath},
		{"size", unsafe.Sizeof(tb), kernel.GHASHTableSize},
	} {
		if c.got != c.want {
			t.Errorf("GHASHTable %s at %d, kernel says %d", c.what, c.got, c.want)
		}
	}
}
