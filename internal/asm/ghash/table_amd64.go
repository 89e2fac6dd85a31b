//go:build amd64 && !purego

package ghash

import "github.com/go-keylocker/keylocker/internal/kernel"

// GHASHTable holds the precomputed powers of H for GHASHUpdate. Its zero
// value is not usable: call GHASHInit. It may be copied. Its layout is
// internal/kernel's GHASHTable* offsets (checked by the tests).
type GHASHTable struct {
	// pow[i] = H^(32-i) * x in the internal form: H^32 .. H^1. The xmm
	// loop uses pow[24:32] (H^8 .. H^1), the ymm loop pow[16:32], the zmm
	// loop all 32; a tail of r blocks uses pow[32-r:].
	pow [kernel.GHASHPowers][16]byte //lint:ignore U1000 read and written by the assembly (ghash_amd64.s)
	// kar[i]: both halves = hi XOR lo of pow[24+i] (Karatsuba middle term).
	kar [kernel.GHASHKarTerms][16]byte //lint:ignore U1000 read and written by the assembly (ghash_amd64.s)
	// wide selects the loop of GHASHUpdate: ghashPathXmm, ghashPathZmm or
	// ghashPathYmm.
	wide uint64
}

// GHASHInit fills t from the hash key h (16 bytes, as E_K(0^128) is
// output) and selects the path GHASHUpdate runs. path takes the values of
// the sealed kernels' path (internal/kernel's Path*), decided by the caller
// for both (this package does not detect CPU features): PathVAES512 runs
// VPCLMULQDQ on zmm (32 blocks per reduction, four per instruction; needs
// AVX512F, AVX512BW, AVX512VL and VPCLMULQDQ), PathVAES256 VPCLMULQDQ on
// ymm (16 blocks per reduction; needs AVX2 and VPCLMULQDQ), and PathAESNI
// or any other value PCLMULQDQ on xmm (8 blocks per reduction). Every path
// needs PCLMULQDQ and SSSE3 (every CPU with AES-NI has both).
func GHASHInit(h *[16]byte, t *GHASHTable, path int) {
	ghashInit(h, t)
	switch path {
	case kernel.PathVAES512:
		t.wide = ghashPathZmm
	case kernel.PathVAES256:
		t.wide = ghashPathYmm
	default:
		t.wide = ghashPathXmm
	}
}

// Values of GHASHTable.wide.
const (
	ghashPathXmm = kernel.GHASHPathXmm // PCLMULQDQ, 8 blocks per reduction
	ghashPathZmm = kernel.GHASHPathZmm // VPCLMULQDQ on zmm, 32 blocks per reduction
	ghashPathYmm = kernel.GHASHPathYmm // VPCLMULQDQ on ymm (VEX), 16 blocks per reduction
)

// Wide reports whether t was initialised for a VPCLMULQDQ path.
func (t *GHASHTable) Wide() bool { return t.wide != ghashPathXmm }

// Wipe zeroes t.
//
//go:noinline
func (t *GHASHTable) Wipe() {
	*t = GHASHTable{}
}

// GHASHUpdate absorbs data into the GHASH state acc: for every 16-byte
// block X_i, acc = (acc XOR X_i) * H in GF(2^128) (big-endian GCM
// convention, SP 800-38D). It panics unless len(data) is a multiple of 16.
// Consecutive calls chain: two calls equal one call on the concatenation.
func GHASHUpdate(t *GHASHTable, acc *[16]byte, data []byte) {
	if len(data)%16 != 0 {
		panic("ghash: GHASHUpdate: data not a multiple of 16 bytes")
	}
	if len(data) == 0 {
		return
	}
	ghashUpdate(t, acc, &data[0], len(data)/16)
}
