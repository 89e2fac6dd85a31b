//go:build amd64 && !purego

#include "textflag.h"

// Key Locker mode kernels (ARCHITECTURE.md, "Modes: kernel
// contracts"): CTR, CBC encrypt/decrypt, XTS, GCM's CTR with the tag mask.
//
// The Key Locker instructions are raw BYTE runs (the Go assembler knows none
// of them), each commented with its mnemonic in AT&T syntax (what GNU
// objdump prints; klmodes_disasm_test.go checks it) and in Intel syntax.
// Every memory operand is (AX): mod=00 rm=000, no REX, no SIB, no
// displacement, never RIP-relative. The single forms only ever use X0.
// Every Key Locker instruction is followed at once by JZ fail (ZF=1: the
// handle was rejected); fail stores nothing more, clears the vector
// registers and returns false.
//
// The key size is chosen per instruction site from flags (R9 bit 0,
// ModeKey256) by a TESTQ/JNZ in front of the two forms, so each function is
// one body for both key sizes. The number of WIDE batches (CX) is 0 unless
// flags has ModeWide: without it no WIDE opcode is ever executed.
//
// Register use (all ABI0, arguments on the stack):
//   AX  handle pointer (h; hTweak while the XTS tweak is encrypted)
//   SI  src cursor    DI  dst cursor    CX  WIDE batches    BX  single blocks
//   R8  state pointer (ctr, iv, tweak, j0)    R9  flags    DX  scratch
//   R10:R11  CTR counter (high:low 64 bits, native order)
//   R12      CTR increment mask (all ones, or 0xFFFFFFFF for inc32)
//   R13      tagMask pointer (GCMCTR)
//   X0-X7    data / keystream (X0-X7 implicit operands of AES*WIDE*KL)
//   X8-X15   CTR: X8 scratch, X15 byte-swap mask; CBC: X8 chaining value,
//            X9-X10 scratch; XTS: X8-X15 the 8 tweaks of a WIDE batch
// ABI0 functions may clobber X15 and R14 (the ABI wrapper restores them);
// R14, R15, BP and SP are not touched.

// ---------------------------------------------------------------------------
// Key Locker instruction sites. Each macro takes fresh label names (labels
// are function-scoped) and jumps to fail on ZF=1.

// KL_ENC1: X0 = AES-Encrypt(X0) with the handle at (AX); AES-256 form if
// R9 & ModeKey256.
#define KL_ENC1(l256, ldone) \
	TESTQ $1, R9; \
	JNZ   l256; \
	/* aesenc128kl (%rax),%xmm0  (Intel: AESENC128KL xmm0, [rax]) */ \
	BYTE $0xF3; BYTE $0x0F; BYTE $0x38; BYTE $0xDC; BYTE $0x00; \
	JZ    fail; \
	JMP   ldone; \
l256: \
	/* aesenc256kl (%rax),%xmm0  (Intel: AESENC256KL xmm0, [rax]) */ \
	BYTE $0xF3; BYTE $0x0F; BYTE $0x38; BYTE $0xDE; BYTE $0x00; \
	JZ    fail; \
ldone:

// KL_DEC1: X0 = AES-Decrypt(X0) with the handle at (AX).
#define KL_DEC1(l256, ldone) \
	TESTQ $1, R9; \
	JNZ   l256; \
	/* aesdec128kl (%rax),%xmm0  (Intel: AESDEC128KL xmm0, [rax]) */ \
	BYTE $0xF3; BYTE $0x0F; BYTE $0x38; BYTE $0xDD; BYTE $0x00; \
	JZ    fail; \
	JMP   ldone; \
l256: \
	/* aesdec256kl (%rax),%xmm0  (Intel: AESDEC256KL xmm0, [rax]) */ \
	BYTE $0xF3; BYTE $0x0F; BYTE $0x38; BYTE $0xDF; BYTE $0x00; \
	JZ    fail; \
ldone:

// KL_ENCW: X0-X7 = AES-Encrypt(X0-X7) with the handle at (AX).
#define KL_ENCW(l256, ldone) \
	TESTQ $1, R9; \
	JNZ   l256; \
	/* aesencwide128kl (%rax)  (Intel: AESENCWIDE128KL [rax]) */ \
	BYTE $0xF3; BYTE $0x0F; BYTE $0x38; BYTE $0xD8; BYTE $0x00; \
	JZ    fail; \
	JMP   ldone; \
l256: \
	/* aesencwide256kl (%rax)  (Intel: AESENCWIDE256KL [rax]) */ \
	BYTE $0xF3; BYTE $0x0F; BYTE $0x38; BYTE $0xD8; BYTE $0x10; \
	JZ    fail; \
ldone:

// KL_DECW: X0-X7 = AES-Decrypt(X0-X7) with the handle at (AX).
#define KL_DECW(l256, ldone) \
	TESTQ $1, R9; \
	JNZ   l256; \
	/* aesdecwide128kl (%rax)  (Intel: AESDECWIDE128KL [rax]) */ \
	BYTE $0xF3; BYTE $0x0F; BYTE $0x38; BYTE $0xD8; BYTE $0x08; \
	JZ    fail; \
	JMP   ldone; \
l256: \
	/* aesdecwide256kl (%rax)  (Intel: AESDECWIDE256KL [rax]) */ \
	BYTE $0xF3; BYTE $0x0F; BYTE $0x38; BYTE $0xD8; BYTE $0x18; \
	JZ    fail; \
ldone:

// ---------------------------------------------------------------------------
// Helpers.

// LOAD8 loads 8 blocks from (SI) into X0-X7.
#define LOAD8 \
	MOVOU 0(SI), X0; MOVOU 16(SI), X1; MOVOU 32(SI), X2; MOVOU 48(SI), X3; \
	MOVOU 64(SI), X4; MOVOU 80(SI), X5; MOVOU 96(SI), X6; MOVOU 112(SI), X7

// STORE8 stores X0-X7 to 8 blocks at (DI).
#define STORE8 \
	MOVOU X0, 0(DI); MOVOU X1, 16(DI); MOVOU X2, 32(DI); MOVOU X3, 48(DI); \
	MOVOU X4, 64(DI); MOVOU X5, 80(DI); MOVOU X6, 96(DI); MOVOU X7, 112(DI)

// XORSRC8 XORs the 8 blocks at (SI) into X0-X7 (unaligned loads via X8).
#define XORSRC8 \
	MOVOU 0(SI), X8; PXOR X8, X0; MOVOU 16(SI), X8; PXOR X8, X1; \
	MOVOU 32(SI), X8; PXOR X8, X2; MOVOU 48(SI), X8; PXOR X8, X3; \
	MOVOU 64(SI), X8; PXOR X8, X4; MOVOU 80(SI), X8; PXOR X8, X5; \
	MOVOU 96(SI), X8; PXOR X8, X6; MOVOU 112(SI), X8; PXOR X8, X7

#define CLEAR_X0_X7 \
	PXOR X0, X0; PXOR X1, X1; PXOR X2, X2; PXOR X3, X3; \
	PXOR X4, X4; PXOR X5, X5; PXOR X6, X6; PXOR X7, X7

#define CLEAR_X8_X15 \
	PXOR X8, X8; PXOR X9, X9; PXOR X10, X10; PXOR X11, X11; \
	PXOR X12, X12; PXOR X13, X13; PXOR X14, X14; PXOR X15, X15

// SPLIT_BLOCKS: BX holds the block count. With ModeWide (R9 bit 1) split it
// into CX = BX/8 WIDE batches and BX = BX%8 single blocks; else CX = 0.
#define SPLIT_BLOCKS(lnowide) \
	XORQ  CX, CX; \
	TESTQ $2, R9; \
	JZ    lnowide; \
	MOVQ  BX, CX; \
	SHRQ  $3, CX; \
	ANDQ  $7, BX; \
lnowide:

// ---------------------------------------------------------------------------
// CTR. The counter lives in R10 (high 64 bits) : R11 (low 64 bits) as native
// integers. A counter block is built as X = R11 | R10<<64, then PSHUFB with
// the byte-reversal mask in X15 gives the big-endian block.
//
// CTR_INC adds 1 to the counter: DX = the bits of R11 that R11+1 changes,
// restricted by the mask R12 (all ones: the whole low half may change;
// 0xFFFFFFFF: only the low 32 bits, i.e. inc32 wrapping mod 2^32), applied
// to R11 by XOR. The carry into R10 happens exactly when every bit of R11
// changed (R11 was all ones and the mask is all ones): then DX+1 carries.
// Branch-free, so both modes share one loop.
#define CTR_INC \
	LEAQ 1(R11), DX; \
	XORQ R11, DX; \
	ANDQ R12, DX; \
	XORQ DX, R11; \
	ADDQ $1, DX; \
	ADCQ $0, R10

// CTR_BLOCK(X) sets X to the current counter block and increments the counter.
#define CTR_BLOCK(x) \
	MOVQ   R11, x; \
	PINSRQ $1, R10, x; \
	PSHUFB X15, x; \
	CTR_INC

// BSWAP_MASK sets X15 to the PSHUFB mask that reverses 16 bytes.
#define BSWAP_MASK \
	MOVQ   $0x08090a0b0c0d0e0f, DX; \
	MOVQ   DX, X15; \
	MOVQ   $0x0001020304050607, DX; \
	PINSRQ $1, DX, X15

// CTR_LOAD loads the big-endian counter at (R8) into R10:R11.
#define CTR_LOAD \
	MOVQ   0(R8), R10; \
	BSWAPQ R10; \
	MOVQ   8(R8), R11; \
	BSWAPQ R11

// CTR_LOOP: dst = src XOR keystream for CX WIDE batches then BX single
// blocks. The keystream of a batch or block is XORed with src and stored
// only after its Key Locker instruction reported ZF=0. Each src block is
// read just before the dst block at the same offset is written: in place
// works.
#define CTR_LOOP \
	TESTQ CX, CX; \
	JZ    ctrtail; \
ctrwide: \
	CTR_BLOCK(X0); CTR_BLOCK(X1); CTR_BLOCK(X2); CTR_BLOCK(X3); \
	CTR_BLOCK(X4); CTR_BLOCK(X5); CTR_BLOCK(X6); CTR_BLOCK(X7); \
	KL_ENCW(ctrw256, ctrwdone); \
	XORSRC8; \
	STORE8; \
	ADDQ  $128, SI; \
	ADDQ  $128, DI; \
	DECQ  CX; \
	JNZ   ctrwide; \
ctrtail: \
	TESTQ BX, BX; \
	JZ    ctrdone; \
ctrsingle: \
	CTR_BLOCK(X0); \
	KL_ENC1(ctrs256, ctrsdone); \
	MOVOU (SI), X8; \
	PXOR  X8, X0; \
	MOVOU X0, (DI); \
	ADDQ  $16, SI; \
	ADDQ  $16, DI; \
	DECQ  BX; \
	JNZ   ctrsingle; \
ctrdone:

// func KLCTR(h *[64]byte, dst, src []byte, ctr *[16]byte, flags int) bool
TEXT ·KLCTR(SB), NOSPLIT, $0-73
	MOVQ h+0(FP), AX
	MOVQ dst_base+8(FP), DI
	MOVQ src_base+32(FP), SI
	MOVQ src_len+40(FP), BX
	SHRQ $4, BX
	MOVQ ctr+56(FP), R8
	MOVQ flags+64(FP), R9
	SPLIT_BLOCKS(nowide)
	BSWAP_MASK
	CTR_LOAD
	MOVQ  $-1, R12         // whole 128-bit increment
	TESTQ $4, R9           // ModeInc32
	JZ    loop
	MOVL  $0xFFFFFFFF, R12 // inc32: only the low 32 bits change

loop:
	CTR_LOOP
	BSWAPQ R10
	BSWAPQ R11
	MOVQ   R10, 0(R8)
	MOVQ   R11, 8(R8)
	CLEAR_X0_X7
	PXOR   X8, X8
	PXOR   X15, X15
	MOVB   $1, ret+72(FP)
	RET

fail:
	CLEAR_X0_X7
	PXOR X8, X8
	PXOR X15, X15
	MOVB $0, ret+72(FP)
	RET

// func KLGCMCTR(h *[64]byte, dst, src []byte, j0, tagMask *[16]byte, flags int) bool
TEXT ·KLGCMCTR(SB), NOSPLIT, $0-81
	MOVQ h+0(FP), AX
	MOVQ dst_base+8(FP), DI
	MOVQ src_base+32(FP), SI
	MOVQ src_len+40(FP), BX
	SHRQ $4, BX
	MOVQ j0+56(FP), R8
	MOVQ tagMask+64(FP), R13
	MOVQ flags+72(FP), R9
	SPLIT_BLOCKS(nowide)

	// *tagMask = E(*j0)
	MOVOU (R8), X0
	KL_ENC1(tm256, tmdone)
	MOVOU X0, (R13)

	// Counter blocks inc32(J0), inc32(J0)+1, ... (always inc32).
	BSWAP_MASK
	CTR_LOAD
	MOVL $0xFFFFFFFF, R12
	CTR_INC
	CTR_LOOP
	CLEAR_X0_X7
	PXOR X8, X8
	PXOR X15, X15
	MOVB $1, ret+80(FP)
	RET

fail:
	CLEAR_X0_X7
	PXOR X8, X8
	PXOR X15, X15
	MOVB $0, ret+80(FP)
	RET

// ---------------------------------------------------------------------------
// CBC.

// func KLCBCEncrypt(h *[64]byte, dst, src []byte, iv *[16]byte, flags int) bool
// X1 = chaining value, X0 = the block. Always the single forms.
TEXT ·KLCBCEncrypt(SB), NOSPLIT, $0-73
	MOVQ  h+0(FP), AX
	MOVQ  dst_base+8(FP), DI
	MOVQ  src_base+32(FP), SI
	MOVQ  src_len+40(FP), BX
	SHRQ  $4, BX
	MOVQ  iv+56(FP), R8
	MOVQ  flags+64(FP), R9
	MOVOU (R8), X1
	TESTQ BX, BX
	JZ    done

loop:
	MOVOU (SI), X0
	PXOR  X1, X0
	KL_ENC1(e256, edone)
	MOVOU X0, (DI)
	MOVOU X0, X1
	ADDQ  $16, SI
	ADDQ  $16, DI
	DECQ  BX
	JNZ   loop

done:
	MOVOU X1, (R8)
	PXOR  X0, X0
	PXOR  X1, X1
	MOVB  $1, ret+72(FP)
	RET

fail:
	PXOR X0, X0
	PXOR X1, X1
	MOVB $0, ret+72(FP)
	RET

// func KLCBCDecrypt(h *[64]byte, dst, src []byte, iv *[16]byte, flags int) bool
// X8 = chaining value (the previous ciphertext block), X9, X10 scratch.
// Every ciphertext block a batch or block needs is read before the batch or
// block is stored, so dst == src works.
TEXT ·KLCBCDecrypt(SB), NOSPLIT, $0-73
	MOVQ  h+0(FP), AX
	MOVQ  dst_base+8(FP), DI
	MOVQ  src_base+32(FP), SI
	MOVQ  src_len+40(FP), BX
	SHRQ  $4, BX
	MOVQ  iv+56(FP), R8
	MOVQ  flags+64(FP), R9
	SPLIT_BLOCKS(nowide)
	MOVOU (R8), X8
	TESTQ CX, CX
	JZ    tail

wide:
	LOAD8
	KL_DECW(w256, wdone)
	MOVOU 112(SI), X9 // next chaining value
	PXOR  X8, X0
	MOVOU 0(SI), X10
	PXOR  X10, X1
	MOVOU 16(SI), X10
	PXOR  X10, X2
	MOVOU 32(SI), X10
	PXOR  X10, X3
	MOVOU 48(SI), X10
	PXOR  X10, X4
	MOVOU 64(SI), X10
	PXOR  X10, X5
	MOVOU 80(SI), X10
	PXOR  X10, X6
	MOVOU 96(SI), X10
	PXOR  X10, X7
	MOVOU X9, X8
	STORE8
	ADDQ  $128, SI
	ADDQ  $128, DI
	DECQ  CX
	JNZ   wide

tail:
	TESTQ BX, BX
	JZ    done

single:
	MOVOU (SI), X0
	MOVOU X0, X9
	KL_DEC1(s256, sdone)
	PXOR  X8, X0
	MOVOU X9, X8
	MOVOU X0, (DI)
	ADDQ  $16, SI
	ADDQ  $16, DI
	DECQ  BX
	JNZ   single

done:
	MOVOU X8, (R8)
	CLEAR_X0_X7
	PXOR  X8, X8
	PXOR  X9, X9
	PXOR  X10, X10
	MOVB  $1, ret+72(FP)
	RET

fail:
	CLEAR_X0_X7
	PXOR X8, X8
	PXOR X9, X9
	PXOR X10, X10
	MOVB $0, ret+72(FP)
	RET

// ---------------------------------------------------------------------------
// XTS.

// GF_MASK(x) sets x to the doubling mask: dword 0 = 0x87 (the reduction of
// x^128 = x^7 + x^2 + x + 1), dword 2 = 1 (the carry from bit 63 into bit 64).
#define GF_MASK(x) \
	MOVQ   $0x87, DX; \
	MOVQ   DX, x; \
	MOVQ   $1, DX; \
	PINSRQ $1, DX, x

// GF_DOUBLE(src, dst, tmp, mask): dst = src * x in GF(2^128), IEEE 1619
// little-endian convention. PSHUFD $0x13 puts dword 3 of src in dword 0 and
// dword 1 in dword 2; PSRAD $31 turns them into all-ones where bit 127 / bit
// 63 was set; PAND keeps 0x87 / 1 there; PADDQ shifts each 64-bit half left
// by one; PXOR adds the reduction and the carry between the halves.
// dst may be src.
#define GF_DOUBLE(src, dst, tmp, mask) \
	PSHUFD $0x13, src, tmp; \
	MOVOU  src, dst; \
	PADDQ  dst, dst; \
	PSRAL  $31, tmp; \
	PAND   mask, tmp; \
	PXOR   tmp, dst

// XOR_TWEAKS8 XORs X8-X15 into X0-X7.
#define XOR_TWEAKS8 \
	PXOR X8, X0; PXOR X9, X1; PXOR X10, X2; PXOR X11, X3; \
	PXOR X12, X4; PXOR X13, X5; PXOR X14, X6; PXOR X15, X7

// func KLXTS(h, hTweak *[64]byte, dst, src []byte, tweak *[16]byte, flags int) bool
// X8 = the current tweak; in a WIDE batch X8-X15 = T, T*x, ..., T*x^7
// (computed with X6 scratch and X7 the doubling mask before the data is
// loaded). Tail: X9 mask, X10 scratch.
TEXT ·KLXTS(SB), NOSPLIT, $0-81
	MOVQ  tweak+64(FP), R8
	MOVQ  flags+72(FP), R9
	MOVOU (R8), X8
	MOVQ  hTweak+8(FP), AX
	TESTQ AX, AX
	JZ    data

	// T = E_tweakkey(*tweak): always the encrypt form.
	MOVOU X8, X0
	KL_ENC1(t256, tdone)
	MOVOU X0, X8

data:
	MOVQ h+0(FP), AX
	MOVQ dst_base+16(FP), DI
	MOVQ src_base+40(FP), SI
	MOVQ src_len+48(FP), BX
	SHRQ $4, BX
	SPLIT_BLOCKS(nowide)
	TESTQ CX, CX
	JZ    tail

wide:
	GF_MASK(X7)
	GF_DOUBLE(X8, X9, X6, X7)
	GF_DOUBLE(X9, X10, X6, X7)
	GF_DOUBLE(X10, X11, X6, X7)
	GF_DOUBLE(X11, X12, X6, X7)
	GF_DOUBLE(X12, X13, X6, X7)
	GF_DOUBLE(X13, X14, X6, X7)
	GF_DOUBLE(X14, X15, X6, X7)
	LOAD8
	XOR_TWEAKS8
	TESTQ $8, R9 // ModeDecrypt
	JNZ   wdec
	KL_ENCW(we256, wedone)
	JMP   wdone

wdec:
	KL_DECW(wd256, wddone)

wdone:
	XOR_TWEAKS8
	STORE8
	GF_MASK(X7)
	GF_DOUBLE(X15, X8, X6, X7) // the next batch's first tweak
	ADDQ $128, SI
	ADDQ $128, DI
	DECQ CX
	JNZ  wide

tail:
	TESTQ BX, BX
	JZ    done
	GF_MASK(X9)

single:
	MOVOU (SI), X0
	PXOR  X8, X0
	TESTQ $8, R9 // ModeDecrypt
	JNZ   sdec
	KL_ENC1(se256, sedone)
	JMP   sdone

sdec:
	KL_DEC1(sd256, sddone)

sdone:
	PXOR  X8, X0
	MOVOU X0, (DI)
	GF_DOUBLE(X8, X8, X10, X9)
	ADDQ  $16, SI
	ADDQ  $16, DI
	DECQ  BX
	JNZ   single

done:
	MOVOU X8, (R8)
	CLEAR_X0_X7
	CLEAR_X8_X15
	MOVB  $1, ret+80(FP)
	RET

fail:
	CLEAR_X0_X7
	CLEAR_X8_X15
	MOVB $0, ret+80(FP)
	RET

// ---------------------------------------------------------------------------
// Test-only probe (klmodes_*_test.go): fills X0-X15 with 0xA5 bytes, CALLs
// the kernel selected by fn with the ABI0 argument words a[0:10], copies the
// argument frame (including the result byte) back to a[0:11] and dumps
// X0-X15 as the kernel left them to regs.

// func klModeRegs(fn int, a *[11]uint64, regs *[16][16]byte)
// fn: 0 KLCTR, 1 KLCBCEncrypt, 2 KLCBCDecrypt, 3 KLXTS, 4 KLGCMCTR.
TEXT ·klModeRegs(SB), NOSPLIT, $88-24
	MOVQ a+8(FP), R11
	MOVQ 0(R11), AX
	MOVQ AX, 0(SP)
	MOVQ 8(R11), AX
	MOVQ AX, 8(SP)
	MOVQ 16(R11), AX
	MOVQ AX, 16(SP)
	MOVQ 24(R11), AX
	MOVQ AX, 24(SP)
	MOVQ 32(R11), AX
	MOVQ AX, 32(SP)
	MOVQ 40(R11), AX
	MOVQ AX, 40(SP)
	MOVQ 48(R11), AX
	MOVQ AX, 48(SP)
	MOVQ 56(R11), AX
	MOVQ AX, 56(SP)
	MOVQ 64(R11), AX
	MOVQ AX, 64(SP)
	MOVQ 72(R11), AX
	MOVQ AX, 72(SP)
	MOVQ $0, 80(SP)
	MOVQ $0xA5A5A5A5A5A5A5A5, R11
	MOVQ R11, X0
	PUNPCKLQDQ X0, X0
	MOVOU X0, X1; MOVOU X0, X2; MOVOU X0, X3; MOVOU X0, X4
	MOVOU X0, X5; MOVOU X0, X6; MOVOU X0, X7; MOVOU X0, X8
	MOVOU X0, X9; MOVOU X0, X10; MOVOU X0, X11; MOVOU X0, X12
	MOVOU X0, X13; MOVOU X0, X14; MOVOU X0, X15
	MOVQ fn+0(FP), AX
	CMPQ AX, $0
	JEQ  f0
	CMPQ AX, $1
	JEQ  f1
	CMPQ AX, $2
	JEQ  f2
	CMPQ AX, $3
	JEQ  f3
	CALL ·KLGCMCTR(SB)
	JMP  dump

f0:
	CALL ·KLCTR(SB)
	JMP  dump

f1:
	CALL ·KLCBCEncrypt(SB)
	JMP  dump

f2:
	CALL ·KLCBCDecrypt(SB)
	JMP  dump

f3:
	CALL ·KLXTS(SB)

dump:
	MOVQ regs+16(FP), R11
	MOVOU X0, 0(R11); MOVOU X1, 16(R11); MOVOU X2, 32(R11); MOVOU X3, 48(R11)
	MOVOU X4, 64(R11); MOVOU X5, 80(R11); MOVOU X6, 96(R11); MOVOU X7, 112(R11)
	MOVOU X8, 128(R11); MOVOU X9, 144(R11); MOVOU X10, 160(R11); MOVOU X11, 176(R11)
	MOVOU X12, 192(R11); MOVOU X13, 208(R11); MOVOU X14, 224(R11); MOVOU X15, 240(R11)
	PXOR X15, X15
	MOVQ a+8(FP), R11
	MOVQ 72(SP), AX
	MOVQ AX, 72(R11)
	MOVQ 80(SP), AX
	MOVQ AX, 80(R11)
	RET
