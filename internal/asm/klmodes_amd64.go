//go:build amd64 && !purego

package asm

import "github.com/go-keylocker/keylocker/internal/kernel"

// Key Locker mode kernels (ARCHITECTURE.md, "Modes: kernel
// contracts"). Like the ECB routines in kl_amd64.go they execute the Key
// Locker instructions unconditionally: #UD (SIGILL) unless CPUID.19H:EBX
// reports AESKLE, and with ModeWide also unless it reports WIDE_KL. The
// caller (aeskl) gates on CPUID first and passes ModeWide only when WIDE_KL
// is set.
//
// Common contract of the kernels below:
//   - h points to the data handle (48 bytes used for AES-128, all 64 for
//     AES-256), read by the instructions straight from there. flags &
//     ModeKey256 selects the AES*256KL forms (else the 128 forms); a handle
//     of the other key size is rejected by the CPU (ZF=1).
//   - They process len(src)/16 whole blocks. The caller guarantees
//     len(src)%16 == 0, len(dst) >= len(src) and dst == src or no overlap;
//     nothing is checked here.
//   - flags & ModeWide: AES*WIDE*KL on X0-X7 for every full group of 8
//     blocks, the single forms (on X0) for the remaining len(src)/16 % 8
//     blocks. Without ModeWide only the single forms are executed. CBC
//     encryption is sequential and always uses the single forms.
//   - ZF is tested after every Key Locker instruction. At the first ZF=1 (a
//     restriction violated, key size mismatch, reserved bit, failed integrity
//     check e.g. after an IWKey change) the kernel returns false at once: the
//     failing batch or block and everything after it is not written, the
//     blocks before it are, so dst is partially written and the caller must
//     zero dst on false. On false the state pointer (ctr, iv, tweak) is left
//     as it was at the call (GCMCTR: tagMask is written only if its own
//     instruction succeeded; the caller discards it on false).
//   - On true the state pointer is updated so that consecutive calls chain.
//   - Every vector register the kernel used is zeroed before it returns, on
//     success and on failure: X0-X8 and X15 (CTR, GCMCTR), X0-X1 (CBC
//     encrypt), X0-X10 (CBC decrypt), X0-X15 (XTS). General registers
//     used: AX, BX, CX, DX, SI, DI, R8-R12 (and R13 in GCMCTR); they hold no
//     key material (the key never leaves the handle). R14, R15, BP are not
//     touched; X15 is left zero.

// Flags of the mode kernels (the flags argument).
const (
	// ModeKey256: the handle is an AES-256 handle (AES*256KL forms); else AES-128.
	ModeKey256 = kernel.ModeKey256
	// ModeWide: use AES*WIDE*KL for each full group of 8 blocks.
	ModeWide = kernel.ModeWide
	// ModeInc32: CTR increments only the low 32 bits of the counter, mod 2^32.
	ModeInc32 = kernel.ModeInc32
	// ModeDecrypt: XTS decrypts.
	ModeDecrypt = kernel.ModeDecrypt
)

// KLCTR XORs src with the CTR keystream E(*ctr), E(*ctr+1), ... into dst.
// The counter is big-endian; it is incremented over all 128 bits (carry
// from the low into the high 64-bit half, wrapping mod 2^128, as
// crypto/cipher.NewCTR) or, with flags&ModeInc32, only in its low 32 bits
// mod 2^32 (GCM's inc32). Counter blocks are built in registers
// (R10:R11, PINSRQ, PSHUFB byte reversal) and XORed with src after the Key
// Locker instruction reported ZF=0. On true *ctr is advanced by
// len(src)/16. Uses X0-X8 and X15, all zeroed before return on every
// path. Needs an encrypt-capable handle: a NoEncrypt handle (or a tampered
// or wrong-size one) returns false; then dst may be partly written (the
// batches before the failing one) and the caller must zero it; *ctr is
// unchanged.
//
//go:noescape
func KLCTR(h *[64]byte, dst, src []byte, ctr *[16]byte, flags int) bool

// KLCBCEncrypt computes C_i = E(P_i XOR C_{i-1}) with C_{-1} = *iv, one
// AESENC{128,256}KL per block (ModeWide is ignored: CBC encryption is
// sequential). On true *iv = the last ciphertext block (unchanged for zero
// blocks). Uses X0 and X1, zeroed before return on every path. A NoEncrypt
// (or tampered, wrong-size) handle returns false; then dst may be partly
// written and the caller must zero it; *iv is unchanged.
//
//go:noescape
func KLCBCEncrypt(h *[64]byte, dst, src []byte, iv *[16]byte, flags int) bool

// KLCBCDecrypt computes P_i = D(C_i) XOR C_{i-1} with C_{-1} = *iv: with
// ModeWide one AESDECWIDE{128,256}KL per 8 blocks, else and for the tail
// AESDEC{128,256}KL per block. Every ciphertext block is read before the
// batch or block using it is stored, so dst == src works. On true *iv = the
// last ciphertext block. Uses X0-X10, zeroed before return on every path.
// A NoDecrypt (or tampered, wrong-size) handle returns false; then dst may
// be partly written and the caller must zero it; *iv is unchanged.
//
//go:noescape
func KLCBCDecrypt(h *[64]byte, dst, src []byte, iv *[16]byte, flags int) bool

// KLXTS runs XTS over len(src)/16 whole blocks (no ciphertext stealing: the
// caller does that). If hTweak != nil, first T = AESENC{128,256}KL(*tweak)
// with hTweak (always the encrypt form, so a NoDecrypt tweak handle works
// for decryption too; same key size as h); else T = *tweak (an already
// encrypted tweak, as left by a previous call). Block i uses T_i = T * x^i
// in GF(2^128) (IEEE 1619 little-endian doubling, polynomial 0x87):
// dst_i = E(src_i XOR T_i) XOR T_i, or D(...) with flags&ModeDecrypt. With
// ModeWide each batch of 8 keeps its tweaks in X8-X15 and uses
// AES{ENC,DEC}WIDE{128,256}KL on X0-X7. On true *tweak = T * x^n, the
// tweak of the next block, so a following call with hTweak == nil
// continues the stream. Uses X0-X15, all zeroed before return on every
// path. Returns false if either handle is rejected (hTweak: NoEncrypt,
// tampered or wrong size, before any data block; h: NoEncrypt for
// encryption, NoDecrypt for decryption, tampered, wrong size); then dst may
// be partly written and the caller must zero it; *tweak is unchanged.
//
//go:noescape
func KLXTS(h, hTweak *[64]byte, dst, src []byte, tweak *[16]byte, flags int) bool

// KLGCMCTR is GCM's counter mode: first *tagMask = E(*j0) (one
// AESENC{128,256}KL, even for zero blocks), then dst = src XOR keystream of
// the counter blocks inc32(*j0), inc32(inc32(*j0)), ... (only the low 32
// bits count, mod 2^32, whatever flags&ModeInc32 says). *j0 is not
// modified. Uses X0-X8 and X15, zeroed before return on every path. A
// NoEncrypt (or tampered, wrong-size) handle returns false: nothing is
// written if the tag mask instruction fails; if a later one fails, dst may
// be partly written and the caller must zero it and discard *tagMask.
//
//go:noescape
func KLGCMCTR(h *[64]byte, dst, src []byte, j0, tagMask *[16]byte, flags int) bool

// klModeRegs is a test-only probe: it fills X0-X15 with 0xA5 bytes, calls
// the kernel selected by fn (0 KLCTR, 1 KLCBCEncrypt, 2 KLCBCDecrypt, 3
// KLXTS, 4 KLGCMCTR) with the ABI0 argument words a[0:10], copies the
// argument frame back into a[0:11] (the result byte is a[9] for fn 0-2 and
// a[10] for fn 3-4) and stores X0-X15 as the kernel left them to regs. The
// caller keeps the objects a points to alive.
//
//go:noescape
func klModeRegs(fn int, a *[11]uint64, regs *[16][16]byte)
