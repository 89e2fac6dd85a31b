//go:build amd64 && !purego

#include "textflag.h"

// GHASH with PCLMULQDQ (xmm, 8 blocks per reduction) and VPCLMULQDQ (zmm,
// 32 blocks per reduction). See ghash_amd64.go for the representation and
// the contracts.
//
// GHASHTable layout: pow at 0 (32 x 16 bytes: H^32 .. H^1, times x),
// kar at 512 (8 x 16 bytes: Karatsuba terms of H^8 .. H^1), wide at 640.

// Byte reversal of each 16-byte lane (64 bytes: the zmm form; the first 16
// are the xmm form).
DATA ghashBswap<>+0(SB)/8, $0x08090a0b0c0d0e0f
DATA ghashBswap<>+8(SB)/8, $0x0001020304050607
DATA ghashBswap<>+16(SB)/8, $0x08090a0b0c0d0e0f
DATA ghashBswap<>+24(SB)/8, $0x0001020304050607
DATA ghashBswap<>+32(SB)/8, $0x08090a0b0c0d0e0f
DATA ghashBswap<>+40(SB)/8, $0x0001020304050607
DATA ghashBswap<>+48(SB)/8, $0x08090a0b0c0d0e0f
DATA ghashBswap<>+56(SB)/8, $0x0001020304050607
GLOBL ghashBswap<>(SB), RODATA|NOPTR, $64

// The reduction constant (x^128 + x^127 + x^126 + x^121 + 1, reflected).
DATA ghashPoly<>+0(SB)/8, $0x0000000000000001
DATA ghashPoly<>+8(SB)/8, $0xc200000000000000
GLOBL ghashPoly<>(SB), RODATA|NOPTR, $16

// Qword masks for 1..4 blocks of a zmm.
DATA ghashMasks<>+0(SB)/4, $0xff3f0f03
GLOBL ghashMasks<>(SB), RODATA|NOPTR, $4

// ghashReduce: R = (HI:LO) mod P, LO and HI the low and high halves of the
// 256-bit product (middle term already folded in); T scratch, X14 = poly.
#define ghashReduce(LO, HI, T, R) \
	MOVOU X14, T; \
	PCLMULQDQ $0x01, LO, T; \
	PSHUFD $78, LO, LO; \
	PXOR T, LO; \
	MOVOU X14, T; \
	PCLMULQDQ $0x01, LO, T; \
	PSHUFD $78, LO, LO; \
	PXOR T, LO; \
	PXOR HI, LO; \
	MOVOU LO, R

// ghashKaraFold: fold the Karatsuba middle term M (not yet corrected) into
// LO and HI; T scratch.
#define ghashKaraFold(LO, HI, M, T) \
	PXOR LO, M; \
	PXOR HI, M; \
	MOVOU M, T; \
	PSRLDQ $8, M; \
	PSLLDQ $8, T; \
	PXOR M, HI; \
	PXOR T, LO

#define clearX0to15 \
	PXOR X0, X0; PXOR X1, X1; PXOR X2, X2; PXOR X3, X3; \
	PXOR X4, X4; PXOR X5, X5; PXOR X6, X6; PXOR X7, X7; \
	PXOR X8, X8; PXOR X9, X9; PXOR X10, X10; PXOR X11, X11; \
	PXOR X12, X12; PXOR X13, X13; PXOR X14, X14; PXOR X15, X15

// func ghashInit(h *[16]byte, t *GHASHTable)
TEXT ·ghashInit(SB), NOSPLIT, $0-16
	MOVQ h+0(FP), AX
	MOVQ t+8(FP), DI
	MOVOU ghashBswap<>(SB), X15
	MOVOU ghashPoly<>(SB), X14
	MOVOU (AX), X0
	PSHUFB X15, X0
	// X0 = H * x: shift left by one, P folded in if the top bit was set.
	PSHUFD $0xff, X0, X1
	MOVOU X0, X2
	PSRAL $31, X1
	PAND X14, X1
	PSRLL $31, X2
	PSLLDQ $4, X2
	PSLLL $1, X0
	PXOR X1, X0
	PXOR X2, X0
	MOVOU X0, (31*16)(DI)
	MOVOU X0, X2
	LEAQ (30*16)(DI), BX
	MOVQ $31, CX

initLoop:
	// X2 = X2 * H (schoolbook), stored at (BX).
	MOVOU X2, X3
	MOVOU X2, X4
	MOVOU X2, X5
	MOVOU X2, X6
	PCLMULQDQ $0x00, X0, X3
	PCLMULQDQ $0x11, X0, X4
	PCLMULQDQ $0x01, X0, X5
	PCLMULQDQ $0x10, X0, X6
	PXOR X6, X5
	MOVOU X5, X6
	PSLLDQ $8, X6
	PSRLDQ $8, X5
	PXOR X6, X3
	PXOR X5, X4
	ghashReduce(X3, X4, X6, X2)
	MOVOU X2, (BX)
	SUBQ $16, BX
	DECQ CX
	JNZ initLoop

	// Karatsuba terms of H^8 .. H^1.
	XORQ CX, CX

karLoop:
	MOVOU (24*16)(DI)(CX*1), X1
	PSHUFD $78, X1, X2
	PXOR X1, X2
	MOVOU X2, 512(DI)(CX*1)
	ADDQ $16, CX
	CMPQ CX, $128
	JB karLoop

	clearX0to15
	RET

// ghashSSEBlock: multiply the block at OFF(SI) (plus X8 if first) by the power
// at POFF(BX) with Karatsuba term KOFF(DX), accumulate into X9 (lo), X10 (hi),
// X11 (middle).
#define ghashSSEBlock(OFF, POFF, KOFF) \
	MOVOU OFF(SI), X0; \
	PSHUFB X15, X0; \
	PXOR X8, X0; \
	PXOR X8, X8; \
	PSHUFD $78, X0, X1; \
	PXOR X0, X1; \
	MOVOU POFF(BX), X2; \
	MOVOU X2, X3; \
	PCLMULQDQ $0x00, X0, X2; \
	PCLMULQDQ $0x11, X0, X3; \
	MOVOU KOFF(DX), X4; \
	PCLMULQDQ $0x00, X4, X1; \
	PXOR X2, X9; \
	PXOR X3, X10; \
	PXOR X1, X11

// ghashWideFold: fold the middle term Z6 into Z4 (lo) and Z5 (hi), XOR the
// four lanes together and reduce into X8 (Z8, upper lanes zero).
#define ghashWideFold \
	VPSLLDQ $8, Z6, Z9; \
	VPSRLDQ $8, Z6, Z10; \
	VPXORQ Z9, Z4, Z4; \
	VPXORQ Z10, Z5, Z5; \
	VEXTRACTI64X4 $1, Z4, Y9; \
	VEXTRACTI64X4 $1, Z5, Y10; \
	VPXOR Y9, Y4, Y4; \
	VPXOR Y10, Y5, Y5; \
	VEXTRACTI128 $1, Y4, X9; \
	VEXTRACTI128 $1, Y5, X10; \
	VPXOR X9, X4, X4; \
	VPXOR X10, X5, X5; \
	VPCLMULQDQ $0x10, ghashPoly<>(SB), X4, X9; \
	VPSHUFD $78, X4, X4; \
	VPXOR X9, X4, X4; \
	VPCLMULQDQ $0x10, ghashPoly<>(SB), X4, X9; \
	VPSHUFD $78, X4, X4; \
	VPXOR X9, X4, X4; \
	VPXOR X5, X4, X8

// func ghashUpdate(t *GHASHTable, acc *[16]byte, data *byte, blocks int)
TEXT ·ghashUpdate(SB), NOSPLIT, $0-32
	MOVQ t+0(FP), DI
	MOVQ acc+8(FP), AX
	MOVQ data+16(FP), SI
	MOVQ blocks+24(FP), CX
	MOVQ 640(DI), R8
	CMPQ R8, $1
	JEQ  wide
	CMPQ R8, $2
	JEQ  ymm

	MOVOU ghashBswap<>(SB), X15
	MOVOU ghashPoly<>(SB), X14
	MOVOU (AX), X8
	PSHUFB X15, X8
	LEAQ (24*16)(DI), BX
	LEAQ 512(DI), DX

sseLoop:
	CMPQ CX, $8
	JB   sseTail
	PXOR X9, X9
	PXOR X10, X10
	PXOR X11, X11
	ghashSSEBlock(0, 0, 0)
	ghashSSEBlock(16, 16, 16)
	ghashSSEBlock(32, 32, 32)
	ghashSSEBlock(48, 48, 48)
	ghashSSEBlock(64, 64, 64)
	ghashSSEBlock(80, 80, 80)
	ghashSSEBlock(96, 96, 96)
	ghashSSEBlock(112, 112, 112)
	ghashKaraFold(X9, X10, X11, X12)
	ghashReduce(X9, X10, X12, X8)
	ADDQ $128, SI
	SUBQ $8, CX
	JMP  sseLoop

sseTail:
	TESTQ CX, CX
	JZ    sseDone
	// r = CX blocks left: block j uses H^(r-j), pow[32-r+j], kar[8-r+j].
	MOVQ $8, R8
	SUBQ CX, R8
	SHLQ $4, R8
	ADDQ R8, BX
	ADDQ R8, DX
	PXOR X9, X9
	PXOR X10, X10
	PXOR X11, X11

sseTailLoop:
	ghashSSEBlock(0, 0, 0)
	ADDQ $16, SI
	ADDQ $16, BX
	ADDQ $16, DX
	DECQ CX
	JNZ  sseTailLoop
	ghashKaraFold(X9, X10, X11, X12)
	ghashReduce(X9, X10, X12, X8)

sseDone:
	PSHUFB X15, X8
	MOVOU X8, (AX)
	clearX0to15
	RET

wide:
	VMOVDQU64 ghashBswap<>(SB), Z24
	VMOVDQU (AX), X8
	VPSHUFB Z24, Z8, Z8
	VMOVDQU64 0(DI), Z16
	VMOVDQU64 64(DI), Z17
	VMOVDQU64 128(DI), Z18
	VMOVDQU64 192(DI), Z19
	VMOVDQU64 256(DI), Z20
	VMOVDQU64 320(DI), Z21
	VMOVDQU64 384(DI), Z22
	VMOVDQU64 448(DI), Z23

wideLoop:
	CMPQ CX, $32
	JB   wideTail
	VMOVDQU64 0(SI), Z0
	VMOVDQU64 64(SI), Z1
	VMOVDQU64 128(SI), Z2
	VMOVDQU64 192(SI), Z3
	VPSHUFB Z24, Z0, Z0
	VPSHUFB Z24, Z1, Z1
	VPSHUFB Z24, Z2, Z2
	VPSHUFB Z24, Z3, Z3
	VPXORQ Z8, Z0, Z0
	VPCLMULQDQ $0x00, Z16, Z0, Z4
	VPCLMULQDQ $0x11, Z16, Z0, Z5
	VPCLMULQDQ $0x01, Z16, Z0, Z6
	VPCLMULQDQ $0x10, Z16, Z0, Z7
	VPXORQ Z7, Z6, Z6
	VPCLMULQDQ $0x00, Z17, Z1, Z9
	VPCLMULQDQ $0x11, Z17, Z1, Z10
	VPCLMULQDQ $0x01, Z17, Z1, Z11
	VPCLMULQDQ $0x10, Z17, Z1, Z12
	VPXORQ Z9, Z4, Z4
	VPXORQ Z10, Z5, Z5
	VPTERNLOGQ $0x96, Z12, Z11, Z6
	VPCLMULQDQ $0x00, Z18, Z2, Z9
	VPCLMULQDQ $0x11, Z18, Z2, Z10
	VPCLMULQDQ $0x01, Z18, Z2, Z11
	VPCLMULQDQ $0x10, Z18, Z2, Z12
	VPXORQ Z9, Z4, Z4
	VPXORQ Z10, Z5, Z5
	VPTERNLOGQ $0x96, Z12, Z11, Z6
	VPCLMULQDQ $0x00, Z19, Z3, Z9
	VPCLMULQDQ $0x11, Z19, Z3, Z10
	VPCLMULQDQ $0x01, Z19, Z3, Z11
	VPCLMULQDQ $0x10, Z19, Z3, Z12
	VPXORQ Z9, Z4, Z4
	VPXORQ Z10, Z5, Z5
	VPTERNLOGQ $0x96, Z12, Z11, Z6
	VMOVDQU64 256(SI), Z0
	VMOVDQU64 320(SI), Z1
	VMOVDQU64 384(SI), Z2
	VMOVDQU64 448(SI), Z3
	VPSHUFB Z24, Z0, Z0
	VPSHUFB Z24, Z1, Z1
	VPSHUFB Z24, Z2, Z2
	VPSHUFB Z24, Z3, Z3
	VPCLMULQDQ $0x00, Z20, Z0, Z9
	VPCLMULQDQ $0x11, Z20, Z0, Z10
	VPCLMULQDQ $0x01, Z20, Z0, Z11
	VPCLMULQDQ $0x10, Z20, Z0, Z12
	VPXORQ Z9, Z4, Z4
	VPXORQ Z10, Z5, Z5
	VPTERNLOGQ $0x96, Z12, Z11, Z6
	VPCLMULQDQ $0x00, Z21, Z1, Z9
	VPCLMULQDQ $0x11, Z21, Z1, Z10
	VPCLMULQDQ $0x01, Z21, Z1, Z11
	VPCLMULQDQ $0x10, Z21, Z1, Z12
	VPXORQ Z9, Z4, Z4
	VPXORQ Z10, Z5, Z5
	VPTERNLOGQ $0x96, Z12, Z11, Z6
	VPCLMULQDQ $0x00, Z22, Z2, Z9
	VPCLMULQDQ $0x11, Z22, Z2, Z10
	VPCLMULQDQ $0x01, Z22, Z2, Z11
	VPCLMULQDQ $0x10, Z22, Z2, Z12
	VPXORQ Z9, Z4, Z4
	VPXORQ Z10, Z5, Z5
	VPTERNLOGQ $0x96, Z12, Z11, Z6
	VPCLMULQDQ $0x00, Z23, Z3, Z9
	VPCLMULQDQ $0x11, Z23, Z3, Z10
	VPCLMULQDQ $0x01, Z23, Z3, Z11
	VPCLMULQDQ $0x10, Z23, Z3, Z12
	VPXORQ Z9, Z4, Z4
	VPXORQ Z10, Z5, Z5
	VPTERNLOGQ $0x96, Z12, Z11, Z6
	ghashWideFold
	ADDQ $512, SI
	SUBQ $32, CX
	JMP  wideLoop

wideTail:
	TESTQ CX, CX
	JZ    wideDone
	// r = CX blocks left: block j uses H^(r-j) = pow[32-r+j].
	MOVQ $32, R8
	SUBQ CX, R8
	SHLQ $4, R8
	LEAQ (DI)(R8*1), BX
	LEAQ ghashMasks<>(SB), R9
	VPXORQ Z4, Z4, Z4
	VPXORQ Z5, Z5, Z5
	VPXORQ Z6, Z6, Z6

wideTailLoop:
	MOVQ CX, DX
	CMPQ DX, $4
	JBE  wideTailMask
	MOVQ $4, DX

wideTailMask:
	MOVBLZX -1(R9)(DX*1), R10
	KMOVW R10, K1
	VMOVDQU64.Z (SI), K1, Z0
	VMOVDQU64.Z (BX), K1, Z1
	VPSHUFB Z24, Z0, Z0
	VPXORQ Z8, Z0, Z0
	VPXORQ Z8, Z8, Z8
	VPCLMULQDQ $0x00, Z1, Z0, Z9
	VPCLMULQDQ $0x11, Z1, Z0, Z10
	VPCLMULQDQ $0x01, Z1, Z0, Z11
	VPCLMULQDQ $0x10, Z1, Z0, Z12
	VPXORQ Z9, Z4, Z4
	VPXORQ Z10, Z5, Z5
	VPTERNLOGQ $0x96, Z12, Z11, Z6
	ADDQ $64, SI
	ADDQ $64, BX
	SUBQ $4, CX
	JG   wideTailLoop
	ghashWideFold

wideDone:
	VPSHUFB Z24, Z8, Z8
	VMOVDQU X8, (AX)
	VZEROALL
	VPXORQ Z16, Z16, Z16
	VPXORQ Z17, Z17, Z17
	VPXORQ Z18, Z18, Z18
	VPXORQ Z19, Z19, Z19
	VPXORQ Z20, Z20, Z20
	VPXORQ Z21, Z21, Z21
	VPXORQ Z22, Z22, Z22
	VPXORQ Z23, Z23, Z23
	VPXORQ Z24, Z24, Z24
	KXORW K1, K1, K1
	RET

// The ymm path (VEX only: AVX2 + VPCLMULQDQ, no AVX-512): 16 blocks per
// reduction, two per ymm, the powers of H as memory operands (no vector
// register holds a power). Y0 data, Y4/Y5/Y6 lo/hi/middle, X8 the state,
// Y9-Y12 scratch, Y15 the byte-reversal mask.

// ghashYmmPair: blocks at OFF(SI) times the powers at POFF(BX), accumulated.
#define ghashYmmPair(OFF, POFF) \
	VMOVDQU OFF(SI), Y0; \
	VPSHUFB Y15, Y0, Y0; \
	VPXOR Y8, Y0, Y0; \
	VPXOR X8, X8, X8; \
	VPCLMULQDQ $0x00, POFF(BX), Y0, Y9; \
	VPCLMULQDQ $0x11, POFF(BX), Y0, Y10; \
	VPCLMULQDQ $0x01, POFF(BX), Y0, Y11; \
	VPCLMULQDQ $0x10, POFF(BX), Y0, Y12; \
	VPXOR Y9, Y4, Y4; \
	VPXOR Y10, Y5, Y5; \
	VPXOR Y11, Y6, Y6; \
	VPXOR Y12, Y6, Y6

// ghashYmmFold: fold Y6 into Y4/Y5, XOR the two lanes, reduce into X8.
#define ghashYmmFold \
	VPSLLDQ $8, Y6, Y9; \
	VPSRLDQ $8, Y6, Y10; \
	VPXOR Y9, Y4, Y4; \
	VPXOR Y10, Y5, Y5; \
	VEXTRACTI128 $1, Y4, X9; \
	VEXTRACTI128 $1, Y5, X10; \
	VPXOR X9, X4, X4; \
	VPXOR X10, X5, X5; \
	VPCLMULQDQ $0x10, ghashPoly<>(SB), X4, X9; \
	VPSHUFD $78, X4, X4; \
	VPXOR X9, X4, X4; \
	VPCLMULQDQ $0x10, ghashPoly<>(SB), X4, X9; \
	VPSHUFD $78, X4, X4; \
	VPXOR X9, X4, X4; \
	VPXOR X5, X4, X8

ymm:
	VMOVDQU ghashBswap<>(SB), Y15
	VMOVDQU (AX), X8
	VPSHUFB X15, X8, X8
	LEAQ (16*16)(DI), BX

ymmLoop:
	CMPQ CX, $16
	JB   ymmTail
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	ghashYmmPair(0, 0)
	ghashYmmPair(32, 32)
	ghashYmmPair(64, 64)
	ghashYmmPair(96, 96)
	ghashYmmPair(128, 128)
	ghashYmmPair(160, 160)
	ghashYmmPair(192, 192)
	ghashYmmPair(224, 224)
	ghashYmmFold
	ADDQ $256, SI
	SUBQ $16, CX
	JMP  ymmLoop

ymmTail:
	TESTQ CX, CX
	JZ    ymmDone
	// r = CX blocks left: block j uses pow[32-r+j]; pairs, then one block.
	MOVQ $16, R8
	SUBQ CX, R8
	SHLQ $4, R8
	ADDQ R8, BX
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6

ymmTailPairs:
	CMPQ CX, $2
	JB   ymmTailOne
	ghashYmmPair(0, 0)
	ADDQ $32, SI
	ADDQ $32, BX
	SUBQ $2, CX
	JMP  ymmTailPairs

ymmTailOne:
	TESTQ CX, CX
	JZ    ymmTailFold
	VMOVDQU (SI), X0
	VPSHUFB X15, X0, X0
	VPXOR X8, X0, X0
	VPCLMULQDQ $0x00, (BX), X0, X9
	VPCLMULQDQ $0x11, (BX), X0, X10
	VPCLMULQDQ $0x01, (BX), X0, X11
	VPCLMULQDQ $0x10, (BX), X0, X12
	VPXOR Y9, Y4, Y4
	VPXOR Y10, Y5, Y5
	VPXOR Y11, Y6, Y6
	VPXOR Y12, Y6, Y6

ymmTailFold:
	ghashYmmFold

ymmDone:
	VPSHUFB X15, X8, X8
	VMOVDQU X8, (AX)
	VZEROALL
	RET

// Test hooks: Z0-Z31 into out right after the call.
#define ghashDumpZ \
	VMOVDQU64 Z0, 0(AX); \
	VMOVDQU64 Z1, 64(AX); \
	VMOVDQU64 Z2, 128(AX); \
	VMOVDQU64 Z3, 192(AX); \
	VMOVDQU64 Z4, 256(AX); \
	VMOVDQU64 Z5, 320(AX); \
	VMOVDQU64 Z6, 384(AX); \
	VMOVDQU64 Z7, 448(AX); \
	VMOVDQU64 Z8, 512(AX); \
	VMOVDQU64 Z9, 576(AX); \
	VMOVDQU64 Z10, 640(AX); \
	VMOVDQU64 Z11, 704(AX); \
	VMOVDQU64 Z12, 768(AX); \
	VMOVDQU64 Z13, 832(AX); \
	VMOVDQU64 Z14, 896(AX); \
	VMOVDQU64 Z15, 960(AX); \
	VMOVDQU64 Z16, 1024(AX); \
	VMOVDQU64 Z17, 1088(AX); \
	VMOVDQU64 Z18, 1152(AX); \
	VMOVDQU64 Z19, 1216(AX); \
	VMOVDQU64 Z20, 1280(AX); \
	VMOVDQU64 Z21, 1344(AX); \
	VMOVDQU64 Z22, 1408(AX); \
	VMOVDQU64 Z23, 1472(AX); \
	VMOVDQU64 Z24, 1536(AX); \
	VMOVDQU64 Z25, 1600(AX); \
	VMOVDQU64 Z26, 1664(AX); \
	VMOVDQU64 Z27, 1728(AX); \
	VMOVDQU64 Z28, 1792(AX); \
	VMOVDQU64 Z29, 1856(AX); \
	VMOVDQU64 Z30, 1920(AX); \
	VMOVDQU64 Z31, 1984(AX)

// func ghashRegsAfter(t *GHASHTable, acc *[16]byte, data *byte, blocks int, out *[32][64]byte)
TEXT ·ghashRegsAfter(SB), 0, $32-40
	MOVQ t+0(FP), AX
	MOVQ AX, 0(SP)
	MOVQ acc+8(FP), AX
	MOVQ AX, 8(SP)
	MOVQ data+16(FP), AX
	MOVQ AX, 16(SP)
	MOVQ blocks+24(FP), AX
	MOVQ AX, 24(SP)
	CALL ·ghashUpdate(SB)
	MOVQ out+32(FP), AX
	ghashDumpZ
	VZEROALL
	RET

// func ghashRegsAfterInit(h *[16]byte, t *GHASHTable, out *[32][64]byte)
TEXT ·ghashRegsAfterInit(SB), 0, $16-24
	MOVQ h+0(FP), AX
	MOVQ AX, 0(SP)
	MOVQ t+8(FP), AX
	MOVQ AX, 8(SP)
	CALL ·ghashInit(SB)
	MOVQ out+16(FP), AX
	ghashDumpZ
	VZEROALL
	RET
