package main

import (
	"fmt"
	"strings"

	"github.com/go-keylocker/keylocker/internal/kernel"
)

// The doc comments of the generated declarations: the contracts.

var docInit = fmt.Sprintf(`
SealedInit computes the precomputation at region[%d:%d] from IK and EK
at region[%d:%d]: the AES-256 key schedule of EK at region[%d:%d], the
POLYVAL powers H_1..H_8 at region[%d:%d] and InvMixColumns of EK's
round keys 1-13 (the decryption round keys of the equivalent inverse
cipher, with which the routines decrypt a handle's tag) at
region[%d:%d]. It reads and writes nothing else. IK, EK and the
intermediate values pass through X0-X15 only, which are zero on return
(PXOR: no AVX needed; the upper lanes and Z16-Z31 are not touched).
General registers: DI, and AX, CX, DX, DI in the signal-frame hooks
(called first and right before the return). Needs AES-NI, PCLMULQDQ and
SSSE3.`,
	kernel.RegionRoundEK, kernel.RegionEnd, kernel.RegionIK, kernel.RegionEK+32,
	kernel.RegionRoundEK, kernel.RegionHPowers, kernel.RegionHPowers, kernel.RegionRoundDK,
	kernel.RegionRoundDK, kernel.RegionEnd)

const docEncodeKey = `
sealedEncodeKey is SealedEncodeKey without the length check (keyLen 16 is
AES-128, 24 AES-192, any other value AES-256): it wraps key[0:keyLen] under
the wrapping key in region (SealedInit must have run) and stores the
handle in h: metadata (restrictions&7 | key type<<24), the tag and the
wrapped key, 48 bytes for AES-128 (h[48:64] zeroed) and 64 otherwise.
The key is loaded from the caller's memory straight into X1 (and X2) and
leaves the registers only wrapped; X0-X15 are zero on return (PXOR, the
upper lanes not touched). General registers: AX, CX, DX, SI, DI, R9, and
AX, CX, DX, DI in the signal-frame hooks (called first and right before
the return). Needs AES-NI and PCLMULQDQ.`

const docECBCommon = `
In registers: the handle's key is unwrapped (AES-256 CTR with the region's
round keys), its tag recomputed (POLYVAL with the region's powers of H,
AES-256) and compared in constant time, the AES-128/192/256 key schedule
is expanded, then the blocks are processed. The key type comes from the
metadata. One block takes the register-only route on every path (the
schedule in X1-X15, the block in X0). With 2 or more blocks the AES-NI
path (8 blocks in flight, then 4, then 1) and the ymm path (16, 8, 2, 1)
also keep the schedule in a 240-byte area of this routine's own stack
frame, zeroed before it returns: xmm0-15 cannot hold 8 blocks and 15 round
keys. The zmm path (32, 16, 4, then 1-3 blocks under a mask) keeps the
broadcast schedule in Z16-Z30 and never writes it to memory. The prologue
(unwrap, tag check, key expansion) is SSE code on every path.

Registers: AX, BX, CX, DX, SI, DI, R8-R11 (addresses, counts and the key
type only: nothing secret); X0-X15 on every path, Y0-Y8 on the ymm path,
Z0-Z30 and K1 on the zmm path. Every vector register used is zero when it
returns, on every path: PXOR of X0-X15 after SSE-only code and on
rejection (no AVX needed; the upper lanes are left as they were),
VZEROALL on the ymm path, VZEROALL and VPXORD of Z16-Z31 (and K1 zeroed)
on the zmm path. The signal-frame hooks are called first and right before
every return, after the registers are zero (they use AX, CX, DX, DI).

It returns false, with nothing written to dst and X0-X15 zeroed, if the
tag does not verify (another wrapping key, a modified handle, nonzero
AES-192 padding), if the metadata has a reserved bit, an unknown key type,
the CPL0-only or the %s restriction, or if len(dst) < len(src).
The caller is expected to have checked the metadata already. With zero
blocks the handle is still verified.`

var docEncrypt = `
SealedEncrypt encrypts len(src)/16 blocks of src into dst (ECB) with the
key wrapped in h, on the given path (PathAESNI, PathVAES256, PathVAES512;
any other value is PathAESNI). dst must be at least as long as src and
either the same memory as src or not overlap it.
` + fmt.Sprintf(docECBCommon, "no-encrypt")

var docDecrypt = `
SealedDecrypt is SealedEncrypt for decryption: it decrypts len(src)/16
blocks of src into dst (ECB) with the key wrapped in h, on the given path
(PathAESNI, PathVAES256, PathVAES512; any other value is PathAESNI). The
decryption schedule (AESIMC of the middle round keys) is built in
registers. dst must be at least as long as src and either the same memory
as src or not overlap it.
` + fmt.Sprintf(docECBCommon, "no-decrypt")

// docModes is the contract every mode kernel shares.
const docModes = `
The kernel unwraps its handle once per call in registers with the wrapping
key region, verifies the tag, checks the metadata itself (reserved bits,
key type, CPL0-only, and the %s restriction), expands the key schedule in
registers and runs the blocks on the given path (PathAESNI, PathVAES256,
PathVAES512; any other value is PathAESNI), as SealedEncrypt does. The key
type comes from the handle's metadata: flags&ModeKey256 and flags&ModeWide
are ignored. len(src)/16 whole blocks are processed; the caller
guarantees len(src)%%16 == 0 and dst == src or no overlap. len(dst) <
len(src) returns false with nothing written. A handle that does not
verify or whose metadata forbids the use returns false: nothing is
written to dst and the state (%s) is left untouched. On true the state is
updated so that consecutive calls chain.

Registers: AX, BX, CX, DX, SI, DI, %s (addresses, counts, the key
type%s only); X0-X15 on every path, %s. Every vector register
used is zero on return, on every path (X0-X15 by PXOR after SSE-only
code and on rejection, Z0-Z15 after the ymm path's VZEROALL, Z0-Z31 and
K1 after the zmm path). The round keys never leave the registers except,
on the AES-NI and ymm paths, into a 16-byte aligned area of the kernel's
own stack frame that is zeroed before it returns; the zmm path keeps them
in Z16-Z30.%s The signal-frame hooks are called first and right before
every return, after the registers are zero (they use AX, CX, DX, DI).`

var docCTR = `
sealedCTR is SealedCTR (tagMask == nil) and SealedGCMCTR (tagMask != nil).
tagMask == nil: dst = src XOR the keystream E(*ctr), E(*ctr+1), ...; the
counter is big-endian and incremented over all 128 bits (as
crypto/cipher.NewCTR) or, with flags&ModeInc32, in its low 32 bits mod
2^32 (GCM's inc32); on true *ctr is advanced by len(src)/16. tagMask !=
nil (GCM): first *tagMask = E(*ctr) (even for zero blocks), then the
keystream from inc32(*ctr) on, always inc32; *ctr is not modified. Paths:
8 blocks per batch on the AES-NI path (then 4, then single blocks), 16 on
ymm (then pairs, then one), 32 on zmm (then masked units of up to 4); a
batch whose counter would carry out of the low 32 bits in full-increment
mode runs as single blocks.
` + fmt.Sprintf(docModes, "no-encrypt", "*ctr, *tagMask", "R8-R14", ", the flags and the counter", "Y0-Y10 on the ymm path, Z0-Z30 and K1 on the zmm path", "")

var docCBCEncrypt = `
SealedCBCEncrypt computes C_i = E(P_i XOR C_(i-1)), C_(-1) = *iv, and
sets *iv to the last ciphertext block. Sequential, one block at a time:
SSE with the spilled schedule on the AES-NI and ymm paths, EVEX on xmm
with the schedule in X16-X30 on the zmm path. The next block's plaintext
and the first round key are folded into the last round key of the current
block, so the dependency chain is the AES rounds only. Needs an
encrypt-capable handle.
` + fmt.Sprintf(docModes, "no-encrypt", "*iv", "R8-R12", "", "Z16-Z31 on the zmm path (the schedule, K_0 in X31)", "")

var docCBCDecrypt = `
SealedCBCDecrypt computes P_i = D(C_i) XOR C_(i-1), C_(-1) = *iv, and
sets *iv to the last ciphertext block (every batch's ciphertext is read
before it is overwritten: dst == src works). Paths: 8 blocks per batch on
the AES-NI path (then 4, then single blocks), 16 on ymm (then pairs, then
one), 32 on zmm (then masked units of up to 4). Needs a decrypt-capable
handle.
` + fmt.Sprintf(docModes, "no-decrypt", "*iv", "R8-R11", "", "Y0-Y10 on the ymm path, Z0-Z31 and K1 on the zmm path", "")

var docXTS = `
SealedXTS encrypts (or, with flags&ModeDecrypt, decrypts) the blocks of
src with the key of h, block i with the tweak T*x^i (IEEE 1619), where T
is E(*tweak) under the key of hTweak if hTweak != nil, else *tweak
itself. On true *tweak = T*x^n, the tweak of the next block. Both handles
are unwrapped and verified in this call: hTweak must allow encryption
(it is always used to encrypt), h the direction of flags. If either is
refused nothing is written and *tweak is untouched. Paths: 8 blocks per
batch on the AES-NI path (then 4, then single blocks), 16 on ymm (then
pairs, then one), 32 on zmm (then masked units of up to 4). The ymm and
zmm paths also need VPCLMULQDQ (every CPU with VAES has it).
` + fmt.Sprintf(docModes, "no-encrypt or no-decrypt (per direction)", "*tweak", "R8-R11, R14", ", the flags", "Y0-Y15 on the ymm path, Z0-Z31 and K1 on the zmm path",
	"\nThe tweak T, and on the AES-NI and ymm paths the tweaks of a batch,\nwait in that area too, zeroed before return.")

var docXTSSectors = `
SealedXTSSectors encrypts (or, with flags&ModeDecrypt, decrypts) the
consecutive sectors of sectorSize bytes in src with the key of h: sector j
(src[j*sectorSize:]) uses the tweak T_j read from tweaks[16*j:16*j+16],
block i of it T_j*x^i (IEEE 1619). The caller encrypts the sector numbers
into tweaks with the tweak key (one SealedEncrypt call for a run of
sectors) and clears them afterwards. h is unwrapped and verified once for
the whole call (it must allow the direction of flags); a rejected handle
returns false before anything is written. It also returns false,
writing nothing, unless len(dst) >= len(src), sectorSize > 0,
sectorSize%16 == 0 and len(src)%sectorSize == 0. The caller guarantees
dst == src or no overlap and that tweaks holds 16 bytes per sector.
General registers used: as SealedXTS, plus R12 (the tweaks) and R13 (the
sectors left); none holds key material. Vector registers and the stack
area are cleared as by SealedXTS.
`

var docGCM = fmt.Sprintf(`
sealedGCM runs GCM's encryption or decryption (flags&ModeDecrypt) over
all of src in one pass, a partial last block included: it stores
*tagMask = E(*ctr) (the tag mask of J0 = *ctr), XORs src with the
keystream from inc32(*ctr) on into dst, and absorbs the ciphertext (dst
when encrypting, src when decrypting), its last block padded with zeros,
into the GHASH state *acc (16 bytes, big-endian as in SP 800-38D) under
the table t (filled by internal/asm/ghash's GHASHInit; its path word is
not read). *ctr is not modified. It runs on the zmm path only (needs
AVX512F, AVX512BW, AVX512VL, VAES and VPCLMULQDQ): any other path returns
false with nothing written. Batches of %[2]d blocks (%[1]d bytes), the
GHASH multiplications of one batch interleaved with the AES rounds of the
same batch (decryption: its ciphertext is read before the batch is
stored, so dst == src works) or of the next one (encryption). The bytes
after the last whole batch (the tail) take one more batch of keystream,
stored and hashed one register of 64 bytes at a time under a byte mask
(nothing outside src and dst is read or written; decryption hashes each
register's ciphertext before storing it), with one reduction for the
whole tail. The batches prefetch the source and the destination %[3]d
bytes ahead (PREFETCHT0, which never faults: past the end of src and dst
too). GHASH and the table's
powers of H are not secret; the key
schedule and the keystream are. A chain of calls gives every call but the
last whole batches. With lens not nil, *lens (GCM's length block) is
absorbed after the ciphertext, as one more block: the state is then
GHASH's result (the tag before the mask); pass it to the last call of a
chain only. *lens is not modified.
`, 16*gcmBatch, gcmBatch, gcmPrefetch) + anyLength(fmt.Sprintf(docModes, "no-encrypt", "*tagMask, *acc", "R8-R14", ", the flags and the counter", "Z0-Z31 and K1 on the zmm path", ""))

const docGCMMessages = `
sealedGCMMessages is sealedGCM over the n messages described at msgs
(n descriptors of internal/kernel's GCMMsg layout, the sealed package's
GCMMessage) with one unwrap of h for all of them: encryption, or
decryption with flags&ModeDecrypt. For each message in order, with J0
its pre-counter block: dst (len bytes) = src (len bytes, a partial last
block included) XOR the keystream from inc32(J0) on; the ciphertext
(dst when encrypting, src when decrypting), its last block padded with
zeros, then the message's length block, are absorbed into its GHASH
state (Acc: the state after the associated data, zero for none); then
Acc is replaced by the tag GHASH XOR E(J0), which the caller compares
(decryption: dst holds the plaintext before that; the caller clears it
if the tag does not match). J0, len and the length block are not
modified. Each message runs as in sealedGCM (batches of 32 blocks with
their GHASH interleaved, the tail under a byte mask, the prefetches);
E(J0) is computed in Z0 after the message and never stored but XORed
into the tag. It runs on the zmm path only (needs AVX512F, AVX512BW,
AVX512VL, VAES and VPCLMULQDQ): any other path returns false with
nothing written. n <= 0 returns true after checking the handle.

The kernel unwraps its handle once per call in registers with the
wrapping key region, verifies the tag and checks the metadata itself
(reserved bits, key type, CPL0-only, and the no-encrypt restriction:
GCM runs the cipher forward in both directions), and expands the key
schedule into registers, as SealedEncrypt does. A handle that does not
verify or whose metadata forbids the use returns false: nothing is
written to any dst or descriptor. The caller guarantees that each
message's dst and src hold len bytes, are the same memory or do not
overlap, and do not overlap any descriptor; n bounds the time the call
runs without preemption (the sealed package's wrapper takes at most
GCMMessagesMax).

Registers: AX, BX, CX, DX, SI, DI, R8-R14 (addresses, counts, the key
type, the flags and the counter only); X0-X15 in the prologue, Z0-Z31
and K1 on the zmm path; every one is zero on return (Z0-Z31 and K1 after
the zmm path, X0-X15 by PXOR on rejection). The round keys never leave
the registers: Z16-Z30. The n argument's slot is counted down to zero.
The signal-frame hooks are called first and right before every return,
after the registers are zero (they use AX, CX, DX, DI).`

// anyLength turns docModes' whole-blocks rule into sealedGCM's: any
// length.
func anyLength(doc string) string {
	const blocks = "len(src)/16 whole blocks are processed; the caller\nguarantees len(src)%16 == 0 and dst == src or no overlap."
	if !strings.Contains(doc, blocks) {
		panic("docModes: the whole-blocks rule moved")
	}
	return strings.Replace(doc, blocks, "All of src is processed, a partial last block included;\nthe caller guarantees dst == src or no overlap.", 1)
}

const docEncodeRandom = `
sealedEncodeRandom is sealedEncodeKey on a key that never exists in
memory: keyLen/8 64-bit words are drawn from %s
into X1 (and X2), word 0 in the low half of X1 (AES-192: the third word
in the low half of X2, the high half zero), XORed there with
entropy[0:keyLen] (pass zeros for none), and wrapped as sealedEncodeKey
wraps a key (keyLen 16 is AES-128, 24 AES-192, any other value AES-256).
Each word is tried up to %d times with RDSEED (PAUSE between tries) if
sources&%d != 0, then up to %d times with RDRAND if sources&%d != 0; a
try with CF=0 or a word of all ones is retried. If every try of a word
fails it returns false and leaves h untouched; else it stores the handle
and returns true. The words pass through R9 only, which is zero on
return; X0-X15 are zero on return (PXOR, the upper lanes not touched).
General registers: AX, BX, CX, DX, SI, DI, R8-R11, and AX, CX, DX, DI in
the signal-frame hooks (called first and right before every return).
Never set a bit in sources for an instruction the CPU lacks (#UD). Needs
AES-NI, PCLMULQDQ and SSE4.1.`
