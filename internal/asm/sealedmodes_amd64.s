//go:build amd64 && !purego

#include "textflag.h"
#include "sealed_amd64.h"

// Sealed mode kernels (ARCHITECTURE.md, "Modes: kernel
// contracts"): CTR (and GCM's CTR), CBC encryption and decryption, XTS over
// a Key Locker handle unwrapped in registers with the process wrapping key
// region, on the AES-NI (x8), VAES ymm (x16) and VAES zmm (x32) paths. The
// unwrap / tag check / key expansion is SEALED_KEYS of sealed_amd64.h, as in
// the ECB routines; see sealedmodes_amd64.go for the contracts.
//
// General registers (not secret): DI region, SI handle, BX src cursor,
// DX dst cursor, CX blocks left, R8 path, R10 aligned stack area, R11 key
// type (0 AES-128, 1 AES-256, 2 AES-192), R12:R13 the counter (CTR, as a
// little-endian 128-bit integer: R12 low), R14 mode flags, AX/R9 scratch.
//
// Stack area at R10 (16-byte aligned, zeroed before every return that
// follows a successful unwrap): 0-239 the round keys X1-X15 (AES-NI and ymm
// paths), 240-255 the XTS tweak, 256-511 the XTS tweaks of one batch.

// Byte reversal of each 128-bit lane (big-endian counter <-> integer).
DATA smBswap<>+0(SB)/8, $0x08090a0b0c0d0e0f
DATA smBswap<>+8(SB)/8, $0x0001020304050607
DATA smBswap<>+16(SB)/8, $0x08090a0b0c0d0e0f
DATA smBswap<>+24(SB)/8, $0x0001020304050607
DATA smBswap<>+32(SB)/8, $0x08090a0b0c0d0e0f
DATA smBswap<>+40(SB)/8, $0x0001020304050607
DATA smBswap<>+48(SB)/8, $0x08090a0b0c0d0e0f
DATA smBswap<>+56(SB)/8, $0x0001020304050607
GLOBL smBswap<>(SB), RODATA|NOPTR, $64

// smAdd+16k: k in the low dword (k = 0..31). As a table of lanes:
// smAdd+16j for AES-NI (block j), smAdd+32j for ymm (blocks 2j, 2j+1),
// smAdd+64j for zmm (blocks 4j .. 4j+3).
DATA smAdd<>+0(SB)/8, $0
DATA smAdd<>+8(SB)/8, $0
DATA smAdd<>+16(SB)/8, $1
DATA smAdd<>+24(SB)/8, $0
DATA smAdd<>+32(SB)/8, $2
DATA smAdd<>+40(SB)/8, $0
DATA smAdd<>+48(SB)/8, $3
DATA smAdd<>+56(SB)/8, $0
DATA smAdd<>+64(SB)/8, $4
DATA smAdd<>+72(SB)/8, $0
DATA smAdd<>+80(SB)/8, $5
DATA smAdd<>+88(SB)/8, $0
DATA smAdd<>+96(SB)/8, $6
DATA smAdd<>+104(SB)/8, $0
DATA smAdd<>+112(SB)/8, $7
DATA smAdd<>+120(SB)/8, $0
DATA smAdd<>+128(SB)/8, $8
DATA smAdd<>+136(SB)/8, $0
DATA smAdd<>+144(SB)/8, $9
DATA smAdd<>+152(SB)/8, $0
DATA smAdd<>+160(SB)/8, $10
DATA smAdd<>+168(SB)/8, $0
DATA smAdd<>+176(SB)/8, $11
DATA smAdd<>+184(SB)/8, $0
DATA smAdd<>+192(SB)/8, $12
DATA smAdd<>+200(SB)/8, $0
DATA smAdd<>+208(SB)/8, $13
DATA smAdd<>+216(SB)/8, $0
DATA smAdd<>+224(SB)/8, $14
DATA smAdd<>+232(SB)/8, $0
DATA smAdd<>+240(SB)/8, $15
DATA smAdd<>+248(SB)/8, $0
DATA smAdd<>+256(SB)/8, $16
DATA smAdd<>+264(SB)/8, $0
DATA smAdd<>+272(SB)/8, $17
DATA smAdd<>+280(SB)/8, $0
DATA smAdd<>+288(SB)/8, $18
DATA smAdd<>+296(SB)/8, $0
DATA smAdd<>+304(SB)/8, $19
DATA smAdd<>+312(SB)/8, $0
DATA smAdd<>+320(SB)/8, $20
DATA smAdd<>+328(SB)/8, $0
DATA smAdd<>+336(SB)/8, $21
DATA smAdd<>+344(SB)/8, $0
DATA smAdd<>+352(SB)/8, $22
DATA smAdd<>+360(SB)/8, $0
DATA smAdd<>+368(SB)/8, $23
DATA smAdd<>+376(SB)/8, $0
DATA smAdd<>+384(SB)/8, $24
DATA smAdd<>+392(SB)/8, $0
DATA smAdd<>+400(SB)/8, $25
DATA smAdd<>+408(SB)/8, $0
DATA smAdd<>+416(SB)/8, $26
DATA smAdd<>+424(SB)/8, $0
DATA smAdd<>+432(SB)/8, $27
DATA smAdd<>+440(SB)/8, $0
DATA smAdd<>+448(SB)/8, $28
DATA smAdd<>+456(SB)/8, $0
DATA smAdd<>+464(SB)/8, $29
DATA smAdd<>+472(SB)/8, $0
DATA smAdd<>+480(SB)/8, $30
DATA smAdd<>+488(SB)/8, $0
DATA smAdd<>+496(SB)/8, $31
DATA smAdd<>+504(SB)/8, $0
GLOBL smAdd<>(SB), RODATA|NOPTR, $512

// smMasks+2n: the K mask of n blocks (2n qwords) of a zmm register, n = 0..4.
DATA smMasks<>+0(SB)/8, $0x003f000f00030000
DATA smMasks<>+8(SB)/8, $0x00000000000000ff
GLOBL smMasks<>(SB), RODATA|NOPTR, $16

// XTS doubling mask (0x87 into the low qword, the carry into the high one).
DATA smXtsMask<>+0(SB)/8, $0x0000000000000087
DATA smXtsMask<>+8(SB)/8, $0x0000000000000001
GLOBL smXtsMask<>(SB), RODATA|NOPTR, $16

// x^128 = x^7+x^2+x+1 (0x87) in the low qword of each lane.
DATA smPoly<>+0(SB)/8, $0x0000000000000087
DATA smPoly<>+8(SB)/8, $0x0000000000000000
DATA smPoly<>+16(SB)/8, $0x0000000000000087
DATA smPoly<>+24(SB)/8, $0x0000000000000000
DATA smPoly<>+32(SB)/8, $0x0000000000000087
DATA smPoly<>+40(SB)/8, $0x0000000000000000
DATA smPoly<>+48(SB)/8, $0x0000000000000087
DATA smPoly<>+56(SB)/8, $0x0000000000000000
GLOBL smPoly<>(SB), RODATA|NOPTR, $64

// Rounds with the schedule in the stack area at R10 (slot i-1 = Xi):
// R(OP, OFF) applies OP with the round key at OFF(R10) to the blocks.
#define SM_SENC(R, XOR, ENC, LAST, L256, L192, LC) \
	CMPQ R11, $1; JEQ L256; JA L192; \
	R(XOR, 64); JMP LC; \
L192: \
	R(XOR, 32); R(ENC, 48); R(ENC, 64); JMP LC; \
L256: \
	R(XOR, 0); R(ENC, 16); R(ENC, 32); R(ENC, 48); R(ENC, 64); \
LC: \
	R(ENC, 80); R(ENC, 96); R(ENC, 112); R(ENC, 128); R(ENC, 144); \
	R(ENC, 160); R(ENC, 176); R(ENC, 192); R(ENC, 208); R(LAST, 224)

#define SM_SDEC(R, XOR, DEC, LAST, L256, L192, LD) \
	R(XOR, 224); R(DEC, 208); R(DEC, 192); R(DEC, 176); R(DEC, 160); \
	R(DEC, 144); R(DEC, 128); R(DEC, 112); R(DEC, 96); R(DEC, 80); \
	CMPQ R11, $1; JEQ L256; JA L192; \
	R(LAST, 64); JMP LD; \
L192: \
	R(DEC, 64); R(DEC, 48); R(LAST, 32); JMP LD; \
L256: \
	R(DEC, 64); R(DEC, 48); R(DEC, 32); R(DEC, 16); R(LAST, 0); \
LD: \
	NOP

// Rounds with the schedule broadcast in Z16-Z30 (zmm path).
#define SM_ZENC(R, L256, L192, LC) \
	CMPQ R11, $1; JEQ L256; JA L192; \
	R(VPXORD, Z20); JMP LC; \
L192: \
	R(VPXORD, Z18); R(VAESENC, Z19); R(VAESENC, Z20); JMP LC; \
L256: \
	R(VPXORD, Z16); R(VAESENC, Z17); R(VAESENC, Z18); R(VAESENC, Z19); R(VAESENC, Z20); \
LC: \
	R(VAESENC, Z21); R(VAESENC, Z22); R(VAESENC, Z23); R(VAESENC, Z24); R(VAESENC, Z25); \
	R(VAESENC, Z26); R(VAESENC, Z27); R(VAESENC, Z28); R(VAESENC, Z29); R(VAESENCLAST, Z30)

#define SM_ZDEC(R, L256, L192, LD) \
	R(VPXORD, Z30); R(VAESDEC, Z29); R(VAESDEC, Z28); R(VAESDEC, Z27); R(VAESDEC, Z26); \
	R(VAESDEC, Z25); R(VAESDEC, Z24); R(VAESDEC, Z23); R(VAESDEC, Z22); R(VAESDEC, Z21); \
	CMPQ R11, $1; JEQ L256; JA L192; \
	R(VAESDECLAST, Z20); JMP LD; \
L192: \
	R(VAESDEC, Z20); R(VAESDEC, Z19); R(VAESDECLAST, Z18); JMP LD; \
L256: \
	R(VAESDEC, Z20); R(VAESDEC, Z19); R(VAESDEC, Z18); R(VAESDEC, Z17); R(VAESDECLAST, Z16); \
LD: \
	NOP

// One block in X0 with the schedule still in X1-X15 (right after SM_KEYS).
#define SM_XENC1(L256, L192, LC) \
	CMPQ R11, $1; JEQ L256; JA L192; \
	PXOR X5, X0; JMP LC; \
L192: \
	PXOR X3, X0; AESENC X4, X0; AESENC X5, X0; JMP LC; \
L256: \
	PXOR X1, X0; AESENC X2, X0; AESENC X3, X0; AESENC X4, X0; AESENC X5, X0; \
LC: \
	AESENC X6, X0; AESENC X7, X0; AESENC X8, X0; AESENC X9, X0; AESENC X10, X0; \
	AESENC X11, X0; AESENC X12, X0; AESENC X13, X0; AESENC X14, X0; AESENCLAST X15, X0

// Block sets for R: one block in X0 (SSE, aligned memory key), one block in
// X0 (VEX), one block in Z0 (zmm keys).
#define SM_A1(OP, OFF) OP OFF(R10), X0
#define SM_Y1(OP, OFF) OP OFF(R10), X0, X0
#define SM_Z1(OP, K) OP K, Z0, Z0

// XTS: T = T*x (IEEE 1619: little-endian, x^128 = x^7+x^2+x+1). SSE and VEX.
#define SM_DBL(T, TMP) \
	PSHUFD $0x13, T, TMP; PSRAL $31, TMP; PAND smXtsMask<>(SB), TMP; \
	PADDQ T, T; PXOR TMP, T
#define SM_VDBL(T, TMP) \
	VPSHUFD $0x13, T, TMP; VPSRAD $31, TMP, TMP; VPAND smXtsMask<>(SB), TMP, TMP; \
	VPADDQ T, T, T; VPXOR TMP, T, T

// D = S * x^K in each 128-bit lane (1 <= K <= 56): the K bits shifted out of
// the top are multiplied by 0x87 with VPCLMULQDQ. S == D is allowed.
#define SM_YMULX(K, S, D, T1, T2) \
	VPSRLQ $(64-K), S, T1; \
	VPCLMULQDQ $0x01, smPoly<>(SB), T1, T2; \
	VPSLLDQ $8, T1, T1; \
	VPSLLQ $K, S, D; \
	VPXOR T1, D, D; \
	VPXOR T2, D, D
#define SM_ZMULX(K, S, D, T1, T2) \
	VPSRLQ $(64-K), S, T1; \
	VPCLMULQDQ $0x01, smPoly<>(SB), T1, T2; \
	VPSLLDQ $8, T1, T1; \
	VPSLLQ $K, S, D; \
	VPTERNLOGD $0x96, T2, T1, D

// CTR counter (R12:R13, R14 = ModeInc32): SM_CTRCHK jumps to SLOW if a
// batch of NM1+1 blocks would carry out of the low 32 bits in full-increment
// mode (the vector code adds in 32-bit lanes); SM_CTRADV advances it by N.
#define SM_CTRCHK(NM1, SLOW, LOK) \
	TESTQ R14, R14; JNZ LOK; \
	MOVL R12, AX; ADDL $NM1, AX; JCS SLOW; \
LOK: \
	NOP
#define SM_CTRADV(N, LI, LD) \
	TESTQ R14, R14; JNZ LI; \
	ADDQ $N, R12; ADCQ $0, R13; JMP LD; \
LI: \
	MOVL R12, AX; ADDL $N, AX; SHRQ $32, R12; SHLQ $32, R12; ORQ AX, R12; \
LD: \
	NOP

// Zero the XTS areas of the stack (240-511) with the zeroed xmm Z.
#define SM_WIPEX(Z) \
	MOVO Z, 240(R10); MOVO Z, 256(R10); MOVO Z, 272(R10); MOVO Z, 288(R10); \
	MOVO Z, 304(R10); MOVO Z, 320(R10); MOVO Z, 336(R10); MOVO Z, 352(R10); \
	MOVO Z, 368(R10); MOVO Z, 384(R10); MOVO Z, 400(R10); MOVO Z, 416(R10); \
	MOVO Z, 432(R10); MOVO Z, 448(R10); MOVO Z, 464(R10); MOVO Z, 480(R10); \
	MOVO Z, 496(R10)

// ---------------------------------------------------------------------------
// func sealedCTR(region *[4096]byte, h *[64]byte, dst, src []byte, ctr, tagMask *[16]byte, flags, path int) bool
//
// tagMask == nil: CTR from *ctr (full or inc32 by flags), *ctr advanced.
// tagMask != nil: GCM: *tagMask = E(*ctr), inc32 from inc32(*ctr), *ctr kept.
TEXT ·sealedCTR(SB), NOSPLIT, $256-97
	CALL ·sigstkArm(SB) // before any key byte: see sigstk_amd64.go
	MOVQ region+0(FP), DI
	MOVQ h+8(FP), SI
	MOVQ dst_base+16(FP), DX
	MOVQ dst_len+24(FP), R9
	MOVQ src_base+40(FP), BX
	MOVQ src_len+48(FP), CX
	MOVQ flags+80(FP), R14
	MOVQ path+88(FP), R8
	CMPQ R9, CX
	JB   ctrRejectEarly
	SHRQ $4, CX
	ANDQ $4, R14 // ModeInc32
	SEALED_KEYS(3, ctrRejectEarly, ctrReject, ctrK256, ctrK192, ctrKeys, NOP, NOP, NOP)
	MOVQ ctr+64(FP), AX
	MOVQ 8(AX), R12
	BSWAPQ R12
	MOVQ 0(AX), R13
	BSWAPQ R13
	MOVQ tagMask+72(FP), R9
	TESTQ R9, R9
	JZ   ctrGo
	MOVOU (AX), X0
	SM_XENC1(ctrT256, ctrT192, ctrTC)
	MOVOU X0, (R9)
	MOVQ $4, R14
	MOVL R12, AX
	INCL AX
	SHRQ $32, R12
	SHLQ $32, R12
	ORQ  AX, R12

ctrGo:
	TESTQ CX, CX
	JZ   ctrDoneSSE
	CMPQ R8, $2
	JEQ  ctrZMM
	CMPQ R8, $1
	JEQ  ctrYMM

	// AES-NI: 8 blocks per batch, the schedule spilled at R10.
	LEAQ 15(SP), R10
	ANDQ $-16, R10
	SEALED_SPILL

ctrALoop:
	CMPQ CX, $8
	JB   ctrATail
	SM_CTRCHK(7, ctrAOne, ctrA8ok)
	MOVQ R12, X8
	PINSRQ $1, R13, X8
	MOVO X8, X0
	PSHUFB smBswap<>(SB), X0
	MOVO X8, X1
	PADDD smAdd<>+16(SB), X1
	PSHUFB smBswap<>(SB), X1
	MOVO X8, X2
	PADDD smAdd<>+32(SB), X2
	PSHUFB smBswap<>(SB), X2
	MOVO X8, X3
	PADDD smAdd<>+48(SB), X3
	PSHUFB smBswap<>(SB), X3
	MOVO X8, X4
	PADDD smAdd<>+64(SB), X4
	PSHUFB smBswap<>(SB), X4
	MOVO X8, X5
	PADDD smAdd<>+80(SB), X5
	PSHUFB smBswap<>(SB), X5
	MOVO X8, X6
	PADDD smAdd<>+96(SB), X6
	PSHUFB smBswap<>(SB), X6
	MOVO X8, X7
	PADDD smAdd<>+112(SB), X7
	PSHUFB smBswap<>(SB), X7
	SM_SENC(SEALED_R8, PXOR, AESENC, AESENCLAST, ctrA8_256, ctrA8_192, ctrA8_C)
	MOVOU 0(BX), X8
	PXOR X8, X0
	MOVOU 16(BX), X8
	PXOR X8, X1
	MOVOU 32(BX), X8
	PXOR X8, X2
	MOVOU 48(BX), X8
	PXOR X8, X3
	MOVOU 64(BX), X8
	PXOR X8, X4
	MOVOU 80(BX), X8
	PXOR X8, X5
	MOVOU 96(BX), X8
	PXOR X8, X6
	MOVOU 112(BX), X8
	PXOR X8, X7
	SEALED_STORE8
	ADDQ $128, BX
	ADDQ $128, DX
	SUBQ $8, CX
	SM_CTRADV(8, ctrA8i, ctrA8d)
	JMP  ctrALoop

	// Tail: at most one batch of 4 (X0-X3), then single blocks.
ctrATail:
	CMPQ CX, $4
	JB   ctrATail1
	SM_CTRCHK(3, ctrAOne, ctrA4ok)
	MOVQ R12, X8
	PINSRQ $1, R13, X8
	MOVO X8, X0
	PSHUFB smBswap<>(SB), X0
	MOVO X8, X1
	PADDD smAdd<>+16(SB), X1
	PSHUFB smBswap<>(SB), X1
	MOVO X8, X2
	PADDD smAdd<>+32(SB), X2
	PSHUFB smBswap<>(SB), X2
	MOVO X8, X3
	PADDD smAdd<>+48(SB), X3
	PSHUFB smBswap<>(SB), X3
	SM_SENC(SEALED_R4, PXOR, AESENC, AESENCLAST, ctrA4_256, ctrA4_192, ctrA4_C)
	MOVOU 0(BX), X8
	PXOR X8, X0
	MOVOU 16(BX), X8
	PXOR X8, X1
	MOVOU 32(BX), X8
	PXOR X8, X2
	MOVOU 48(BX), X8
	PXOR X8, X3
	SEALED_STORE4
	ADDQ $64, BX
	ADDQ $64, DX
	SUBQ $4, CX
	SM_CTRADV(4, ctrA4i, ctrA4d)
ctrATail1:
	TESTQ CX, CX
	JZ   ctrADone
ctrAOne:
	MOVQ R12, X0
	PINSRQ $1, R13, X0
	PSHUFB smBswap<>(SB), X0
	SM_SENC(SM_A1, PXOR, AESENC, AESENCLAST, ctrA1_256, ctrA1_192, ctrA1_C)
	MOVOU (BX), X8
	PXOR X8, X0
	MOVOU X0, (DX)
	ADDQ $16, BX
	ADDQ $16, DX
	DECQ CX
	SM_CTRADV(1, ctrA1i, ctrA1d)
	JMP  ctrALoop

ctrADone:
	PXOR X0, X0
	SEALED_WIPE(X0)

ctrDoneSSE:
	SEALED_CLEAR_SSE

ctrStore:
	MOVQ tagMask+72(FP), R9
	TESTQ R9, R9
	JNZ  ctrRet
	MOVQ ctr+64(FP), AX
	BSWAPQ R12
	BSWAPQ R13
	MOVQ R12, 8(AX)
	MOVQ R13, 0(AX)

ctrRet:
	MOVB $1, ret+96(FP)
	CALL ·sigstkCheck(SB) // vector registers are zero: wipe the signal frame if a signal came
	RET

	// VAES ymm: 16 blocks per batch in Y0-Y7, round keys broadcast into Y8
	// from the spilled schedule.
ctrYMM:
	LEAQ 15(SP), R10
	ANDQ $-16, R10
	SEALED_SPILL
	VMOVDQU smBswap<>(SB), Y10

ctrYLoop:
	CMPQ CX, $16
	JB   ctrYTail
	SM_CTRCHK(15, ctrYOne, ctrY16ok)
	VMOVQ R12, X9
	VPINSRQ $1, R13, X9, X9
	VINSERTI128 $1, X9, Y9, Y9
	VPADDD smAdd<>+0(SB), Y9, Y0
	VPSHUFB Y10, Y0, Y0
	VPADDD smAdd<>+32(SB), Y9, Y1
	VPSHUFB Y10, Y1, Y1
	VPADDD smAdd<>+64(SB), Y9, Y2
	VPSHUFB Y10, Y2, Y2
	VPADDD smAdd<>+96(SB), Y9, Y3
	VPSHUFB Y10, Y3, Y3
	VPADDD smAdd<>+128(SB), Y9, Y4
	VPSHUFB Y10, Y4, Y4
	VPADDD smAdd<>+160(SB), Y9, Y5
	VPSHUFB Y10, Y5, Y5
	VPADDD smAdd<>+192(SB), Y9, Y6
	VPSHUFB Y10, Y6, Y6
	VPADDD smAdd<>+224(SB), Y9, Y7
	VPSHUFB Y10, Y7, Y7
	SM_SENC(SEALED_YR8, VPXOR, VAESENC, VAESENCLAST, ctrY16_256, ctrY16_192, ctrY16_C)
	VPXOR 0(BX), Y0, Y0
	VPXOR 32(BX), Y1, Y1
	VPXOR 64(BX), Y2, Y2
	VPXOR 96(BX), Y3, Y3
	VPXOR 128(BX), Y4, Y4
	VPXOR 160(BX), Y5, Y5
	VPXOR 192(BX), Y6, Y6
	VPXOR 224(BX), Y7, Y7
	SEALED_YSTORE8
	ADDQ $256, BX
	ADDQ $256, DX
	SUBQ $16, CX
	SM_CTRADV(16, ctrY16i, ctrY16d)
	JMP  ctrYLoop

	// Tail: pairs in Y0, then one block.
ctrYTail:
	CMPQ CX, $2
	JB   ctrYTail1
	SM_CTRCHK(1, ctrYOne, ctrY2ok)
	VMOVQ R12, X0
	VPINSRQ $1, R13, X0, X0
	VINSERTI128 $1, X0, Y0, Y0
	VPADDD smAdd<>+0(SB), Y0, Y0
	VPSHUFB Y10, Y0, Y0
	SM_SENC(SEALED_YR1, VPXOR, VAESENC, VAESENCLAST, ctrY2_256, ctrY2_192, ctrY2_C)
	VPXOR (BX), Y0, Y0
	VMOVDQU Y0, (DX)
	ADDQ $32, BX
	ADDQ $32, DX
	SUBQ $2, CX
	SM_CTRADV(2, ctrY2i, ctrY2d)
	JMP  ctrYTail
ctrYTail1:
	TESTQ CX, CX
	JZ   ctrYDone
ctrYOne:
	VMOVQ R12, X0
	VPINSRQ $1, R13, X0, X0
	VPSHUFB X10, X0, X0
	SM_SENC(SM_Y1, VPXOR, VAESENC, VAESENCLAST, ctrY1_256, ctrY1_192, ctrY1_C)
	VPXOR (BX), X0, X0
	VMOVDQU X0, (DX)
	ADDQ $16, BX
	ADDQ $16, DX
	DECQ CX
	SM_CTRADV(1, ctrY1i, ctrY1d)
	JMP  ctrYLoop

ctrYDone:
	VZEROALL
	SEALED_WIPE(X0)
	JMP  ctrStore

	// VAES zmm: 32 blocks per batch in Z0-Z7, schedule in Z16-Z30.
ctrZMM:
	SEALED_ZBCAST
	VMOVDQU64 smBswap<>(SB), Z10

ctrZLoop:
	CMPQ CX, $32
	JB   ctrZTail
	SM_CTRCHK(31, ctrZOne, ctrZ32ok)
	VMOVQ R12, X9
	VPINSRQ $1, R13, X9, X9
	VSHUFI64X2 $0, Z9, Z9, Z9
	VPADDD smAdd<>+0(SB), Z9, Z0
	VPSHUFB Z10, Z0, Z0
	VPADDD smAdd<>+64(SB), Z9, Z1
	VPSHUFB Z10, Z1, Z1
	VPADDD smAdd<>+128(SB), Z9, Z2
	VPSHUFB Z10, Z2, Z2
	VPADDD smAdd<>+192(SB), Z9, Z3
	VPSHUFB Z10, Z3, Z3
	VPADDD smAdd<>+256(SB), Z9, Z4
	VPSHUFB Z10, Z4, Z4
	VPADDD smAdd<>+320(SB), Z9, Z5
	VPSHUFB Z10, Z5, Z5
	VPADDD smAdd<>+384(SB), Z9, Z6
	VPSHUFB Z10, Z6, Z6
	VPADDD smAdd<>+448(SB), Z9, Z7
	VPSHUFB Z10, Z7, Z7
	SM_ZENC(SEALED_ZOP8, ctrZ32_256, ctrZ32_192, ctrZ32_C)
	VPXORD 0(BX), Z0, Z0
	VPXORD 64(BX), Z1, Z1
	VPXORD 128(BX), Z2, Z2
	VPXORD 192(BX), Z3, Z3
	VPXORD 256(BX), Z4, Z4
	VPXORD 320(BX), Z5, Z5
	VPXORD 384(BX), Z6, Z6
	VPXORD 448(BX), Z7, Z7
	SEALED_ZSTORE8
	ADDQ $512, BX
	ADDQ $512, DX
	SUBQ $32, CX
	SM_CTRADV(32, ctrZ32i, ctrZ32d)
	JMP  ctrZLoop

	// Tail: units of up to 4 blocks in Z0 under the mask K1 (R9 = n).
ctrZTail:
	TESTQ CX, CX
	JZ   ctrZDone
	MOVQ CX, R9
	CMPQ R9, $4
	JBE  ctrZUn
	MOVQ $4, R9
ctrZUn:
	TESTQ R14, R14
	JNZ  ctrZUok
	LEAQ -1(R9), AX
	ADDL R12, AX
	JCS  ctrZOne
ctrZUok:
	LEAQ smMasks<>(SB), R8
	KMOVW (R8)(R9*2), K1
	VMOVQ R12, X0
	VPINSRQ $1, R13, X0, X0
	VSHUFI64X2 $0, Z0, Z0, Z0
	VPADDD smAdd<>+0(SB), Z0, Z0
	VPSHUFB Z10, Z0, Z0
	SM_ZENC(SM_Z1, ctrZU_256, ctrZU_192, ctrZU_C)
	VMOVDQU64.Z (BX), K1, Z1
	VPXORQ Z1, Z0, Z0
	VMOVDQU64 Z0, K1, (DX)
	SUBQ R9, CX
	TESTQ R14, R14
	JNZ  ctrZUi
	ADDQ R9, R12
	ADCQ $0, R13
	JMP  ctrZUd
ctrZUi:
	MOVL R12, AX
	ADDL R9, AX
	SHRQ $32, R12
	SHLQ $32, R12
	ORQ  AX, R12
ctrZUd:
	SHLQ $4, R9
	ADDQ R9, BX
	ADDQ R9, DX
	JMP  ctrZTail

	// One block (a unit that would carry out of the low 32 counter bits).
ctrZOne:
	VMOVQ R12, X0
	VPINSRQ $1, R13, X0, X0
	VPSHUFB X10, X0, X0
	SM_ZENC(SM_Z1, ctrZ1_256, ctrZ1_192, ctrZ1_C)
	VPXOR (BX), X0, X0
	VMOVDQU X0, (DX)
	ADDQ $16, BX
	ADDQ $16, DX
	DECQ CX
	SM_CTRADV(1, ctrZ1i, ctrZ1d)
	JMP  ctrZLoop

ctrZDone:
	KXORW K1, K1, K1
	VZEROALL
	SEALED_ZCLEAR
	JMP  ctrStore

ctrReject:
	SEALED_CLEAR_SSE
ctrRejectEarly:
	MOVB $0, ret+96(FP)
	CALL ·sigstkCheck(SB) // vector registers are zero: wipe the signal frame if a signal came
	RET

// ---------------------------------------------------------------------------
// func SealedCBCEncrypt(region *[4096]byte, h *[64]byte, dst, src []byte, iv *[16]byte, flags, path int) bool
//
// Sequential, one block at a time: on the AES-NI and ymm paths (SSE) with
// the schedule spilled at R10, on the zmm path with EVEX on xmm and the
// schedule in X16-X30. The next block's plaintext and the first round key are folded
// into the last round key of the current block (AESENCLAST with
// K_last^K_0^P_(i+1) gives C_i^K_0^P_(i+1), the next block's state after
// its first AddRoundKey), so the dependency chain is the AES rounds only.
TEXT ·SealedCBCEncrypt(SB), NOSPLIT, $256-89
	CALL ·sigstkArm(SB) // before any key byte: see sigstk_amd64.go
	MOVQ region+0(FP), DI
	MOVQ h+8(FP), SI
	MOVQ dst_base+16(FP), DX
	MOVQ dst_len+24(FP), R9
	MOVQ src_base+40(FP), BX
	MOVQ src_len+48(FP), CX
	CMPQ R9, CX
	JB   cbceRejectEarly
	SHRQ $4, CX
	MOVQ path+80(FP), R8
	SEALED_KEYS(3, cbceRejectEarly, cbceReject, cbceK256, cbceK192, cbceKeys, NOP, NOP, NOP)
	TESTQ CX, CX
	JZ   cbceDoneSSE
	CMPQ R8, $2
	JEQ  cbceZMM
	LEAQ 15(SP), R10
	ANDQ $-16, R10
	SEALED_SPILL
	MOVQ R10, R12 // R12 = &K_0
	CMPQ R11, $1
	JEQ  cbceK0
	JA   cbceK0_192
	ADDQ $64, R12
	JMP  cbceK0
cbceK0_192:
	ADDQ $32, R12
cbceK0:
	MOVQ iv+64(FP), AX
	MOVOU (AX), X0
	MOVOU (BX), X2
	PXOR X2, X0
	PXOR (R12), X0

cbceLoop:
	CMPQ CX, $1
	JEQ  cbceLast
	MOVOU 16(BX), X2
	PXOR (R12), X2
	MOVO X2, X1
	PXOR 224(R10), X1
	JMP  cbceR
cbceLast:
	PXOR X2, X2
	MOVO 224(R10), X1
cbceR:
	CMPQ R11, $1
	JEQ  cbce256
	JA   cbce192
	JMP  cbce128
cbce256:
	AESENC 16(R10), X0
	AESENC 32(R10), X0
cbce192:
	AESENC 48(R10), X0
	AESENC 64(R10), X0
cbce128:
	AESENC 80(R10), X0
	AESENC 96(R10), X0
	AESENC 112(R10), X0
	AESENC 128(R10), X0
	AESENC 144(R10), X0
	AESENC 160(R10), X0
	AESENC 176(R10), X0
	AESENC 192(R10), X0
	AESENC 208(R10), X0
	AESENCLAST X1, X0
	MOVO X0, X3
	PXOR X2, X3
	MOVOU X3, (DX)
	ADDQ $16, BX
	ADDQ $16, DX
	DECQ CX
	JNZ  cbceLoop
	MOVOU X3, (AX)
	PXOR X0, X0
	SEALED_WIPE(X0)

cbceDoneSSE:
	SEALED_CLEAR_SSE
	MOVB $1, ret+88(FP)
	CALL ·sigstkCheck(SB) // vector registers are zero: wipe the signal frame if a signal came
	RET

	// zmm path: the same loop on xmm with EVEX, the round keys in
	// X16-X30 (never in memory), K_0 copied to X31.
cbceZMM:
	SEALED_ZBCAST
	CMPQ R11, $1
	JEQ  cbceZK0_256
	JA   cbceZK0_192
	VMOVDQA64 Z20, Z31
	JMP  cbceZK0
cbceZK0_192:
	VMOVDQA64 Z18, Z31
	JMP  cbceZK0
cbceZK0_256:
	VMOVDQA64 Z16, Z31
cbceZK0:
	MOVQ iv+64(FP), AX
	VMOVDQU (AX), X0
	VPXOR (BX), X0, X0
	VPXORD X31, X0, X0

cbceZLoop:
	CMPQ CX, $1
	JEQ  cbceZLast
	VPXORD 16(BX), X31, X2
	VPXORD X30, X2, X1
	JMP  cbceZR
cbceZLast:
	VPXOR X2, X2, X2
	VMOVDQA64 X30, X1
cbceZR:
	CMPQ R11, $1
	JEQ  cbceZ256
	JA   cbceZ192
	JMP  cbceZ128
cbceZ256:
	VAESENC X17, X0, X0
	VAESENC X18, X0, X0
cbceZ192:
	VAESENC X19, X0, X0
	VAESENC X20, X0, X0
cbceZ128:
	VAESENC X21, X0, X0
	VAESENC X22, X0, X0
	VAESENC X23, X0, X0
	VAESENC X24, X0, X0
	VAESENC X25, X0, X0
	VAESENC X26, X0, X0
	VAESENC X27, X0, X0
	VAESENC X28, X0, X0
	VAESENC X29, X0, X0
	VAESENCLAST X1, X0, X0
	VPXOR X2, X0, X3
	VMOVDQU X3, (DX)
	ADDQ $16, BX
	ADDQ $16, DX
	DECQ CX
	JNZ  cbceZLoop
	VMOVDQU X3, (AX)
	VZEROALL
	SEALED_ZCLEAR
	MOVB $1, ret+88(FP)
	CALL ·sigstkCheck(SB) // vector registers are zero: wipe the signal frame if a signal came
	RET

cbceReject:
	SEALED_CLEAR_SSE
cbceRejectEarly:
	MOVB $0, ret+88(FP)
	CALL ·sigstkCheck(SB) // vector registers are zero: wipe the signal frame if a signal came
	RET

// ---------------------------------------------------------------------------
// func SealedCBCDecrypt(region *[4096]byte, h *[64]byte, dst, src []byte, iv *[16]byte, flags, path int) bool
//
// Parallel: every batch is loaded, decrypted and XORed with the previous
// ciphertext blocks (read from src before anything of the batch is
// written; the last one of the previous batch kept in a register), then
// stored, so dst == src works.
TEXT ·SealedCBCDecrypt(SB), NOSPLIT, $256-89
	CALL ·sigstkArm(SB) // before any key byte: see sigstk_amd64.go
	MOVQ region+0(FP), DI
	MOVQ h+8(FP), SI
	MOVQ dst_base+16(FP), DX
	MOVQ dst_len+24(FP), R9
	MOVQ src_base+40(FP), BX
	MOVQ src_len+48(FP), CX
	MOVQ path+80(FP), R8
	CMPQ R9, CX
	JB   cbcdRejectEarly
	SHRQ $4, CX
	SEALED_KEYS(5, cbcdRejectEarly, cbcdReject, cbcdK256, cbcdK192, cbcdKeys, SEALED_IMC128, SEALED_IMC192, SEALED_IMC256)
	TESTQ CX, CX
	JZ   cbcdDoneSSE
	MOVQ iv+64(FP), AX
	CMPQ R8, $2
	JEQ  cbcdZMM
	CMPQ R8, $1
	JEQ  cbcdYMM

	// AES-NI: 8 blocks per batch; X9 = the previous ciphertext block.
	LEAQ 15(SP), R10
	ANDQ $-16, R10
	SEALED_SPILL
	MOVOU (AX), X9

cbcdALoop:
	CMPQ CX, $8
	JB   cbcdATail
	SEALED_LOAD8
	SM_SDEC(SEALED_R8, PXOR, AESDEC, AESDECLAST, cbcdA8_256, cbcdA8_192, cbcdA8_D)
	PXOR X9, X0
	MOVOU 0(BX), X8
	PXOR X8, X1
	MOVOU 16(BX), X8
	PXOR X8, X2
	MOVOU 32(BX), X8
	PXOR X8, X3
	MOVOU 48(BX), X8
	PXOR X8, X4
	MOVOU 64(BX), X8
	PXOR X8, X5
	MOVOU 80(BX), X8
	PXOR X8, X6
	MOVOU 96(BX), X8
	PXOR X8, X7
	MOVOU 112(BX), X9
	SEALED_STORE8
	ADDQ $128, BX
	ADDQ $128, DX
	SUBQ $8, CX
	JMP  cbcdALoop

	// Tail: at most one batch of 4 (X0-X3), then single blocks.
cbcdATail:
	CMPQ CX, $4
	JB   cbcdATail1
	SEALED_LOAD4
	SM_SDEC(SEALED_R4, PXOR, AESDEC, AESDECLAST, cbcdA4_256, cbcdA4_192, cbcdA4_D)
	PXOR X9, X0
	MOVOU 0(BX), X8
	PXOR X8, X1
	MOVOU 16(BX), X8
	PXOR X8, X2
	MOVOU 32(BX), X8
	PXOR X8, X3
	MOVOU 48(BX), X9
	SEALED_STORE4
	ADDQ $64, BX
	ADDQ $64, DX
	SUBQ $4, CX
cbcdATail1:
	TESTQ CX, CX
	JZ   cbcdADone
cbcdA1:
	MOVOU (BX), X0
	MOVO X0, X10
	SM_SDEC(SM_A1, PXOR, AESDEC, AESDECLAST, cbcdA1_256, cbcdA1_192, cbcdA1_D)
	PXOR X9, X0
	MOVO X10, X9
	MOVOU X0, (DX)
	ADDQ $16, BX
	ADDQ $16, DX
	DECQ CX
	JNZ  cbcdA1

cbcdADone:
	MOVOU X9, (AX)
	PXOR X0, X0
	SEALED_WIPE(X0)

cbcdDoneSSE:
	SEALED_CLEAR_SSE
	MOVB $1, ret+88(FP)
	CALL ·sigstkCheck(SB) // vector registers are zero: wipe the signal frame if a signal came
	RET

	// VAES ymm: 16 blocks per batch; X9 = the previous ciphertext block.
cbcdYMM:
	LEAQ 15(SP), R10
	ANDQ $-16, R10
	SEALED_SPILL
	VMOVDQU (AX), X9

cbcdYLoop:
	CMPQ CX, $16
	JB   cbcdYTail
	SEALED_YLOAD8
	SM_SDEC(SEALED_YR8, VPXOR, VAESDEC, VAESDECLAST, cbcdY16_256, cbcdY16_192, cbcdY16_D)
	VINSERTI128 $1, 0(BX), Y9, Y10
	VPXOR Y10, Y0, Y0
	VPXOR 16(BX), Y1, Y1
	VPXOR 48(BX), Y2, Y2
	VPXOR 80(BX), Y3, Y3
	VPXOR 112(BX), Y4, Y4
	VPXOR 144(BX), Y5, Y5
	VPXOR 176(BX), Y6, Y6
	VPXOR 208(BX), Y7, Y7
	VMOVDQU 240(BX), X9
	SEALED_YSTORE8
	ADDQ $256, BX
	ADDQ $256, DX
	SUBQ $16, CX
	JMP  cbcdYLoop

	// Tail: pairs in Y0, then one block.
cbcdYTail:
	CMPQ CX, $2
	JB   cbcdYTail1
	VMOVDQU (BX), Y0
	SM_SDEC(SEALED_YR1, VPXOR, VAESDEC, VAESDECLAST, cbcdY2_256, cbcdY2_192, cbcdY2_D)
	VINSERTI128 $1, 0(BX), Y9, Y10
	VPXOR Y10, Y0, Y0
	VMOVDQU 16(BX), X9
	VMOVDQU Y0, (DX)
	ADDQ $32, BX
	ADDQ $32, DX
	SUBQ $2, CX
	JMP  cbcdYTail
cbcdYTail1:
	TESTQ CX, CX
	JZ   cbcdYDone
cbcdY1:
	VMOVDQU (BX), X0
	VMOVDQA X0, X10
	SM_SDEC(SM_Y1, VPXOR, VAESDEC, VAESDECLAST, cbcdY1_256, cbcdY1_192, cbcdY1_D)
	VPXOR X9, X0, X0
	VMOVDQA X10, X9
	VMOVDQU X0, (DX)
	ADDQ $16, BX
	ADDQ $16, DX
	DECQ CX
	JNZ  cbcdY1

cbcdYDone:
	VMOVDQU X9, (AX)
	VZEROALL
	SEALED_WIPE(X0)
	MOVB $1, ret+88(FP)
	CALL ·sigstkCheck(SB) // vector registers are zero: wipe the signal frame if a signal came
	RET

	// VAES zmm: 32 blocks per batch; the previous ciphertext block in lane
	// 3 of Z31, shifted in front of the batch's first register by VALIGNQ.
cbcdZMM:
	SEALED_ZBCAST
	VMOVDQU (AX), X9
	VSHUFI64X2 $0, Z9, Z9, Z31

cbcdZLoop:
	CMPQ CX, $32
	JB   cbcdZTail
	SEALED_ZLOAD8
	VALIGNQ $6, Z31, Z0, Z8
	VMOVDQA64 Z7, Z31
	SM_ZDEC(SEALED_ZOP8, cbcdZ32_256, cbcdZ32_192, cbcdZ32_D)
	VPXORQ Z8, Z0, Z0
	VPXORQ 48(BX), Z1, Z1
	VPXORQ 112(BX), Z2, Z2
	VPXORQ 176(BX), Z3, Z3
	VPXORQ 240(BX), Z4, Z4
	VPXORQ 304(BX), Z5, Z5
	VPXORQ 368(BX), Z6, Z6
	VPXORQ 432(BX), Z7, Z7
	SEALED_ZSTORE8
	ADDQ $512, BX
	ADDQ $512, DX
	SUBQ $32, CX
	JMP  cbcdZLoop

	// Tail: units of up to 4 blocks in Z0 under the mask K1 (R9 = n,
	// R8 = 16n); X9 = the unit's last ciphertext block, read before the
	// store, Z31 lane 3 = the previous block for the next unit.
cbcdZTail:
	VEXTRACTI32X4 $3, Z31, X9
	TESTQ CX, CX
	JZ   cbcdZDone
	MOVQ CX, R9
	CMPQ R9, $4
	JBE  cbcdZUn
	MOVQ $4, R9
cbcdZUn:
	LEAQ smMasks<>(SB), R8
	KMOVW (R8)(R9*2), K1
	MOVQ R9, R8
	SHLQ $4, R8
	VMOVDQU64.Z (BX), K1, Z0
	VALIGNQ $6, Z31, Z0, Z8
	VMOVDQA64 Z0, Z31
	VMOVDQU -16(BX)(R8*1), X9
	SM_ZDEC(SM_Z1, cbcdZU_256, cbcdZU_192, cbcdZU_D)
	VPXORQ Z8, Z0, Z0
	VMOVDQU64 Z0, K1, (DX)
	ADDQ R8, BX
	ADDQ R8, DX
	SUBQ R9, CX
	JNZ  cbcdZUnit
	JMP  cbcdZDone
cbcdZUnit:
	MOVQ CX, R9
	CMPQ R9, $4
	JBE  cbcdZUn
	MOVQ $4, R9
	JMP  cbcdZUn

cbcdZDone:
	VMOVDQU X9, (AX)
	KXORW K1, K1, K1
	VZEROALL
	SEALED_ZCLEAR
	MOVB $1, ret+88(FP)
	CALL ·sigstkCheck(SB) // vector registers are zero: wipe the signal frame if a signal came
	RET

cbcdReject:
	SEALED_CLEAR_SSE
cbcdRejectEarly:
	MOVB $0, ret+88(FP)
	CALL ·sigstkCheck(SB) // vector registers are zero: wipe the signal frame if a signal came
	RET

// ---------------------------------------------------------------------------
// func SealedXTS(region *[4096]byte, h, hTweak *[64]byte, dst, src []byte, tweak *[16]byte, flags, path int) bool
//
// The tweak T (E(*tweak) under hTweak, or *tweak) waits in the stack area
// at 240(R10) while the data handle is unwrapped; block i uses T*x^i.
// AES-NI keeps the 8 tweaks of a batch at 256(R10), ymm the 8 tweak pairs
// at 256(R10) (both wiped before return), zmm the 8 tweak quadruples in
// Z8-Z15, computed from the base (T_i .. T_(i+3)) in Z31 by
// multiplications by x^4j (VPCLMULQDQ).
TEXT ·SealedXTS(SB), NOSPLIT, $528-97
	CALL ·sigstkArm(SB) // before any key byte: see sigstk_amd64.go
	MOVQ region+0(FP), DI
	MOVQ dst_base+24(FP), DX
	MOVQ dst_len+32(FP), R9
	MOVQ src_base+48(FP), BX
	MOVQ src_len+56(FP), CX
	MOVQ flags+80(FP), R14
	MOVQ path+88(FP), R8
	CMPQ R9, CX
	JB   xtsRejectEarly
	SHRQ $4, CX
	ANDQ $8, R14 // ModeDecrypt
	LEAQ 15(SP), R10
	ANDQ $-16, R10
	MOVQ hTweak+16(FP), SI
	TESTQ SI, SI
	JZ   xtsPlainT
	SEALED_KEYS(3, xtsReject, xtsReject, xtsTK256, xtsTK192, xtsTKeys, NOP, NOP, NOP)
	MOVQ tweak+72(FP), AX
	MOVOU (AX), X0
	SM_XENC1(xtsTE256, xtsTE192, xtsTEC)
	JMP  xtsHaveT
xtsPlainT:
	MOVQ tweak+72(FP), AX
	MOVOU (AX), X0
xtsHaveT:
	MOVO X0, 240(R10)
	MOVQ h+8(FP), SI
	TESTQ R14, R14
	JNZ  xtsDecKeys
	SEALED_KEYS(3, xtsReject, xtsReject, xtsEK256, xtsEK192, xtsEKeys, NOP, NOP, NOP)
	JMP  xtsKeys
xtsDecKeys:
	SEALED_KEYS(5, xtsReject, xtsReject, xtsDK256, xtsDK192, xtsDKeys, SEALED_IMC128, SEALED_IMC192, SEALED_IMC256)

xtsKeys:
	TESTQ CX, CX
	JZ   xtsNoBlocks
	CMPQ R8, $2
	JEQ  xtsZMM
	CMPQ R8, $1
	JEQ  xtsYMM

	// AES-NI: 8 blocks per batch, X9 = the current tweak.
	SEALED_SPILL
	MOVO 240(R10), X9

xtsALoop:
	CMPQ CX, $8
	JB   xtsATail
	MOVOU 0(BX), X0
	PXOR X9, X0
	MOVO X9, 256(R10)
	SM_DBL(X9, X10)
	MOVOU 16(BX), X1
	PXOR X9, X1
	MOVO X9, 272(R10)
	SM_DBL(X9, X10)
	MOVOU 32(BX), X2
	PXOR X9, X2
	MOVO X9, 288(R10)
	SM_DBL(X9, X10)
	MOVOU 48(BX), X3
	PXOR X9, X3
	MOVO X9, 304(R10)
	SM_DBL(X9, X10)
	MOVOU 64(BX), X4
	PXOR X9, X4
	MOVO X9, 320(R10)
	SM_DBL(X9, X10)
	MOVOU 80(BX), X5
	PXOR X9, X5
	MOVO X9, 336(R10)
	SM_DBL(X9, X10)
	MOVOU 96(BX), X6
	PXOR X9, X6
	MOVO X9, 352(R10)
	SM_DBL(X9, X10)
	MOVOU 112(BX), X7
	PXOR X9, X7
	MOVO X9, 368(R10)
	SM_DBL(X9, X10)
	TESTQ R14, R14
	JNZ  xtsA8Dec
	SM_SENC(SEALED_R8, PXOR, AESENC, AESENCLAST, xtsA8E256, xtsA8E192, xtsA8EC)
	JMP  xtsA8Out
xtsA8Dec:
	SM_SDEC(SEALED_R8, PXOR, AESDEC, AESDECLAST, xtsA8D256, xtsA8D192, xtsA8DD)
xtsA8Out:
	PXOR 256(R10), X0
	PXOR 272(R10), X1
	PXOR 288(R10), X2
	PXOR 304(R10), X3
	PXOR 320(R10), X4
	PXOR 336(R10), X5
	PXOR 352(R10), X6
	PXOR 368(R10), X7
	SEALED_STORE8
	ADDQ $128, BX
	ADDQ $128, DX
	SUBQ $8, CX
	JMP  xtsALoop

	// Tail: at most one batch of 4 (X0-X3), then single blocks.
xtsATail:
	CMPQ CX, $4
	JB   xtsATail1
	MOVOU 0(BX), X0
	PXOR X9, X0
	MOVO X9, 256(R10)
	SM_DBL(X9, X10)
	MOVOU 16(BX), X1
	PXOR X9, X1
	MOVO X9, 272(R10)
	SM_DBL(X9, X10)
	MOVOU 32(BX), X2
	PXOR X9, X2
	MOVO X9, 288(R10)
	SM_DBL(X9, X10)
	MOVOU 48(BX), X3
	PXOR X9, X3
	MOVO X9, 304(R10)
	SM_DBL(X9, X10)
	TESTQ R14, R14
	JNZ  xtsA4Dec
	SM_SENC(SEALED_R4, PXOR, AESENC, AESENCLAST, xtsA4E256, xtsA4E192, xtsA4EC)
	JMP  xtsA4Out
xtsA4Dec:
	SM_SDEC(SEALED_R4, PXOR, AESDEC, AESDECLAST, xtsA4D256, xtsA4D192, xtsA4DD)
xtsA4Out:
	PXOR 256(R10), X0
	PXOR 272(R10), X1
	PXOR 288(R10), X2
	PXOR 304(R10), X3
	SEALED_STORE4
	ADDQ $64, BX
	ADDQ $64, DX
	SUBQ $4, CX
xtsATail1:
	TESTQ CX, CX
	JZ   xtsADone
xtsA1:
	MOVOU (BX), X0
	PXOR X9, X0
	TESTQ R14, R14
	JNZ  xtsA1Dec
	SM_SENC(SM_A1, PXOR, AESENC, AESENCLAST, xtsA1E256, xtsA1E192, xtsA1EC)
	JMP  xtsA1Out
xtsA1Dec:
	SM_SDEC(SM_A1, PXOR, AESDEC, AESDECLAST, xtsA1D256, xtsA1D192, xtsA1DD)
xtsA1Out:
	PXOR X9, X0
	MOVOU X0, (DX)
	SM_DBL(X9, X10)
	ADDQ $16, BX
	ADDQ $16, DX
	DECQ CX
	JNZ  xtsA1

xtsADone:
	MOVQ tweak+72(FP), AX
	MOVOU X9, (AX)
	PXOR X0, X0
	SEALED_WIPE(X0)
	SM_WIPEX(X0)
	SEALED_CLEAR_SSE
	MOVB $1, ret+96(FP)
	CALL ·sigstkCheck(SB) // vector registers are zero: wipe the signal frame if a signal came
	RET

xtsNoBlocks:
	MOVQ tweak+72(FP), AX
	MOVO 240(R10), X0
	MOVOU X0, (AX)
	PXOR X0, X0
	MOVO X0, 240(R10)
	SEALED_CLEAR_SSE
	MOVB $1, ret+96(FP)
	CALL ·sigstkCheck(SB) // vector registers are zero: wipe the signal frame if a signal came
	RET

	// VAES ymm: 16 blocks per batch; Y9 = (T_i, T_(i+1)), the tweak pairs
	// Y9*x^2j stored at 256(R10) for the final XOR.
xtsYMM:
	SEALED_SPILL
	VMOVDQU 240(R10), X9
	VMOVDQA X9, X10
	SM_VDBL(X10, X11)
	VINSERTI128 $1, X10, Y9, Y9

xtsYLoop:
	CMPQ CX, $16
	JB   xtsYTail
	VPXOR 0(BX), Y9, Y0
	VMOVDQU Y9, 256(R10)
	SM_YMULX(2, Y9, Y10, Y11, Y12)
	VPXOR 32(BX), Y10, Y1
	VMOVDQU Y10, 288(R10)
	SM_YMULX(4, Y9, Y10, Y11, Y12)
	VPXOR 64(BX), Y10, Y2
	VMOVDQU Y10, 320(R10)
	SM_YMULX(6, Y9, Y10, Y11, Y12)
	VPXOR 96(BX), Y10, Y3
	VMOVDQU Y10, 352(R10)
	SM_YMULX(8, Y9, Y10, Y11, Y12)
	VPXOR 128(BX), Y10, Y4
	VMOVDQU Y10, 384(R10)
	SM_YMULX(10, Y9, Y10, Y11, Y12)
	VPXOR 160(BX), Y10, Y5
	VMOVDQU Y10, 416(R10)
	SM_YMULX(12, Y9, Y10, Y11, Y12)
	VPXOR 192(BX), Y10, Y6
	VMOVDQU Y10, 448(R10)
	SM_YMULX(14, Y9, Y10, Y11, Y12)
	VPXOR 224(BX), Y10, Y7
	VMOVDQU Y10, 480(R10)
	SM_YMULX(16, Y9, Y9, Y11, Y12)
	TESTQ R14, R14
	JNZ  xtsY16Dec
	SM_SENC(SEALED_YR8, VPXOR, VAESENC, VAESENCLAST, xtsY16E256, xtsY16E192, xtsY16EC)
	JMP  xtsY16Out
xtsY16Dec:
	SM_SDEC(SEALED_YR8, VPXOR, VAESDEC, VAESDECLAST, xtsY16D256, xtsY16D192, xtsY16DD)
xtsY16Out:
	VPXOR 256(R10), Y0, Y0
	VPXOR 288(R10), Y1, Y1
	VPXOR 320(R10), Y2, Y2
	VPXOR 352(R10), Y3, Y3
	VPXOR 384(R10), Y4, Y4
	VPXOR 416(R10), Y5, Y5
	VPXOR 448(R10), Y6, Y6
	VPXOR 480(R10), Y7, Y7
	SEALED_YSTORE8
	ADDQ $256, BX
	ADDQ $256, DX
	SUBQ $16, CX
	JMP  xtsYLoop

	// Tail: pairs in Y0 with the tweaks Y9 (then Y9 *= x^2), then one
	// block with the tweak X9 (the low lane of Y9).
xtsYTail:
	CMPQ CX, $2
	JB   xtsYTail1
	VPXOR (BX), Y9, Y0
	TESTQ R14, R14
	JNZ  xtsY2Dec
	SM_SENC(SEALED_YR1, VPXOR, VAESENC, VAESENCLAST, xtsY2E256, xtsY2E192, xtsY2EC)
	JMP  xtsY2Out
xtsY2Dec:
	SM_SDEC(SEALED_YR1, VPXOR, VAESDEC, VAESDECLAST, xtsY2D256, xtsY2D192, xtsY2DD)
xtsY2Out:
	VPXOR Y9, Y0, Y0
	VMOVDQU Y0, (DX)
	SM_YMULX(2, Y9, Y9, Y11, Y12)
	ADDQ $32, BX
	ADDQ $32, DX
	SUBQ $2, CX
	JMP  xtsYTail
xtsYTail1:
	TESTQ CX, CX
	JZ   xtsYDone
xtsY1:
	VPXOR (BX), X9, X0
	TESTQ R14, R14
	JNZ  xtsY1Dec
	SM_SENC(SM_Y1, VPXOR, VAESENC, VAESENCLAST, xtsY1E256, xtsY1E192, xtsY1EC)
	JMP  xtsY1Out
xtsY1Dec:
	SM_SDEC(SM_Y1, VPXOR, VAESDEC, VAESDECLAST, xtsY1D256, xtsY1D192, xtsY1DD)
xtsY1Out:
	VPXOR X9, X0, X0
	VMOVDQU X0, (DX)
	SM_VDBL(X9, X10)
	ADDQ $16, BX
	ADDQ $16, DX
	DECQ CX
	JNZ  xtsY1

xtsYDone:
	MOVQ tweak+72(FP), AX
	VMOVDQU X9, (AX)
	VZEROALL
	SEALED_WIPE(X0)
	SM_WIPEX(X0)
	MOVB $1, ret+96(FP)
	CALL ·sigstkCheck(SB) // vector registers are zero: wipe the signal frame if a signal came
	RET

	// VAES zmm: 32 blocks per batch; Z31 = (T_i .. T_(i+3)), the tweaks of
	// the batch in Z8-Z15.
xtsZMM:
	SEALED_ZBCAST
	VMOVDQU 240(R10), X9
	VMOVDQA X9, X10
	SM_VDBL(X10, X13)
	VMOVDQA X10, X11
	SM_VDBL(X11, X13)
	VMOVDQA X11, X12
	SM_VDBL(X12, X13)
	VINSERTI32X4 $0, X9, Z31, Z31
	VINSERTI32X4 $1, X10, Z31, Z31
	VINSERTI32X4 $2, X11, Z31, Z31
	VINSERTI32X4 $3, X12, Z31, Z31

xtsZLoop:
	CMPQ CX, $32
	JB   xtsZTail
	VMOVDQA64 Z31, Z8
	SM_ZMULX(4, Z31, Z9, Z0, Z1)
	SM_ZMULX(8, Z31, Z10, Z0, Z1)
	SM_ZMULX(12, Z31, Z11, Z0, Z1)
	SM_ZMULX(16, Z31, Z12, Z0, Z1)
	SM_ZMULX(20, Z31, Z13, Z0, Z1)
	SM_ZMULX(24, Z31, Z14, Z0, Z1)
	SM_ZMULX(28, Z31, Z15, Z0, Z1)
	SM_ZMULX(32, Z31, Z31, Z0, Z1)
	VPXORQ 0(BX), Z8, Z0
	VPXORQ 64(BX), Z9, Z1
	VPXORQ 128(BX), Z10, Z2
	VPXORQ 192(BX), Z11, Z3
	VPXORQ 256(BX), Z12, Z4
	VPXORQ 320(BX), Z13, Z5
	VPXORQ 384(BX), Z14, Z6
	VPXORQ 448(BX), Z15, Z7
	TESTQ R14, R14
	JNZ  xtsZ32Dec
	SM_ZENC(SEALED_ZOP8, xtsZ32E256, xtsZ32E192, xtsZ32EC)
	JMP  xtsZ32Out
xtsZ32Dec:
	SM_ZDEC(SEALED_ZOP8, xtsZ32D256, xtsZ32D192, xtsZ32DD)
xtsZ32Out:
	VPXORQ Z8, Z0, Z0
	VPXORQ Z9, Z1, Z1
	VPXORQ Z10, Z2, Z2
	VPXORQ Z11, Z3, Z3
	VPXORQ Z12, Z4, Z4
	VPXORQ Z13, Z5, Z5
	VPXORQ Z14, Z6, Z6
	VPXORQ Z15, Z7, Z7
	SEALED_ZSTORE8
	ADDQ $512, BX
	ADDQ $512, DX
	SUBQ $32, CX
	JMP  xtsZLoop

	// Tail: units of up to 4 blocks in Z0 under the mask K1 (R9 = n) with
	// the tweaks Z31; after a unit of 4 Z31 *= x^4, after the last partial
	// unit of n < 4 the next tweak is lane 0 of Z31 doubled n times.
xtsZTail:
	TESTQ CX, CX
	JZ   xtsZEnd
	MOVQ CX, R9
	CMPQ R9, $4
	JBE  xtsZUn
	MOVQ $4, R9
xtsZUn:
	LEAQ smMasks<>(SB), R8
	KMOVW (R8)(R9*2), K1
	VMOVDQU64.Z (BX), K1, Z0
	VPXORQ Z31, Z0, Z0
	TESTQ R14, R14
	JNZ  xtsZUDec
	SM_ZENC(SM_Z1, xtsZUE256, xtsZUE192, xtsZUEC)
	JMP  xtsZUOut
xtsZUDec:
	SM_ZDEC(SM_Z1, xtsZUD256, xtsZUD192, xtsZUDD)
xtsZUOut:
	VPXORQ Z31, Z0, Z0
	VMOVDQU64 Z0, K1, (DX)
	CMPQ R9, $4
	JB   xtsZPart
	SM_ZMULX(4, Z31, Z31, Z1, Z2)
	ADDQ $64, BX
	ADDQ $64, DX
	SUBQ $4, CX
	JMP  xtsZTail
xtsZPart:
	VEXTRACTI32X4 $0, Z31, X9
xtsZPartDbl:
	SM_VDBL(X9, X10)
	DECQ R9
	JNZ  xtsZPartDbl
	JMP  xtsZDone
xtsZEnd:
	VEXTRACTI32X4 $0, Z31, X9

xtsZDone:
	MOVQ tweak+72(FP), AX
	VMOVDQU X9, (AX)
	KXORW K1, K1, K1
	VZEROALL
	SEALED_ZCLEAR
	VMOVDQU X0, 240(R10)
	MOVB $1, ret+96(FP)
	CALL ·sigstkCheck(SB) // vector registers are zero: wipe the signal frame if a signal came
	RET

xtsReject:
	SEALED_CLEAR_SSE
	MOVO X0, 240(R10)
xtsRejectEarly:
	MOVB $0, ret+96(FP)
	CALL ·sigstkCheck(SB) // vector registers are zero: wipe the signal frame if a signal came
	RET

// ---------------------------------------------------------------------------
// func sealedModesRegsAfter(kernel int, args *[12]uint64, retOff int, out *[48][64]byte) bool
//
// Test helper: copies args to the callee's argument area, calls the kernel
// (0 sealedCTR, 1 SealedCBCEncrypt, 2 SealedCBCDecrypt, 3 SealedXTS), then,
// before anything else touches them, stores Z0-Z31 into out[0:32] and the
// 1024 bytes below its own stack pointer into out[32:48]. The result is the
// byte at retOff of the argument area. Needs AVX-512F.
TEXT ·sealedModesRegsAfter(SB), 0, $104-33
	MOVQ args+8(FP), AX
	MOVQ 0(AX), BX
	MOVQ BX, 0(SP)
	MOVQ 8(AX), BX
	MOVQ BX, 8(SP)
	MOVQ 16(AX), BX
	MOVQ BX, 16(SP)
	MOVQ 24(AX), BX
	MOVQ BX, 24(SP)
	MOVQ 32(AX), BX
	MOVQ BX, 32(SP)
	MOVQ 40(AX), BX
	MOVQ BX, 40(SP)
	MOVQ 48(AX), BX
	MOVQ BX, 48(SP)
	MOVQ 56(AX), BX
	MOVQ BX, 56(SP)
	MOVQ 64(AX), BX
	MOVQ BX, 64(SP)
	MOVQ 72(AX), BX
	MOVQ BX, 72(SP)
	MOVQ 80(AX), BX
	MOVQ BX, 80(SP)
	MOVQ 88(AX), BX
	MOVQ BX, 88(SP)
	MOVQ $0, 96(SP)
	MOVQ kernel+0(FP), AX
	CMPQ AX, $1
	JEQ  hookCBCE
	CMPQ AX, $2
	JEQ  hookCBCD
	CMPQ AX, $3
	JEQ  hookXTS
	CALL ·sealedCTR(SB)
	JMP  hookDump
hookCBCE:
	CALL ·SealedCBCEncrypt(SB)
	JMP  hookDump
hookCBCD:
	CALL ·SealedCBCDecrypt(SB)
	JMP  hookDump
hookXTS:
	CALL ·SealedXTS(SB)
hookDump:
	MOVQ out+24(FP), AX
	VMOVDQU64 Z0, 0(AX)
	VMOVDQU64 Z1, 64(AX)
	VMOVDQU64 Z2, 128(AX)
	VMOVDQU64 Z3, 192(AX)
	VMOVDQU64 Z4, 256(AX)
	VMOVDQU64 Z5, 320(AX)
	VMOVDQU64 Z6, 384(AX)
	VMOVDQU64 Z7, 448(AX)
	VMOVDQU64 Z8, 512(AX)
	VMOVDQU64 Z9, 576(AX)
	VMOVDQU64 Z10, 640(AX)
	VMOVDQU64 Z11, 704(AX)
	VMOVDQU64 Z12, 768(AX)
	VMOVDQU64 Z13, 832(AX)
	VMOVDQU64 Z14, 896(AX)
	VMOVDQU64 Z15, 960(AX)
	VMOVDQU64 Z16, 1024(AX)
	VMOVDQU64 Z17, 1088(AX)
	VMOVDQU64 Z18, 1152(AX)
	VMOVDQU64 Z19, 1216(AX)
	VMOVDQU64 Z20, 1280(AX)
	VMOVDQU64 Z21, 1344(AX)
	VMOVDQU64 Z22, 1408(AX)
	VMOVDQU64 Z23, 1472(AX)
	VMOVDQU64 Z24, 1536(AX)
	VMOVDQU64 Z25, 1600(AX)
	VMOVDQU64 Z26, 1664(AX)
	VMOVDQU64 Z27, 1728(AX)
	VMOVDQU64 Z28, 1792(AX)
	VMOVDQU64 Z29, 1856(AX)
	VMOVDQU64 Z30, 1920(AX)
	VMOVDQU64 Z31, 1984(AX)
	LEAQ -1024(SP), BX
	ADDQ $2048, AX
	MOVQ $16, CX
hookStack:
	VMOVDQU64 (BX), Z0
	VMOVDQU64 Z0, (AX)
	ADDQ $64, BX
	ADDQ $64, AX
	DECQ CX
	JNZ  hookStack
	VZEROALL
	MOVQ retOff+16(FP), AX
	MOVB (SP)(AX*1), BX
	MOVB BX, ret+32(FP)
	RET
