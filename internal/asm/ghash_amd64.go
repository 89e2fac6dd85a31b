//go:build amd64 && !purego

package asm

// GHASH (NIST SP 800-38D, section 6.4) with PCLMULQDQ, and with VPCLMULQDQ
// on zmm for bulk data, shared by every amd64 implementation of GCM.
//
// H is the GCM hash key E_K(0^128). It is not the AES key: it lives in the
// GHASHTable in ordinary memory (call Wipe when done with it if it should
// not linger). The code is constant-time: no data- or key-dependent
// branches or addresses (only the length of the data decides control flow).
//
// Internal form: every value is byte-reversed (PSHUFB) so that the 128-bit
// register holds the GCM polynomial bit-reflected, and the table holds the
// powers of H multiplied by x (H<<1 mod P in that form), which absorbs the
// one-bit offset of the reflected carry-less product; the reduction uses
// P = 0xc2000000000000000000000000000001 (two folds by its high half). This
// is the formulation of Gueron and Kounavis (Intel white paper "Intel
// Carry-Less Multiplication Instruction and its Usage for Computing the GCM
// Mode", 2010) also used by Go's crypto/aes.
//
// Register use (ABI0): general registers AX, BX, CX, DX, SI, DI (pointers
// and counts only; R8-R10 too). ghashInit: X0-X15 (SSE), zero on return.
// ghashUpdate, PCLMULQDQ path: X0-X15 (SSE), zero on return. zmm path:
// Z0-Z15 and Z16-Z24, K1; VZEROALL and VPXORQ of Z16-Z24 before return.
// ymm path: Y0-Y15 (VEX only), VZEROALL before return. So every vector
// register that held a power of H, the state or data is zero on return
// (K1 holds only a length mask).

// GHASHTable holds the precomputed powers of H for GHASHUpdate. Its zero
// value is not usable: call GHASHInit. It may be copied.
type GHASHTable struct {
	// pow[i] = H^(32-i) * x in the internal form: H^32 .. H^1. The
	// PCLMULQDQ path uses pow[24:32] (H^8 .. H^1), the ymm path pow[16:32],
	// the zmm path all 32.
	pow [32][16]byte //lint:ignore U1000 read and written by the assembly (ghash_amd64.s)
	// kar[i]: both halves = hi XOR lo of pow[24+i] (Karatsuba middle term).
	kar [8][16]byte //lint:ignore U1000 read and written by the assembly (ghash_amd64.s)
	// wide selects the path of GHASHUpdate: ghashPathXmm, ghashPathZmm or
	// ghashPathYmm.
	wide uint64
}

// GHASHInit fills t from the hash key h (16 bytes, as E_K(0^128) is
// output) and selects the path GHASHUpdate runs. path takes the values of
// the sealed kernels' path, decided by the caller for both (this package
// does not detect CPU features): PathVAES512 runs VPCLMULQDQ on zmm (32
// blocks per reduction, four per instruction; needs AVX512F, AVX512BW,
// AVX512VL and VPCLMULQDQ), PathVAES256 VPCLMULQDQ on ymm (16 blocks per
// reduction; needs AVX2 and VPCLMULQDQ), and PathAESNI or any other value
// PCLMULQDQ on xmm (8 blocks per reduction). Every path needs PCLMULQDQ and
// SSSE3 (every CPU with AES-NI has both).
func GHASHInit(h *[16]byte, t *GHASHTable, path int) {
	ghashInit(h, t)
	switch path {
	case PathVAES512:
		t.wide = ghashPathZmm
	case PathVAES256:
		t.wide = ghashPathYmm
	default:
		t.wide = ghashPathXmm
	}
}

// Values of GHASHTable.wide.
const (
	ghashPathXmm = 0 // PCLMULQDQ, 8 blocks per reduction
	ghashPathZmm = 1 // VPCLMULQDQ on zmm, 32 blocks per reduction
	ghashPathYmm = 2 // VPCLMULQDQ on ymm (VEX), 16 blocks per reduction
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
		panic("asm: GHASHUpdate: data not a multiple of 16 bytes")
	}
	if len(data) == 0 {
		return
	}
	ghashUpdate(t, acc, &data[0], len(data)/16)
}

//go:noescape
func ghashInit(h *[16]byte, t *GHASHTable)

//go:noescape
func ghashUpdate(t *GHASHTable, acc *[16]byte, data *byte, blocks int)

// ghashRegsAfter is a test hook: it calls ghashUpdate and then stores
// Z0-Z31 into out. AVX-512F only.
//
//go:noescape
func ghashRegsAfter(t *GHASHTable, acc *[16]byte, data *byte, blocks int, out *[32][64]byte)

// ghashRegsAfterInit is a test hook: it calls ghashInit and then stores
// Z0-Z31 into out. AVX-512F only.
//
//go:noescape
func ghashRegsAfterInit(h *[16]byte, t *GHASHTable, out *[32][64]byte)
