//go:build amd64 && !purego

package asm

// Key Locker routines (encodings and semantics: ARCHITECTURE.md, "Key
// Locker: what the code relies on"). They execute the Key Locker
// instructions unconditionally: on a CPU without Key Locker, or with
// CPUID.19H:EBX.AESKLE = 0 (CR4.KL clear), every one of them raises #UD
// (SIGILL), and the WIDE routines also when CPUID.19H:EBX.WIDE_KL = 0. The
// caller (aeskl/impl*.go) gates on CPUID first.
//
// Common contract of the ECB routines below:
//   - h points to the handle (48 bytes used for AES-128, all 64 for AES-256);
//     the instruction reads it straight from there (base register AX).
//   - They process len(src)/16 blocks, block i from src[16i:] to dst[16i:].
//     The caller guarantees len(dst) >= len(src) and len(src)%16 == 0; nothing
//     is checked here. dst and src may be the same slice (in place); other
//     overlaps are not supported.
//   - The Zero Flag is tested after every Key Locker instruction. On the
//     first ZF=1 (handle rejected: restriction violated, key type mismatch,
//     reserved bit, integrity failure e.g. a changed IWKey) the routine
//     returns false at once without storing that block (single forms) or
//     that batch of 8 (WIDE forms). Everything before it has already been
//     written, so dst is partially written: the caller must zero dst on
//     false and never return it.
//   - The vector registers that held data (X0; X0-X7 for WIDE) are zeroed
//     before return, on success and on failure. X8-X15, R12-R15 are not
//     touched. General registers used: AX, CX, DX, SI, DI.

// EncodeKey128 executes ENCODEKEY128. It loads key[0:16] straight
// from the caller's memory into X0 (the key never passes through a general
// register or the Go stack), runs ENCODEKEY128 EDX, ECX with ECX =
// restrictions, stores the 48-byte handle from X0-X2 to h[0:48], zeroes
// h[48:64], then zeroes X0-X6 (PXOR) before returning. A signal frame taken
// while the key was in X0 is zeroed before it returns (sigstkArm /
// sigstkCheck, see sigstk_amd64.go). General registers used: AX, BX, CX, DX,
// DI.
//
// restrictions is the handle's restriction bits (bit 0 CPL0-only, bit 1
// no-encrypt, bit 2 no-decrypt). A bit above 2, or a restriction that
// CPUID.19H:EAX does not list, raises #GP (SIGSEGV): the caller must check.
//
// info is the ENCODEKEY destination register: bit 0 = IWKey.NoBackup,
// bits 4:1 = IWKey.KeySource (0 software-supplied, 1 hardware random).
//
//go:noescape
func EncodeKey128(key *[16]byte, restrictions uint32, h *[64]byte) (info uint32)

// EncodeKey256 executes ENCODEKEY256: key[0:16] into X0 and key[16:32] into
// X1 straight from the caller's memory, ENCODEKEY256 EDX, ECX with ECX =
// restrictions, the 64-byte handle stored from X0-X3 to h, then X0-X6 zeroed
// (PXOR). Otherwise as EncodeKey128.
//
//go:noescape
func EncodeKey256(key *[32]byte, restrictions uint32, h *[64]byte) (info uint32)

// EncryptKL128 encrypts len(src)/16 blocks of src into dst in ECB mode with
// AESENC128KL X0, (AX): one instruction per block, the AES-128 handle at h.
// It uses X0 (zeroed before return on every path) and AX, CX, SI, DI.
// ZF is tested after every instruction. It returns false at the first block
// whose instruction reports ZF=1 (a rejected handle: no-encrypt or CPL0-only restriction,
// an AES-256 handle, reserved bit, failed integrity check e.g. after
// an IWKey change); that block and the ones after it are not written, but
// the blocks before it are: dst is partially written, so the caller must
// zero dst on false. The caller guarantees len(dst) >= len(src) and
// len(src)%16 == 0 (not checked); dst == src is allowed. #UD (SIGILL)
// unless CPUID.19H:EBX reports AESKLE.
//
//go:noescape
func EncryptKL128(h *[64]byte, dst, src []byte) bool

// DecryptKL128 decrypts len(src)/16 blocks of src into dst in ECB mode with
// AESDEC128KL X0, (AX): one instruction per block, the AES-128 handle at h.
// It uses X0 (zeroed before return on every path) and AX, CX, SI, DI.
// ZF is tested after every instruction. It returns false at the first block
// whose instruction reports ZF=1 (a rejected handle: no-decrypt or CPL0-only restriction,
// an AES-256 handle, reserved bit, failed integrity check e.g. after
// an IWKey change); that block and the ones after it are not written, but
// the blocks before it are: dst is partially written, so the caller must
// zero dst on false. The caller guarantees len(dst) >= len(src) and
// len(src)%16 == 0 (not checked); dst == src is allowed. #UD (SIGILL)
// unless CPUID.19H:EBX reports AESKLE.
//
//go:noescape
func DecryptKL128(h *[64]byte, dst, src []byte) bool

// EncryptKL256 encrypts len(src)/16 blocks of src into dst in ECB mode with
// AESENC256KL X0, (AX): one instruction per block, the AES-256 handle at h.
// It uses X0 (zeroed before return on every path) and AX, CX, SI, DI.
// ZF is tested after every instruction. It returns false at the first block
// whose instruction reports ZF=1 (a rejected handle: no-encrypt or CPL0-only restriction,
// an AES-128 handle, reserved bit, failed integrity check e.g. after
// an IWKey change); that block and the ones after it are not written, but
// the blocks before it are: dst is partially written, so the caller must
// zero dst on false. The caller guarantees len(dst) >= len(src) and
// len(src)%16 == 0 (not checked); dst == src is allowed. #UD (SIGILL)
// unless CPUID.19H:EBX reports AESKLE.
//
//go:noescape
func EncryptKL256(h *[64]byte, dst, src []byte) bool

// DecryptKL256 decrypts len(src)/16 blocks of src into dst in ECB mode with
// AESDEC256KL X0, (AX): one instruction per block, the AES-256 handle at h.
// It uses X0 (zeroed before return on every path) and AX, CX, SI, DI.
// ZF is tested after every instruction. It returns false at the first block
// whose instruction reports ZF=1 (a rejected handle: no-decrypt or CPL0-only restriction,
// an AES-128 handle, reserved bit, failed integrity check e.g. after
// an IWKey change); that block and the ones after it are not written, but
// the blocks before it are: dst is partially written, so the caller must
// zero dst on false. The caller guarantees len(dst) >= len(src) and
// len(src)%16 == 0 (not checked); dst == src is allowed. #UD (SIGILL)
// unless CPUID.19H:EBX reports AESKLE.
//
//go:noescape
func DecryptKL256(h *[64]byte, dst, src []byte) bool

// EncryptKLWide128 encrypts len(src)/16 blocks of src into dst in ECB mode with
// the AES-128 handle at h: AESENCWIDE128KL (AX) on X0-X7 for each full
// batch of 8 blocks, then AESENC128KL X0, (AX) for each of the n%8 tail
// blocks. It uses X0-X7 (all zeroed before return on every path) and AX,
// CX, DX, SI, DI. ZF is tested after every instruction. It returns false at
// the first instruction that reports ZF=1 (a rejected handle: no-encrypt or CPL0-only restriction,
// an AES-256 handle, reserved bit, failed integrity check e.g.
// after an IWKey change); that batch (or tail block) and everything after it
// is not written, but the batches before it are: dst is partially written,
// so the caller must zero dst on false. The caller guarantees len(dst) >=
// len(src) and len(src)%16 == 0 (not checked); dst == src is allowed. #UD
// (SIGILL) unless CPUID.19H:EBX reports AESKLE and WIDE_KL.
//
//go:noescape
func EncryptKLWide128(h *[64]byte, dst, src []byte) bool

// DecryptKLWide128 decrypts len(src)/16 blocks of src into dst in ECB mode with
// the AES-128 handle at h: AESDECWIDE128KL (AX) on X0-X7 for each full
// batch of 8 blocks, then AESDEC128KL X0, (AX) for each of the n%8 tail
// blocks. It uses X0-X7 (all zeroed before return on every path) and AX,
// CX, DX, SI, DI. ZF is tested after every instruction. It returns false at
// the first instruction that reports ZF=1 (a rejected handle: no-decrypt or CPL0-only restriction,
// an AES-256 handle, reserved bit, failed integrity check e.g.
// after an IWKey change); that batch (or tail block) and everything after it
// is not written, but the batches before it are: dst is partially written,
// so the caller must zero dst on false. The caller guarantees len(dst) >=
// len(src) and len(src)%16 == 0 (not checked); dst == src is allowed. #UD
// (SIGILL) unless CPUID.19H:EBX reports AESKLE and WIDE_KL.
//
//go:noescape
func DecryptKLWide128(h *[64]byte, dst, src []byte) bool

// EncryptKLWide256 encrypts len(src)/16 blocks of src into dst in ECB mode with
// the AES-256 handle at h: AESENCWIDE256KL (AX) on X0-X7 for each full
// batch of 8 blocks, then AESENC256KL X0, (AX) for each of the n%8 tail
// blocks. It uses X0-X7 (all zeroed before return on every path) and AX,
// CX, DX, SI, DI. ZF is tested after every instruction. It returns false at
// the first instruction that reports ZF=1 (a rejected handle: no-encrypt or CPL0-only restriction,
// an AES-128 handle, reserved bit, failed integrity check e.g.
// after an IWKey change); that batch (or tail block) and everything after it
// is not written, but the batches before it are: dst is partially written,
// so the caller must zero dst on false. The caller guarantees len(dst) >=
// len(src) and len(src)%16 == 0 (not checked); dst == src is allowed. #UD
// (SIGILL) unless CPUID.19H:EBX reports AESKLE and WIDE_KL.
//
//go:noescape
func EncryptKLWide256(h *[64]byte, dst, src []byte) bool

// DecryptKLWide256 decrypts len(src)/16 blocks of src into dst in ECB mode with
// the AES-256 handle at h: AESDECWIDE256KL (AX) on X0-X7 for each full
// batch of 8 blocks, then AESDEC256KL X0, (AX) for each of the n%8 tail
// blocks. It uses X0-X7 (all zeroed before return on every path) and AX,
// CX, DX, SI, DI. ZF is tested after every instruction. It returns false at
// the first instruction that reports ZF=1 (a rejected handle: no-decrypt or CPL0-only restriction,
// an AES-128 handle, reserved bit, failed integrity check e.g.
// after an IWKey change); that batch (or tail block) and everything after it
// is not written, but the batches before it are: dst is partially written,
// so the caller must zero dst on false. The caller guarantees len(dst) >=
// len(src) and len(src)%16 == 0 (not checked); dst == src is allowed. #UD
// (SIGILL) unless CPUID.19H:EBX reports AESKLE and WIDE_KL.
//
//go:noescape
func DecryptKLWide256(h *[64]byte, dst, src []byte) bool

// klEncodeKeyRegs is a test-only probe: it fills X0-X7 with 0xA5 bytes,
// calls EncodeKey128 (bits == 128, key[0:16]) or EncodeKey256 (bits == 256)
// and stores X0-X7 as that routine left them to regs.
//
//go:noescape
func klEncodeKeyRegs(bits int, key *[32]byte, restrictions uint32, h *[64]byte, regs *[8][16]byte) (info uint32)

// klECBRegs is a test-only probe: it fills X0-X7 with 0xA5 bytes, calls the
// ECB routine selected by fn (see klECBFuncs in the tests: 0-3 the single
// forms Encrypt/Decrypt 128/256, 4-7 the WIDE forms in the same order) and
// stores X0-X7 as that routine left them to regs.
//
//go:noescape
func klECBRegs(fn int, h *[64]byte, dst, src []byte, regs *[8][16]byte) bool
