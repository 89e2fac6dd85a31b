//go:build amd64 && !purego

package sealed

import (
	"unsafe"

	"github.com/go-keylocker/keylocker/internal/alias"
	"github.com/go-keylocker/keylocker/internal/asm/ghash"
	"github.com/go-keylocker/keylocker/internal/kernel"
)

// GHASHTable is the GHASH key's table of powers (internal/asm/ghash).
type GHASHTable = ghash.GHASHTable

// Data paths of the sealed routines. The caller picks one the CPU supports
// (aeskl detects the features); any other value is PathAESNI.
const (
	// PathAESNI: AES-NI on xmm, 8 blocks in flight (needs AES-NI, PCLMULQDQ,
	// SSSE3, SSE4.1: every AES-NI CPU has the last two). The prologue
	// (unwrap, tag check, key expansion) is this SSE code on every path.
	PathAESNI = kernel.PathAESNI
	// PathVAES256: VAES on ymm (VEX only, Y0-Y12), 16 blocks in flight
	// (needs AVX2 and VAES as well: the path for Alder Lake-like CPUs without
	// AVX-512). VAES is CPUID.(EAX=7,ECX=0):ECX[9]; golang.org/x/sys/cpu
	// reports it, as HasAVX512VAES, only on CPUs with AVX-512.
	PathVAES256 = kernel.PathVAES256
	// PathVAES512: VAES on zmm (EVEX), 32 blocks in flight, round keys in
	// Z16-Z30 (needs AVX512F and VAES as well; the mode kernels also
	// AVX512VL, and XTS on the ymm and zmm paths VPCLMULQDQ).
	PathVAES512 = kernel.PathVAES512
)

// SealedEncodeKey wraps key[0:keyLen] as ENCODEKEY128/256 would, under the
// wrapping key in region (SealedInit must have run), and stores the handle
// in h: metadata (restrictions&7 | key type<<24, key type 0 for keyLen 16,
// 1 for 32, 2 for 24), the tag and the wrapped key: 48 bytes for AES-128
// (h[48:64] is zeroed) and 64 bytes otherwise. It panics if keyLen is not 16,
// 24 or 32.
//
// The key is loaded from the caller's memory straight into X1 (and X2) and
// leaves the registers only wrapped. X0-X15 are zero on return. The result is
// byte for byte handle.Wrap(iw, restrictions&7, key).
func SealedEncodeKey(region *Region, key *byte, keyLen int, restrictions uint32, h *Handle) {
	switch keyLen {
	case 16, 24, 32:
	default:
		panic("sealed: SealedEncodeKey: key must be 16, 24 or 32 bytes")
	}
	sealedEncodeKey(region, key, keyLen, restrictions, h)
}

// SealedEncodeRandom wraps a keyLen-byte key (16, 24 or 32) that never
// exists in memory: it is drawn inside the routine from RDSEED/RDRAND (the
// instructions sources allows: kernel.RandRDSEED, kernel.RandRDRAND),
// XORed in registers with entropy[0:keyLen], and wrapped as
// SealedEncodeKey wraps a key. It returns false, with h untouched, when
// every try of the random source failed. It panics if keyLen is not 16,
// 24 or 32. See sealedEncodeRandom for the contract.
func SealedEncodeRandom(region *Region, keyLen int, restrictions uint32, entropy *[32]byte, sources int, h *Handle) bool {
	switch keyLen {
	case 16, 24, 32:
	default:
		panic("sealed: SealedEncodeRandom: key must be 16, 24 or 32 bytes")
	}
	return sealedEncodeRandom(region, keyLen, restrictions, entropy, sources, h)
}

// SealedCTR XORs src with the keystream E(*ctr), E(*ctr+1), ... into dst.
// The counter is big-endian and incremented over all 128 bits (as
// crypto/cipher.NewCTR) or, with flags&ModeInc32, in its low 32 bits mod
// 2^32 (GCM's inc32). On true *ctr is advanced by len(src)/16. Needs an
// encrypt-capable handle. See sealedCTR for the contract.
func SealedCTR(region *Region, h *Handle, dst, src []byte, ctr *[16]byte, flags, path int) bool {
	return sealedCTR(region, h, dst, src, ctr, nil, flags, path)
}

// SealedGCMCTR stores E(*j0) in *tagMask, then XORs src with the keystream
// from inc32(*j0) on (inc32 increments) into dst. *j0 is not modified.
// Needs an encrypt-capable handle. See sealedCTR for the contract.
func SealedGCMCTR(region *Region, h *Handle, dst, src []byte, j0, tagMask *[16]byte, flags, path int) bool {
	return sealedCTR(region, h, dst, src, j0, tagMask, flags, path)
}

// GCMBatch is SealedGCM's batch (32 blocks): a call that another call
// continues (from the counter after its blocks, with its GHASH state)
// must take a multiple of GCMBatch bytes; the last call takes any length.
const GCMBatch = 512

// SealedGCM is GCM's encryption (or, with flags&ModeDecrypt, decryption)
// of src into dst in one pass: *tagMask = E(*j0), the keystream from
// inc32(*j0) on, and the ciphertext (its last block padded with zeros)
// absorbed into the GHASH state *acc under t (filled by ghash.GHASHInit),
// then, if lens is not nil, the length block *lens. Any length, a partial
// last block included. It runs on PathVAES512 only: it panics on another
// path. False: the handle was refused and nothing was written. See
// sealedGCM for the contract.
func SealedGCM(region *Region, h *Handle, dst, src []byte, j0, tagMask *[16]byte, t *GHASHTable, acc, lens *[16]byte, flags, path int) bool {
	if path != PathVAES512 {
		panic("sealed: SealedGCM: needs PathVAES512")
	}
	return sealedGCM(region, h, dst, src, j0, tagMask, t, acc, lens, flags, path)
}

// A GCMMessage describes one message of SealedGCMMessages (its layout is
// internal/kernel's GCMMsg*, read and written by the kernel).
type GCMMessage struct {
	dst, src *byte
	n        int
	// J0 is the message's pre-counter block.
	J0 [16]byte
	// Acc is the GHASH state of the associated data on the way in (zero
	// for none) and the message's whole tag, GHASH(A, C) XOR E(J0), on the
	// way out.
	Acc [16]byte
	// Lens is the message's length block (the bit lengths of the
	// associated data and of the ciphertext, big-endian).
	Lens [16]byte
}

// SetData sets the message's output and input: len(src) bytes of src
// into dst. It panics if dst is shorter than src or overlaps it other
// than exactly.
func (m *GCMMessage) SetData(dst, src []byte) {
	if len(dst) < len(src) {
		panic("sealed: GCMMessage.SetData: dst shorter than src")
	}
	dst = dst[:len(src)]
	if alias.InexactOverlap(dst, src) {
		panic("sealed: GCMMessage.SetData: dst and src overlap")
	}
	m.dst, m.src, m.n = unsafe.SliceData(dst), unsafe.SliceData(src), len(src)
}

// GCMMessagesMax is the most messages one SealedGCMMessages call takes:
// it runs without preemption for all of them.
const GCMMessagesMax = 16

// SealedGCMMessages is SealedGCM over each of msgs in turn with one unwrap
// of h for all of them: encryption (or, with flags&ModeDecrypt,
// decryption) of each message's src into its dst with the keystream from
// inc32(J0) on, its ciphertext and its length block absorbed into Acc,
// then Acc replaced by the tag (the state XOR E(J0)); E(J0) is never
// stored on its own. Decryption writes the plaintext before any tag is
// compared: the caller compares each tag and clears the dst of a message
// that fails. It runs on PathVAES512 only (it panics on another path) and
// panics if msgs has more than GCMMessagesMax messages. False: the handle
// was refused and nothing was written. See sealedGCMMessages for the
// contract.
func SealedGCMMessages(region *Region, h *Handle, msgs []GCMMessage, t *GHASHTable, flags, path int) bool {
	if path != PathVAES512 {
		panic("sealed: SealedGCMMessages: needs PathVAES512")
	}
	if len(msgs) > GCMMessagesMax {
		panic("sealed: SealedGCMMessages: too many messages")
	}
	return sealedGCMMessages(region, h, unsafe.SliceData(msgs), len(msgs), t, flags, path)
}
