//go:build amd64 && !purego

package asm

// Sealed mode kernels (ARCHITECTURE.md, "Modes: kernel
// contracts"): the sealed software fallback of KLCTR, KLCBCEncrypt, ...
//
// Every kernel unwraps its handle (both handles for XTS) once per call in
// registers with the wrapping key region, verifies the tag(s), checks the
// metadata itself (reserved bits, key type, CPL0-only, and the no-encrypt /
// no-decrypt restriction of the direction it uses), expands the key schedule
// in registers and runs the blocks on the given path (PathAESNI, PathVAES256,
// PathVAES512; any other value is PathAESNI), exactly as SealedEncrypt does.
// The key type (AES-128, AES-192, AES-256) comes from the handle's
// metadata: flags&ModeKey256 and flags&ModeWide are ignored.
//
// Common contract:
//   - len(src)/16 whole blocks are processed; the caller guarantees
//     len(src)%16 == 0 and dst == src or no overlap. len(dst) < len(src)
//     returns false with nothing written.
//   - A handle that does not verify or whose metadata forbids the use
//     returns false: nothing is written to dst, the state (*ctr, *iv,
//     *tweak; *tagMask for GCMCTR) is left untouched.
//   - On true the state is updated so that consecutive calls chain.
//   - Every vector register used is zero on return (X0-X15 after SSE-only
//     code, Z0-Z15 after the ymm path's VZEROALL, Z0-Z31 on the zmm path).
//     The round keys never leave the registers except, on the AES-NI and
//     ymm paths, into a 16-byte aligned area of the kernel's own stack
//     frame that is zeroed before it returns; the zmm path keeps them in
//     Z16-Z30. XTS keeps its tweak (and on the AES-NI and ymm paths the
//     tweaks of a batch) in that area too. The zmm path needs AVX-512F,
//     AVX-512VL and VAES; XTS on the ymm and zmm paths also VPCLMULQDQ
//     (every CPU with VAES has it). The general registers hold addresses,
//     counts, the key type and the CTR counter only.
//
// Paths: CTR, CBC decryption and XTS run 8 blocks per batch on the AES-NI
// path (then 4, then single blocks), 16 on ymm (then pairs, then one), 32
// on zmm (then masked units of up to 4). CBC encryption is sequential: one
// block at a time, its dependency chain only the AES rounds (the next
// plaintext block and the first round key are folded into the last round
// key).

// SealedCTR XORs src with the keystream E(*ctr), E(*ctr+1), ... into dst.
// The counter is big-endian and incremented over all 128 bits (as
// crypto/cipher.NewCTR) or, with flags&ModeInc32, in its low 32 bits mod
// 2^32 (GCM's inc32). On true *ctr is advanced by len(src)/16. Needs an
// encrypt-capable handle.
func SealedCTR(region *[4096]byte, h *[64]byte, dst, src []byte, ctr *[16]byte, flags, path int) bool {
	return sealedCTR(region, h, dst, src, ctr, nil, flags, path)
}

// SealedGCMCTR stores E(*j0) in *tagMask, then XORs src with the keystream
// from inc32(*j0) on (inc32 increments) into dst. *j0 is not modified.
// Needs an encrypt-capable handle.
func SealedGCMCTR(region *[4096]byte, h *[64]byte, dst, src []byte, j0, tagMask *[16]byte, flags, path int) bool {
	return sealedCTR(region, h, dst, src, j0, tagMask, flags, path)
}

// sealedCTR is SealedCTR (tagMask == nil) and SealedGCMCTR (tagMask != nil).
//
//go:noescape
func sealedCTR(region *[4096]byte, h *[64]byte, dst, src []byte, ctr, tagMask *[16]byte, flags, path int) bool

// SealedCBCEncrypt computes C_i = E(P_i XOR C_(i-1)), C_(-1) = *iv, and
// sets *iv to the last ciphertext block. Sequential: SSE with the spilled
// schedule on the AES-NI and ymm paths, EVEX on xmm with the schedule in
// X16-X30 on the zmm path. Needs an encrypt-capable handle.
//
//go:noescape
func SealedCBCEncrypt(region *[4096]byte, h *[64]byte, dst, src []byte, iv *[16]byte, flags, path int) bool

// SealedCBCDecrypt computes P_i = D(C_i) XOR C_(i-1), C_(-1) = *iv, and
// sets *iv to the last ciphertext block (read before it is overwritten:
// dst == src works). Needs a decrypt-capable handle.
//
//go:noescape
func SealedCBCDecrypt(region *[4096]byte, h *[64]byte, dst, src []byte, iv *[16]byte, flags, path int) bool

// SealedXTS encrypts (or, with flags&ModeDecrypt, decrypts) the blocks of
// src with the key of h, block i with the tweak T*x^i (IEEE 1619), where T
// is E(*tweak) under the key of hTweak if hTweak != nil, else *tweak
// itself. On true *tweak = T*x^n, the tweak of the next block. Both handles
// are unwrapped and verified in this call: hTweak must allow encryption,
// h the direction of flags. If either is refused nothing is written.
//
//go:noescape
func SealedXTS(region *[4096]byte, h, hTweak *[64]byte, dst, src []byte, tweak *[16]byte, flags, path int) bool

// sealedModesRegsAfter is a test hook: it calls kernel (0 sealedCTR,
// 1 SealedCBCEncrypt, 2 SealedCBCDecrypt, 3 SealedXTS) with the argument
// words args (slices as 3 words), then stores Z0-Z31 into out[0:32] and the
// 1024 bytes below its stack pointer (the callee's frame) into out[32:48].
// It returns the byte at retOff of the argument area. AVX-512F only.
//
//go:noescape
func sealedModesRegsAfter(kernel int, args *[12]uint64, retOff int, out *[48][64]byte) bool
