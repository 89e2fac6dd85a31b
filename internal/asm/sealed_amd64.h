// Macros for sealed_amd64.s and sealedmodes_amd64.s: the wrapping key region
// layout (the same constants as internal/fallback, see ARCHITECTURE.md),
// POLYVAL, the AES-256 wrap/unwrap with the region's round keys, the
// in-register key schedules and the handle prologue SEALED_KEYS.
//
// Register conventions shared by every routine in both files:
//   DI = region, SI = handle.
//   After unwrap: X1 = key block 0, X2 = key block 1 (AES-192/256).
//   After expansion the data key schedule is "right-aligned" in X1-X15: the
//   last round key is always in X15, round key i is in
//     AES-128: X(5+i)    AES-192: X(3+i)    AES-256: X(1+i)
//   so that every key size shares the tail of the round sequence. X0 is the
//   temporary during expansion and the data block afterwards.

// Region offsets (bytes).
#define SEALED_IK   0   // 16 bytes: POLYVAL key H
#define SEALED_EK   16  // 32 bytes: AES-256 wrapping key
#define SEALED_RK   64  // 15 x 16: AES-256 round keys of EK
#define SEALED_HPOW 304 // H^1..H^8 (RFC 8452 dot-powers: H_1 = H, H_(k+1) = H_k . H)

// The constants the macros use: static symbols, one copy in every file that
// includes this header.
DATA sealedPoly<>+0(SB)/8, $0x0000000000000001
DATA sealedPoly<>+8(SB)/8, $0xc200000000000000
GLOBL sealedPoly<>(SB), RODATA|NOPTR, $16

DATA sealedBit127<>+0(SB)/8, $0
DATA sealedBit127<>+8(SB)/8, $0x8000000000000000
GLOBL sealedBit127<>(SB), RODATA|NOPTR, $16

DATA sealedClr127<>+0(SB)/8, $0xffffffffffffffff
DATA sealedClr127<>+8(SB)/8, $0x7fffffffffffffff
GLOBL sealedClr127<>(SB), RODATA|NOPTR, $16

DATA sealedHiQ<>+0(SB)/8, $0
DATA sealedHiQ<>+8(SB)/8, $0xffffffffffffffff
GLOBL sealedHiQ<>(SB), RODATA|NOPTR, $16

DATA sealedOne<>+0(SB)/8, $1
DATA sealedOne<>+8(SB)/8, $0
GLOBL sealedOne<>(SB), RODATA|NOPTR, $16

// Length blocks: 128 | keybits<<64 (the key type 2 extension: 192).
DATA sealedLen128<>+0(SB)/8, $128
DATA sealedLen128<>+8(SB)/8, $128
GLOBL sealedLen128<>(SB), RODATA|NOPTR, $16
DATA sealedLen192<>+0(SB)/8, $128
DATA sealedLen192<>+8(SB)/8, $192
GLOBL sealedLen192<>(SB), RODATA|NOPTR, $16
DATA sealedLen256<>+0(SB)/8, $128
DATA sealedLen256<>+8(SB)/8, $256
GLOBL sealedLen256<>(SB), RODATA|NOPTR, $16
// SEALED_CLEAR_SSE zeroes X0-X15 (works without AVX).
#define SEALED_CLEAR_SSE \
	PXOR X0, X0; PXOR X1, X1; PXOR X2, X2; PXOR X3, X3; \
	PXOR X4, X4; PXOR X5, X5; PXOR X6, X6; PXOR X7, X7; \
	PXOR X8, X8; PXOR X9, X9; PXOR X10, X10; PXOR X11, X11; \
	PXOR X12, X12; PXOR X13, X13; PXOR X14, X14; PXOR X15, X15

// ---------------------------------------------------------------------------
// AES-256 with the region's round keys (memory, loaded with MOVOU so the
// region needs no alignment). T is a temporary.

#define SEALED_EK1(B, T) \
	MOVOU 64(DI), T; PXOR T, B; \
	MOVOU 80(DI), T; AESENC T, B; \
	MOVOU 96(DI), T; AESENC T, B; \
	MOVOU 112(DI), T; AESENC T, B; \
	MOVOU 128(DI), T; AESENC T, B; \
	MOVOU 144(DI), T; AESENC T, B; \
	MOVOU 160(DI), T; AESENC T, B; \
	MOVOU 176(DI), T; AESENC T, B; \
	MOVOU 192(DI), T; AESENC T, B; \
	MOVOU 208(DI), T; AESENC T, B; \
	MOVOU 224(DI), T; AESENC T, B; \
	MOVOU 240(DI), T; AESENC T, B; \
	MOVOU 256(DI), T; AESENC T, B; \
	MOVOU 272(DI), T; AESENC T, B; \
	MOVOU 288(DI), T; AESENCLAST T, B

#define SEALED_EK2(A, B, T) \
	MOVOU 64(DI), T; PXOR T, A; PXOR T, B; \
	MOVOU 80(DI), T; AESENC T, A; AESENC T, B; \
	MOVOU 96(DI), T; AESENC T, A; AESENC T, B; \
	MOVOU 112(DI), T; AESENC T, A; AESENC T, B; \
	MOVOU 128(DI), T; AESENC T, A; AESENC T, B; \
	MOVOU 144(DI), T; AESENC T, A; AESENC T, B; \
	MOVOU 160(DI), T; AESENC T, A; AESENC T, B; \
	MOVOU 176(DI), T; AESENC T, A; AESENC T, B; \
	MOVOU 192(DI), T; AESENC T, A; AESENC T, B; \
	MOVOU 208(DI), T; AESENC T, A; AESENC T, B; \
	MOVOU 224(DI), T; AESENC T, A; AESENC T, B; \
	MOVOU 240(DI), T; AESENC T, A; AESENC T, B; \
	MOVOU 256(DI), T; AESENC T, A; AESENC T, B; \
	MOVOU 272(DI), T; AESENC T, A; AESENC T, B; \
	MOVOU 288(DI), T; AESENCLAST T, A; AESENCLAST T, B

// ---------------------------------------------------------------------------
// POLYVAL (RFC 8452). Elements are little-endian 128-bit values loaded as is:
// bit i of the register is the coefficient of x^i, which is what PCLMULQDQ
// wants. dot(a, b) = a*b*x^-128 mod x^128+x^127+x^126+x^121+1.
// Products are accumulated unreduced in (LO, MID, HI) and reduced once.

#define SEALED_CLMUL_INIT(X, H, LO, MID, HI, T) \
	MOVO X, LO; PCLMULQDQ $0x00, H, LO; \
	MOVO X, HI; PCLMULQDQ $0x11, H, HI; \
	MOVO X, MID; PCLMULQDQ $0x01, H, MID; \
	MOVO X, T; PCLMULQDQ $0x10, H, T; PXOR T, MID

// SEALED_CLMUL_INIT_LO: the same as SEALED_CLMUL_INIT for an X whose high
// qword is zero (the metadata block: bits 127:32 are zero or the handle was
// refused already).
#define SEALED_CLMUL_INIT_LO(X, H, LO, MID, HI, T) \
	MOVO X, LO; PCLMULQDQ $0x00, H, LO; \
	MOVO X, MID; PCLMULQDQ $0x10, H, MID; \
	PXOR HI, HI

#define SEALED_CLMUL_ACC(X, H, LO, MID, HI, T) \
	MOVO X, T; PCLMULQDQ $0x00, H, T; PXOR T, LO; \
	MOVO X, T; PCLMULQDQ $0x11, H, T; PXOR T, HI; \
	MOVO X, T; PCLMULQDQ $0x01, H, T; PXOR T, MID; \
	MOVO X, T; PCLMULQDQ $0x10, H, T; PXOR T, MID

// SEALED_REDUCE: LO = (HI:MID:LO) * x^-128 mod P. Each of the two folds
// multiplies by x^-64 = x^64 + (x^63+x^62+x^57): swap the qwords and add
// lo64 * 0xc200000000000000.
#define SEALED_REDUCE(LO, MID, HI, T) \
	MOVO MID, T; PSLLDQ $8, T; PXOR T, LO; PSRLDQ $8, MID; PXOR MID, HI; \
	MOVO LO, T; PCLMULQDQ $0x10, sealedPoly<>(SB), T; PSHUFD $0x4e, LO, LO; PXOR T, LO; \
	MOVO LO, T; PCLMULQDQ $0x10, sealedPoly<>(SB), T; PSHUFD $0x4e, LO, LO; PXOR T, LO; \
	PXOR HI, LO

// SEALED_POLY1: X8 = POLYVAL(X6 meta, X1 key, LEN) with bit 127 cleared,
// for a one-key-block handle. Uses X7-X12; X6 and X1 kept. The key-dependent
// products are added last (shortest dependency chain from the unwrap).
#define SEALED_POLY1(LEN) \
	MOVOU 336(DI), X7; \
	SEALED_CLMUL_INIT_LO(X6, X7, X8, X9, X10, X11); \
	MOVOU 304(DI), X7; MOVOU LEN, X12; \
	SEALED_CLMUL_ACC(X12, X7, X8, X9, X10, X11); \
	MOVOU 320(DI), X7; \
	SEALED_CLMUL_ACC(X1, X7, X8, X9, X10, X11); \
	SEALED_REDUCE(X8, X9, X10, X11); \
	PAND sealedClr127<>(SB), X8

// SEALED_POLY2: the same over X6 meta, X1, X2 key blocks, LEN.
#define SEALED_POLY2(LEN) \
	MOVOU 352(DI), X7; \
	SEALED_CLMUL_INIT_LO(X6, X7, X8, X9, X10, X11); \
	MOVOU 304(DI), X7; MOVOU LEN, X12; \
	SEALED_CLMUL_ACC(X12, X7, X8, X9, X10, X11); \
	MOVOU 336(DI), X7; \
	SEALED_CLMUL_ACC(X1, X7, X8, X9, X10, X11); \
	MOVOU 320(DI), X7; \
	SEALED_CLMUL_ACC(X2, X7, X8, X9, X10, X11); \
	SEALED_REDUCE(X8, X9, X10, X11); \
	PAND sealedClr127<>(SB), X8

// SEALED_TAG1 / SEALED_TAG2: X8 = the tag AES-256_EK(S) (for wrapping).
#define SEALED_TAG1(LEN) SEALED_POLY1(LEN); SEALED_EK1(X8, X11)
#define SEALED_TAG2(LEN) SEALED_POLY2(LEN); SEALED_EK1(X8, X11)

// SEALED_DTAG: D = AES-256_EK^-1(D) (equivalent inverse cipher, the
// decryption round keys made with AESIMC on the fly). Unwrap compares
// S with the decrypted stored tag instead of encrypting S: the AES-256 runs
// in parallel with the unwrap instead of after POLYVAL. AES is a
// permutation, so S == Dec(tag) exactly when Enc(S) == tag.
#define SEALED_DTAG(D, T) \
	MOVOU 288(DI), T; PXOR T, D; \
	MOVOU 272(DI), T; AESIMC T, T; AESDEC T, D; \
	MOVOU 256(DI), T; AESIMC T, T; AESDEC T, D; \
	MOVOU 240(DI), T; AESIMC T, T; AESDEC T, D; \
	MOVOU 224(DI), T; AESIMC T, T; AESDEC T, D; \
	MOVOU 208(DI), T; AESIMC T, T; AESDEC T, D; \
	MOVOU 192(DI), T; AESIMC T, T; AESDEC T, D; \
	MOVOU 176(DI), T; AESIMC T, T; AESDEC T, D; \
	MOVOU 160(DI), T; AESIMC T, T; AESDEC T, D; \
	MOVOU 144(DI), T; AESIMC T, T; AESDEC T, D; \
	MOVOU 128(DI), T; AESIMC T, T; AESDEC T, D; \
	MOVOU 112(DI), T; AESIMC T, T; AESDEC T, D; \
	MOVOU 96(DI), T; AESIMC T, T; AESDEC T, D; \
	MOVOU 80(DI), T; AESIMC T, T; AESDEC T, D; \
	MOVOU 64(DI), T; AESDECLAST T, D

// SEALED_UNWRAP1: X1 = key block of the handle at SI (CTR from the tag).
#define SEALED_UNWRAP1 \
	MOVOU 16(SI), X3; POR sealedBit127<>(SB), X3; \
	SEALED_EK1(X3, X5); \
	MOVOU 32(SI), X1; PXOR X3, X1

// SEALED_UNWRAP2: X1, X2 = the two key blocks of the handle at SI.
#define SEALED_UNWRAP2 \
	MOVOU 16(SI), X3; POR sealedBit127<>(SB), X3; \
	MOVO X3, X4; PADDD sealedOne<>(SB), X4; \
	SEALED_EK2(X3, X4, X5); \
	MOVOU 32(SI), X1; PXOR X3, X1; \
	MOVOU 48(SI), X2; PXOR X4, X2

// SEALED_META checks the handle's metadata at SI: bits 127:32 and the
// reserved bits of the low word clear, no restriction bit of FORBID set
// (CPL0-only always, plus no-encrypt or no-decrypt), key type 0-2. Leaves
// the key type in R11, or jumps to REJECT. Uses AX, R9.
#define SEALED_META(FORBID, REJECT) \
	MOVQ 8(SI), AX; TESTQ AX, AX; JNZ REJECT; \
	MOVQ 0(SI), AX; MOVQ $(0xFFFFFFFFF0FFFFF8|FORBID), R9; TESTQ R9, AX; JNZ REJECT; \
	MOVQ AX, R11; SHRQ $24, R11; CMPQ R11, $2; JA REJECT

// ---------------------------------------------------------------------------
// Key expansion in registers (FIPS-197 5.2). AESKEYGENASSIST gives
// SubWord(RotWord(w)) ^ rcon and SubWord(w) of words 1 and 3; PSHUFD
// broadcasts the one needed to all four columns.

// SEALED_PREFIX: D = (w0, w0^w1, w0^w1^w2, w0^w1^w2^w3), in two shift-xor steps.
#define SEALED_PREFIX(D, T) \
	MOVO D, T; PSLLDQ $4, T; PXOR T, D; \
	MOVO D, T; PSLLDQ $8, T; PXOR T, D

// SEALED_KSTEP: D = prefix(PP) ^ SubWord(RotWord(P.w3)) ^ RC.
#define SEALED_KSTEP(PP, P, D, T, RC) \
	MOVO PP, D; SEALED_PREFIX(D, T); \
	AESKEYGENASSIST RC, P, T; PSHUFD $0xff, T, T; PXOR T, D

// SEALED_KSTEPNR: D = prefix(PP) ^ SubWord(P.w3) (AES-256 odd round keys).
#define SEALED_KSTEPNR(PP, P, D, T) \
	MOVO PP, D; SEALED_PREFIX(D, T); \
	AESKEYGENASSIST $0, P, T; PSHUFD $0xaa, T, T; PXOR T, D

// AES-128: X5 = key -> X5..X15. T = X0.
#define SEALED_EXPAND128 \
	SEALED_KSTEP(X5, X5, X6, X0, $0x01); \
	SEALED_KSTEP(X6, X6, X7, X0, $0x02); \
	SEALED_KSTEP(X7, X7, X8, X0, $0x04); \
	SEALED_KSTEP(X8, X8, X9, X0, $0x08); \
	SEALED_KSTEP(X9, X9, X10, X0, $0x10); \
	SEALED_KSTEP(X10, X10, X11, X0, $0x20); \
	SEALED_KSTEP(X11, X11, X12, X0, $0x40); \
	SEALED_KSTEP(X12, X12, X13, X0, $0x80); \
	SEALED_KSTEP(X13, X13, X14, X0, $0x1b); \
	SEALED_KSTEP(X14, X14, X15, X0, $0x36)

// AES-256: X1, X2 = key -> X1..X15. T = X0.
#define SEALED_EXPAND256 \
	SEALED_KSTEP(X1, X2, X3, X0, $0x01); \
	SEALED_KSTEPNR(X2, X3, X4, X0); \
	SEALED_KSTEP(X3, X4, X5, X0, $0x02); \
	SEALED_KSTEPNR(X4, X5, X6, X0); \
	SEALED_KSTEP(X5, X6, X7, X0, $0x04); \
	SEALED_KSTEPNR(X6, X7, X8, X0); \
	SEALED_KSTEP(X7, X8, X9, X0, $0x08); \
	SEALED_KSTEPNR(X8, X9, X10, X0); \
	SEALED_KSTEP(X9, X10, X11, X0, $0x10); \
	SEALED_KSTEPNR(X10, X11, X12, X0); \
	SEALED_KSTEP(X11, X12, X13, X0, $0x20); \
	SEALED_KSTEPNR(X12, X13, X14, X0); \
	SEALED_KSTEP(X13, X14, X15, X0, $0x40)

// AES-192 works on 6-word steps: A = 4 words, B = 2 words (low half).
// SEALED_K192A: D = prefix(A) ^ SubWord(RotWord(B.w1)) ^ RC.
#define SEALED_K192A(A, B, D, T, RC) \
	MOVO A, D; SEALED_PREFIX(D, T); \
	AESKEYGENASSIST RC, B, T; PSHUFD $0x55, T, T; PXOR T, D

// SEALED_K192B: B = (b0, b0^b1) ^ D.w3 (the low two words; the rest is junk).
#define SEALED_K192B(B, D, T) \
	MOVO B, T; PSLLDQ $4, T; PXOR T, B; \
	PSHUFD $0xff, D, T; PXOR T, B

// AES-192: X3 = key words 0-3, X2 = words 4-5 (low half) -> X3..X15.
// X1 holds the odd 6-word steps, X2 the B half, X0 is the temporary.
#define SEALED_EXPAND192 \
	SEALED_K192A(X3, X2, X1, X0, $0x01); \
	MOVO X2, X4; PUNPCKLQDQ X1, X4; \
	SEALED_K192B(X2, X1, X0); \
	MOVO X2, X5; PALIGNR $8, X1, X5; \
	SEALED_K192A(X1, X2, X6, X0, $0x02); \
	SEALED_K192B(X2, X6, X0); \
	SEALED_K192A(X6, X2, X1, X0, $0x04); \
	MOVO X2, X7; PUNPCKLQDQ X1, X7; \
	SEALED_K192B(X2, X1, X0); \
	MOVO X2, X8; PALIGNR $8, X1, X8; \
	SEALED_K192A(X1, X2, X9, X0, $0x08); \
	SEALED_K192B(X2, X9, X0); \
	SEALED_K192A(X9, X2, X1, X0, $0x10); \
	MOVO X2, X10; PUNPCKLQDQ X1, X10; \
	SEALED_K192B(X2, X1, X0); \
	MOVO X2, X11; PALIGNR $8, X1, X11; \
	SEALED_K192A(X1, X2, X12, X0, $0x20); \
	SEALED_K192B(X2, X12, X0); \
	SEALED_K192A(X12, X2, X1, X0, $0x40); \
	MOVO X2, X13; PUNPCKLQDQ X1, X13; \
	SEALED_K192B(X2, X1, X0); \
	MOVO X2, X14; PALIGNR $8, X1, X14; \
	SEALED_K192A(X1, X2, X15, X0, $0x80)

// Decryption keys (equivalent inverse cipher): InvMixColumns of the middle
// round keys, in place.
#define SEALED_IMC_X6_X14 \
	AESIMC X6, X6; AESIMC X7, X7; AESIMC X8, X8; AESIMC X9, X9; AESIMC X10, X10; \
	AESIMC X11, X11; AESIMC X12, X12; AESIMC X13, X13; AESIMC X14, X14
#define SEALED_IMC128 SEALED_IMC_X6_X14
#define SEALED_IMC192 AESIMC X4, X4; AESIMC X5, X5; SEALED_IMC_X6_X14
#define SEALED_IMC256 AESIMC X2, X2; AESIMC X3, X3; AESIMC X4, X4; AESIMC X5, X5; SEALED_IMC_X6_X14

// ---------------------------------------------------------------------------
// The prologue of every routine that uses a handle.

// SEALED_KEYS: check the metadata of the handle at SI (FORBID: the restriction
// bits that refuse it, see SEALED_META; jump to REJE), unwrap its key, verify
// the tag (jump to REJ, X0-X15 to be cleared; AES-192: the 8 pad bytes of key
// block 1 must decrypt to zero) and expand the schedule into X1-X15,
// right-aligned (see above), then run I128/I192/I256 (the decryption AESIMC
// or NOP) and continue at LDONE (defined by the macro, like L256 and L192).
// R11 = key type. Uses X0-X15, AX, R9.
#define SEALED_KEYS(FORBID, REJE, REJ, L256, L192, LDONE, I128, I192, I256) \
	SEALED_META(FORBID, REJE); \
	MOVOU 16(SI), X13; \
	SEALED_DTAG(X13, X14); \
	CMPQ R11, $1; \
	JEQ  L256; \
	JA   L192; \
	SEALED_UNWRAP1; \
	MOVOU 0(SI), X6; \
	SEALED_POLY1(sealedLen128<>(SB)); \
	PXOR X13, X8; \
	PTEST X8, X8; \
	JNZ  REJ; \
	MOVO X1, X5; \
	SEALED_EXPAND128; \
	I128; \
	JMP  LDONE; \
L256: \
	SEALED_UNWRAP2; \
	MOVOU 0(SI), X6; \
	SEALED_POLY2(sealedLen256<>(SB)); \
	PXOR X13, X8; \
	PTEST X8, X8; \
	JNZ  REJ; \
	SEALED_EXPAND256; \
	I256; \
	JMP  LDONE; \
L192: \
	SEALED_UNWRAP2; \
	MOVOU 0(SI), X6; \
	SEALED_POLY2(sealedLen192<>(SB)); \
	PXOR X13, X8; \
	MOVO X2, X7; \
	PAND sealedHiQ<>(SB), X7; \
	POR  X7, X8; \
	PTEST X8, X8; \
	JNZ  REJ; \
	MOVO X1, X3; \
	SEALED_EXPAND192; \
	I192; \
LDONE: \
	NOP


// ---------------------------------------------------------------------------
// Spilling X1-X15 to the aligned stack area at R10 (slot i-1 holds Xi).

#define SEALED_SPILL \
	MOVO X1, 0(R10); MOVO X2, 16(R10); MOVO X3, 32(R10); MOVO X4, 48(R10); \
	MOVO X5, 64(R10); MOVO X6, 80(R10); MOVO X7, 96(R10); MOVO X8, 112(R10); \
	MOVO X9, 128(R10); MOVO X10, 144(R10); MOVO X11, 160(R10); MOVO X12, 176(R10); \
	MOVO X13, 192(R10); MOVO X14, 208(R10); MOVO X15, 224(R10)

// SEALED_WIPE zeroes the spill area with Z (a zeroed xmm register).
#define SEALED_WIPE(Z) \
	MOVO Z, 0(R10); MOVO Z, 16(R10); MOVO Z, 32(R10); MOVO Z, 48(R10); \
	MOVO Z, 64(R10); MOVO Z, 80(R10); MOVO Z, 96(R10); MOVO Z, 112(R10); \
	MOVO Z, 128(R10); MOVO Z, 144(R10); MOVO Z, 160(R10); MOVO Z, 176(R10); \
	MOVO Z, 192(R10); MOVO Z, 208(R10); MOVO Z, 224(R10)

// 8 blocks in X0-X7 (AES-NI path).
#define SEALED_LOAD8 \
	MOVOU 0(BX), X0; MOVOU 16(BX), X1; MOVOU 32(BX), X2; MOVOU 48(BX), X3; \
	MOVOU 64(BX), X4; MOVOU 80(BX), X5; MOVOU 96(BX), X6; MOVOU 112(BX), X7
#define SEALED_STORE8 \
	MOVOU X0, 0(DX); MOVOU X1, 16(DX); MOVOU X2, 32(DX); MOVOU X3, 48(DX); \
	MOVOU X4, 64(DX); MOVOU X5, 80(DX); MOVOU X6, 96(DX); MOVOU X7, 112(DX)
#define SEALED_OP8(OP, K) \
	OP K, X0; OP K, X1; OP K, X2; OP K, X3; OP K, X4; OP K, X5; OP K, X6; OP K, X7
// One round on X0-X7 with the spilled round key at slot offset OFF.
#define SEALED_R8(OP, OFF) MOVO OFF(R10), X8; SEALED_OP8(OP, X8)

// 4 blocks in X0-X3 (the AES-NI path's tail).
#define SEALED_LOAD4 \
	MOVOU 0(BX), X0; MOVOU 16(BX), X1; MOVOU 32(BX), X2; MOVOU 48(BX), X3
#define SEALED_STORE4 \
	MOVOU X0, 0(DX); MOVOU X1, 16(DX); MOVOU X2, 32(DX); MOVOU X3, 48(DX)
#define SEALED_R4(OP, OFF) MOVO OFF(R10), X8; OP X8, X0; OP X8, X1; OP X8, X2; OP X8, X3

// 8 x 2 blocks in Y0-Y7 (VAES ymm path), key broadcast into Y8.
#define SEALED_YLOAD8 \
	VMOVDQU 0(BX), Y0; VMOVDQU 32(BX), Y1; VMOVDQU 64(BX), Y2; VMOVDQU 96(BX), Y3; \
	VMOVDQU 128(BX), Y4; VMOVDQU 160(BX), Y5; VMOVDQU 192(BX), Y6; VMOVDQU 224(BX), Y7
#define SEALED_YSTORE8 \
	VMOVDQU Y0, 0(DX); VMOVDQU Y1, 32(DX); VMOVDQU Y2, 64(DX); VMOVDQU Y3, 96(DX); \
	VMOVDQU Y4, 128(DX); VMOVDQU Y5, 160(DX); VMOVDQU Y6, 192(DX); VMOVDQU Y7, 224(DX)
#define SEALED_YOP8(OP, K) \
	OP K, Y0, Y0; OP K, Y1, Y1; OP K, Y2, Y2; OP K, Y3, Y3; \
	OP K, Y4, Y4; OP K, Y5, Y5; OP K, Y6, Y6; OP K, Y7, Y7
#define SEALED_YR8(OP, OFF) VBROADCASTI128 OFF(R10), Y8; SEALED_YOP8(OP, Y8)
#define SEALED_YLOAD4 \
	VMOVDQU 0(BX), Y0; VMOVDQU 32(BX), Y1; VMOVDQU 64(BX), Y2; VMOVDQU 96(BX), Y3
#define SEALED_YSTORE4 \
	VMOVDQU Y0, 0(DX); VMOVDQU Y1, 32(DX); VMOVDQU Y2, 64(DX); VMOVDQU Y3, 96(DX)
#define SEALED_YR4(OP, OFF) VBROADCASTI128 OFF(R10), Y8; OP Y8, Y0, Y0; OP Y8, Y1, Y1; OP Y8, Y2, Y2; OP Y8, Y3, Y3
#define SEALED_YR1(OP, OFF) VBROADCASTI128 OFF(R10), Y8; OP Y8, Y0, Y0

// 8 x 4 blocks in Z0-Z7 (VAES zmm path), round keys broadcast in Z16-Z30
// (Z(15+i) = X(i) in every lane).
#define SEALED_ZBCAST \
	VSHUFI64X2 $0, Z1, Z1, Z16; VSHUFI64X2 $0, Z2, Z2, Z17; VSHUFI64X2 $0, Z3, Z3, Z18; \
	VSHUFI64X2 $0, Z4, Z4, Z19; VSHUFI64X2 $0, Z5, Z5, Z20; VSHUFI64X2 $0, Z6, Z6, Z21; \
	VSHUFI64X2 $0, Z7, Z7, Z22; VSHUFI64X2 $0, Z8, Z8, Z23; VSHUFI64X2 $0, Z9, Z9, Z24; \
	VSHUFI64X2 $0, Z10, Z10, Z25; VSHUFI64X2 $0, Z11, Z11, Z26; VSHUFI64X2 $0, Z12, Z12, Z27; \
	VSHUFI64X2 $0, Z13, Z13, Z28; VSHUFI64X2 $0, Z14, Z14, Z29; VSHUFI64X2 $0, Z15, Z15, Z30
#define SEALED_ZCLEAR \
	VPXORD Z16, Z16, Z16; VPXORD Z17, Z17, Z17; VPXORD Z18, Z18, Z18; VPXORD Z19, Z19, Z19; \
	VPXORD Z20, Z20, Z20; VPXORD Z21, Z21, Z21; VPXORD Z22, Z22, Z22; VPXORD Z23, Z23, Z23; \
	VPXORD Z24, Z24, Z24; VPXORD Z25, Z25, Z25; VPXORD Z26, Z26, Z26; VPXORD Z27, Z27, Z27; \
	VPXORD Z28, Z28, Z28; VPXORD Z29, Z29, Z29; VPXORD Z30, Z30, Z30; VPXORD Z31, Z31, Z31
#define SEALED_ZLOAD8 \
	VMOVDQU64 0(BX), Z0; VMOVDQU64 64(BX), Z1; VMOVDQU64 128(BX), Z2; VMOVDQU64 192(BX), Z3; \
	VMOVDQU64 256(BX), Z4; VMOVDQU64 320(BX), Z5; VMOVDQU64 384(BX), Z6; VMOVDQU64 448(BX), Z7
#define SEALED_ZSTORE8 \
	VMOVDQU64 Z0, 0(DX); VMOVDQU64 Z1, 64(DX); VMOVDQU64 Z2, 128(DX); VMOVDQU64 Z3, 192(DX); \
	VMOVDQU64 Z4, 256(DX); VMOVDQU64 Z5, 320(DX); VMOVDQU64 Z6, 384(DX); VMOVDQU64 Z7, 448(DX)
#define SEALED_ZLOAD4 \
	VMOVDQU64 0(BX), Z0; VMOVDQU64 64(BX), Z1; VMOVDQU64 128(BX), Z2; VMOVDQU64 192(BX), Z3
#define SEALED_ZSTORE4 \
	VMOVDQU64 Z0, 0(DX); VMOVDQU64 Z1, 64(DX); VMOVDQU64 Z2, 128(DX); VMOVDQU64 Z3, 192(DX)
#define SEALED_ZOP4(OP, K) OP K, Z0, Z0; OP K, Z1, Z1; OP K, Z2, Z2; OP K, Z3, Z3
#define SEALED_ZOP8(OP, K) \
	OP K, Z0, Z0; OP K, Z1, Z1; OP K, Z2, Z2; OP K, Z3, Z3; \
	OP K, Z4, Z4; OP K, Z5, Z5; OP K, Z6, Z6; OP K, Z7, Z7
