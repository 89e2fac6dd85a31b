//go:build amd64 && !purego

package asm

import "github.com/go-keylocker/keylocker/internal/kernel"

// The sealed software fallback of Key Locker.
//
// A process-wide wrapping key lives in a 4096-byte region (see ARCHITECTURE.md,
// "internal/fallback: the wrapping key region"):
//
//	region[0:16]    IK, the POLYVAL key H
//	region[16:48]   EK, the AES-256 wrapping key
//	region[64:304]  the 15 AES-256 encryption round keys of EK (SealedInit)
//	region[304:432] H_1..H_8, H_1 = H, H_(k+1) = dot(H_k, H) (RFC 8452 dot),
//	                as little-endian 128-bit values (SealedInit)
//
// Handles are Key Locker handles (Intel KLS handle format 1.4, see
// internal/handle): metadata || tag || wrapped key, 48 bytes for AES-128 and
// 64 bytes for AES-256 and for the project's AES-192 key type 2. The routines
// below produce and consume them so that, once a handle exists, the AES key
// and its key schedule exist only in vector registers while a routine runs
// (and, on the AES-NI and ymm paths with 2 or more blocks, in a stack area
// of the routine's own frame that is zeroed before it returns: the
// goroutine stack cannot move during an assembly call, which has no
// preemption point and cannot grow the stack).
//
// Signals: the kernel saves the vector registers into the signal frame on
// the thread's signal stack when it delivers a signal. Every routine here
// that holds key material calls sigstkArm on entry and sigstkCheck before
// each return (see sigstk_amd64.go), so a frame taken during the call is
// zeroed before the routine returns. What remains: during a call, that frame
// (and the stack area above) holds the keys until the routine returns; the
// kernel's own copy of a thread's registers on a context switch is kernel
// memory; a debugger that stops the thread inside a call (ptrace, gcore)
// reads its registers. Go never preempts assembly asynchronously, so the Go
// runtime itself does not spill these registers.
//
// Register use (all ABI0): general registers AX, BX, CX, DX, SI, DI, R8-R11
// (addresses, counts and the key type only: nothing secret); vector registers
// X0-X15 on every path, Y0-Y8 on the ymm path, Z0-Z30 and K1 on the zmm
// path. Every vector register a routine used is zero when it returns, on
// every return path: PXOR of X0-X15 on the AES-NI path and on rejection (no AVX
// needed), VZEROALL on the ymm path, VZEROALL plus VPXORD of Z16-Z31 on the
// zmm path.
//
// The region needs no particular alignment.

// Data paths of SealedEncrypt and SealedDecrypt. The caller picks one the CPU
// supports (aeskl detects the features); any other value is PathAESNI.
const (
	// PathAESNI: AES-NI on xmm, 8 blocks in flight (needs AES-NI, PCLMULQDQ,
	// SSSE3, SSE4.1: every AES-NI CPU has the last two). The prologue
	// (unwrap, tag check, key expansion) is this SSE code on every path.
	PathAESNI = kernel.PathAESNI
	// PathVAES256: VAES on ymm (VEX only, Y0-Y8), 16 blocks in flight
	// (needs AVX2 and VAES as well: the path for Alder Lake-like CPUs without
	// AVX-512). VAES is CPUID.(EAX=7,ECX=0):ECX[9]; golang.org/x/sys/cpu
	// reports it, as HasAVX512VAES, only on CPUs with AVX-512.
	PathVAES256 = kernel.PathVAES256
	// PathVAES512: VAES on zmm (EVEX), 32 blocks in flight, round keys in
	// Z16-Z30 (needs AVX512F and VAES as well).
	PathVAES512 = kernel.PathVAES512
)

// SealedInit computes the precomputation at region[64:432] from IK and EK
// at region[0:48]: the AES-256 key schedule of EK at region[64:304] and the
// POLYVAL powers H_1..H_8 at region[304:432]. It reads and writes nothing
// else. IK, EK and the intermediate values pass through X0-X15 only, which
// are zero on return.
//
//go:noescape
func SealedInit(region *[4096]byte)

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
func SealedEncodeKey(region *[4096]byte, key *byte, keyLen int, restrictions uint32, h *[64]byte) {
	switch keyLen {
	case 16, 24, 32:
	default:
		panic("asm: SealedEncodeKey: key must be 16, 24 or 32 bytes")
	}
	sealedEncodeKey(region, key, keyLen, restrictions, h)
}

//go:noescape
func sealedEncodeKey(region *[4096]byte, key *byte, keyLen int, restrictions uint32, h *[64]byte)

// SealedEncrypt encrypts len(src)/16 blocks of src into dst (ECB) with the
// key wrapped in h, on the given path (PathAESNI, PathVAES256, PathVAES512).
// dst must be at least as long as src and either the same memory as src or
// not overlap it.
//
// In registers: the handle's key is unwrapped (AES-256 CTR with the region's
// round keys), its tag recomputed (POLYVAL with the region's powers of H,
// AES-256) and compared in constant time, the AES-128/192/256 key schedule
// is expanded, then the blocks are encrypted. The key type comes from the
// metadata. One block takes the register-only route on every path (the
// schedule in X1-X15, the block in X0). With 2 or more blocks the AES-NI
// path (8 blocks in flight, then 4, then 1) and the ymm path (16, 8, 2, 1)
// also keep the schedule in a 240-byte area of this routine's own stack
// frame, zeroed before it returns: xmm0-15 cannot hold 8 blocks and 15 round
// keys. The zmm path (32, 16, 4, then 1-3 blocks under a mask) keeps the
// broadcast schedule in Z16-Z30 and never writes it to memory.
//
// It returns false, with nothing written to dst and X0-X15 zeroed, if the
// tag does not verify (another wrapping key, a modified handle, nonzero
// AES-192 padding), if the metadata has a reserved bit, an unknown key type,
// the CPL0-only or the no-encrypt restriction, or if len(dst) < len(src).
// The caller is expected to have checked the metadata already. With zero
// blocks the handle is still verified.
//
//go:noescape
func SealedEncrypt(region *[4096]byte, h *[64]byte, dst, src []byte, path int) bool

// SealedDecrypt is SealedEncrypt for decryption: the decryption schedule
// (AESIMC of the middle round keys) is built in registers, and the
// no-decrypt restriction (instead of no-encrypt) makes it return false.
//
//go:noescape
func SealedDecrypt(region *[4096]byte, h *[64]byte, dst, src []byte, path int) bool

// sealedRegsAfter is a test hook: it calls SealedEncrypt (decrypt false) or
// SealedDecrypt and then stores Z0-Z31 into out[0:32] and the 1024 bytes
// below its stack pointer (the callee's frame) into out[32:48]. AVX-512F only.
//
//go:noescape
func sealedRegsAfter(decrypt bool, region *[4096]byte, h *[64]byte, dst, src []byte, path int, out *[48][64]byte) bool

// sealedRegsAfterEncodeKey is a test hook: it calls sealedEncodeKey and then
// stores Z0-Z31 into out. AVX-512F only.
//
//go:noescape
func sealedRegsAfterEncodeKey(region *[4096]byte, key *byte, keyLen int, restrictions uint32, h *[64]byte, out *[32][64]byte)

// sealedRegsAfterInit is a test hook: it calls SealedInit and then stores
// Z0-Z31 into out. AVX-512F only.
//
//go:noescape
func sealedRegsAfterInit(region *[4096]byte, out *[32][64]byte)
