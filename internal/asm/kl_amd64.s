//go:build amd64 && !purego

#include "textflag.h"

// Key Locker routines. The Go assembler knows none of the Key Locker
// instructions, so they are emitted as raw bytes; every BYTE run carries its
// mnemonic in AT&T syntax (GNU objdump prints the same text, which
// kl_disasm_test.go checks) and in Intel syntax. All memory operands use
// AX (the handle pointer) as a plain base: mod=00 rm=000, no SIB, no
// displacement, never RIP-relative. The routines never touch X8-X15, R12-R15
// or SP-relative memory outside their own argument frame.
//
// Register use (all ABI0, arguments on the stack):
//   AX  handle pointer        SI  src cursor        DI  dst cursor
//   CX  block or batch count  DX  tail count        BX  handle store (EncodeKey)
//   X0      single-block data (and the key / handle in EncodeKey)
//   X0-X7   WIDE batch data (implicit operands of AES*WIDE*KL)

// CLEAR_X0_X6 zeroes X0-X6 (what ENCODEKEY touched).
#define CLEAR_X0_X6 \
	PXOR X0, X0; PXOR X1, X1; PXOR X2, X2; PXOR X3, X3; \
	PXOR X4, X4; PXOR X5, X5; PXOR X6, X6

// CLEAR_X0_X7 zeroes X0-X7 (the WIDE data registers).
#define CLEAR_X0_X7 \
	CLEAR_X0_X6; PXOR X7, X7

// LOAD8 loads 8 blocks from (SI) into X0-X7.
#define LOAD8 \
	MOVOU 0(SI), X0; MOVOU 16(SI), X1; MOVOU 32(SI), X2; MOVOU 48(SI), X3; \
	MOVOU 64(SI), X4; MOVOU 80(SI), X5; MOVOU 96(SI), X6; MOVOU 112(SI), X7

// STORE8 stores X0-X7 to 8 blocks at (DI).
#define STORE8 \
	MOVOU X0, 0(DI); MOVOU X1, 16(DI); MOVOU X2, 32(DI); MOVOU X3, 48(DI); \
	MOVOU X4, 64(DI); MOVOU X5, 80(DI); MOVOU X6, 96(DI); MOVOU X7, 112(DI)

// ECB_ARGS loads h into AX, dst into DI, src into SI and the number of
// blocks (len(src)/16) into CX.
#define ECB_ARGS \
	MOVQ h+0(FP), AX; \
	MOVQ dst_base+8(FP), DI; \
	MOVQ src_base+32(FP), SI; \
	MOVQ src_len+40(FP), CX; \
	SHRQ $4, CX

// WIDE_ARGS is ECB_ARGS, then splits CX into CX = blocks/8 (batches) and
// DX = blocks%8 (tail).
#define WIDE_ARGS \
	ECB_ARGS; \
	MOVQ CX, DX; \
	ANDQ $7, DX; \
	SHRQ $3, CX

// ---------------------------------------------------------------------------
// ENCODEKEY

// func EncodeKey128(key *[16]byte, restrictions uint32, h *[64]byte) (info uint32)
TEXT ·EncodeKey128(SB), NOSPLIT, $0-28
	CALL ·sigstkArm(SB) // before any key byte: see sigstk_amd64.go
	MOVQ key+0(FP), AX
	MOVL restrictions+8(FP), CX
	MOVQ h+16(FP), BX
	MOVOU (AX), X0 // the key, straight from the caller's memory
	XORL DX, DX
	// encodekey128 %ecx,%edx  (Intel: ENCODEKEY128 edx, ecx)
	BYTE $0xF3; BYTE $0x0F; BYTE $0x38; BYTE $0xFA; BYTE $0xD1
	MOVL DX, info+24(FP)
	MOVOU X0, 0(BX)
	MOVOU X1, 16(BX)
	MOVOU X2, 32(BX)
	CLEAR_X0_X6
	MOVOU X0, 48(BX) // h[48:64] = 0
	CALL ·sigstkCheck(SB) // vector registers are zero: wipe the signal frame if a signal came
	RET

// func EncodeKey256(key *[32]byte, restrictions uint32, h *[64]byte) (info uint32)
TEXT ·EncodeKey256(SB), NOSPLIT, $0-28
	CALL ·sigstkArm(SB) // before any key byte: see sigstk_amd64.go
	MOVQ key+0(FP), AX
	MOVL restrictions+8(FP), CX
	MOVQ h+16(FP), BX
	MOVOU 0(AX), X0  // key low 16 bytes, straight from the caller's memory
	MOVOU 16(AX), X1 // key high 16 bytes
	XORL DX, DX
	// encodekey256 %ecx,%edx  (Intel: ENCODEKEY256 edx, ecx)
	BYTE $0xF3; BYTE $0x0F; BYTE $0x38; BYTE $0xFB; BYTE $0xD1
	MOVL DX, info+24(FP)
	MOVOU X0, 0(BX)
	MOVOU X1, 16(BX)
	MOVOU X2, 32(BX)
	MOVOU X3, 48(BX)
	CLEAR_X0_X6
	CALL ·sigstkCheck(SB) // vector registers are zero: wipe the signal frame if a signal came
	RET

// ---------------------------------------------------------------------------
// Single-block ECB: one AES*KL per block, X0 only.

// func EncryptKL128(h *[64]byte, dst, src []byte) bool
TEXT ·EncryptKL128(SB), NOSPLIT, $0-57
	ECB_ARGS
	TESTQ CX, CX
	JZ    ok

loop:
	MOVOU (SI), X0
	// aesenc128kl (%rax),%xmm0  (Intel: AESENC128KL xmm0, [rax])
	BYTE $0xF3; BYTE $0x0F; BYTE $0x38; BYTE $0xDC; BYTE $0x00
	JZ    fail
	MOVOU X0, (DI)
	ADDQ  $16, SI
	ADDQ  $16, DI
	DECQ  CX
	JNZ   loop

ok:
	PXOR X0, X0
	MOVB $1, ret+56(FP)
	RET

fail:
	PXOR X0, X0
	MOVB $0, ret+56(FP)
	RET

// func DecryptKL128(h *[64]byte, dst, src []byte) bool
TEXT ·DecryptKL128(SB), NOSPLIT, $0-57
	ECB_ARGS
	TESTQ CX, CX
	JZ    ok

loop:
	MOVOU (SI), X0
	// aesdec128kl (%rax),%xmm0  (Intel: AESDEC128KL xmm0, [rax])
	BYTE $0xF3; BYTE $0x0F; BYTE $0x38; BYTE $0xDD; BYTE $0x00
	JZ    fail
	MOVOU X0, (DI)
	ADDQ  $16, SI
	ADDQ  $16, DI
	DECQ  CX
	JNZ   loop

ok:
	PXOR X0, X0
	MOVB $1, ret+56(FP)
	RET

fail:
	PXOR X0, X0
	MOVB $0, ret+56(FP)
	RET

// func EncryptKL256(h *[64]byte, dst, src []byte) bool
TEXT ·EncryptKL256(SB), NOSPLIT, $0-57
	ECB_ARGS
	TESTQ CX, CX
	JZ    ok

loop:
	MOVOU (SI), X0
	// aesenc256kl (%rax),%xmm0  (Intel: AESENC256KL xmm0, [rax])
	BYTE $0xF3; BYTE $0x0F; BYTE $0x38; BYTE $0xDE; BYTE $0x00
	JZ    fail
	MOVOU X0, (DI)
	ADDQ  $16, SI
	ADDQ  $16, DI
	DECQ  CX
	JNZ   loop

ok:
	PXOR X0, X0
	MOVB $1, ret+56(FP)
	RET

fail:
	PXOR X0, X0
	MOVB $0, ret+56(FP)
	RET

// func DecryptKL256(h *[64]byte, dst, src []byte) bool
TEXT ·DecryptKL256(SB), NOSPLIT, $0-57
	ECB_ARGS
	TESTQ CX, CX
	JZ    ok

loop:
	MOVOU (SI), X0
	// aesdec256kl (%rax),%xmm0  (Intel: AESDEC256KL xmm0, [rax])
	BYTE $0xF3; BYTE $0x0F; BYTE $0x38; BYTE $0xDF; BYTE $0x00
	JZ    fail
	MOVOU X0, (DI)
	ADDQ  $16, SI
	ADDQ  $16, DI
	DECQ  CX
	JNZ   loop

ok:
	PXOR X0, X0
	MOVB $1, ret+56(FP)
	RET

fail:
	PXOR X0, X0
	MOVB $0, ret+56(FP)
	RET

// ---------------------------------------------------------------------------
// WIDE ECB: one AES*WIDE*KL per 8 blocks in X0-X7, then the single-block
// instruction in X0 for the blocks%8 tail.

// func EncryptKLWide128(h *[64]byte, dst, src []byte) bool
TEXT ·EncryptKLWide128(SB), NOSPLIT, $0-57
	WIDE_ARGS
	TESTQ CX, CX
	JZ    tail

wide:
	LOAD8
	// aesencwide128kl (%rax)  (Intel: AESENCWIDE128KL [rax])
	BYTE $0xF3; BYTE $0x0F; BYTE $0x38; BYTE $0xD8; BYTE $0x00
	JZ    fail
	STORE8
	ADDQ  $128, SI
	ADDQ  $128, DI
	DECQ  CX
	JNZ   wide

tail:
	TESTQ DX, DX
	JZ    ok

single:
	MOVOU (SI), X0
	// aesenc128kl (%rax),%xmm0  (Intel: AESENC128KL xmm0, [rax])
	BYTE $0xF3; BYTE $0x0F; BYTE $0x38; BYTE $0xDC; BYTE $0x00
	JZ    fail
	MOVOU X0, (DI)
	ADDQ  $16, SI
	ADDQ  $16, DI
	DECQ  DX
	JNZ   single

ok:
	CLEAR_X0_X7
	MOVB $1, ret+56(FP)
	RET

fail:
	CLEAR_X0_X7
	MOVB $0, ret+56(FP)
	RET

// func DecryptKLWide128(h *[64]byte, dst, src []byte) bool
TEXT ·DecryptKLWide128(SB), NOSPLIT, $0-57
	WIDE_ARGS
	TESTQ CX, CX
	JZ    tail

wide:
	LOAD8
	// aesdecwide128kl (%rax)  (Intel: AESDECWIDE128KL [rax])
	BYTE $0xF3; BYTE $0x0F; BYTE $0x38; BYTE $0xD8; BYTE $0x08
	JZ    fail
	STORE8
	ADDQ  $128, SI
	ADDQ  $128, DI
	DECQ  CX
	JNZ   wide

tail:
	TESTQ DX, DX
	JZ    ok

single:
	MOVOU (SI), X0
	// aesdec128kl (%rax),%xmm0  (Intel: AESDEC128KL xmm0, [rax])
	BYTE $0xF3; BYTE $0x0F; BYTE $0x38; BYTE $0xDD; BYTE $0x00
	JZ    fail
	MOVOU X0, (DI)
	ADDQ  $16, SI
	ADDQ  $16, DI
	DECQ  DX
	JNZ   single

ok:
	CLEAR_X0_X7
	MOVB $1, ret+56(FP)
	RET

fail:
	CLEAR_X0_X7
	MOVB $0, ret+56(FP)
	RET

// func EncryptKLWide256(h *[64]byte, dst, src []byte) bool
TEXT ·EncryptKLWide256(SB), NOSPLIT, $0-57
	WIDE_ARGS
	TESTQ CX, CX
	JZ    tail

wide:
	LOAD8
	// aesencwide256kl (%rax)  (Intel: AESENCWIDE256KL [rax])
	BYTE $0xF3; BYTE $0x0F; BYTE $0x38; BYTE $0xD8; BYTE $0x10
	JZ    fail
	STORE8
	ADDQ  $128, SI
	ADDQ  $128, DI
	DECQ  CX
	JNZ   wide

tail:
	TESTQ DX, DX
	JZ    ok

single:
	MOVOU (SI), X0
	// aesenc256kl (%rax),%xmm0  (Intel: AESENC256KL xmm0, [rax])
	BYTE $0xF3; BYTE $0x0F; BYTE $0x38; BYTE $0xDE; BYTE $0x00
	JZ    fail
	MOVOU X0, (DI)
	ADDQ  $16, SI
	ADDQ  $16, DI
	DECQ  DX
	JNZ   single

ok:
	CLEAR_X0_X7
	MOVB $1, ret+56(FP)
	RET

fail:
	CLEAR_X0_X7
	MOVB $0, ret+56(FP)
	RET

// func DecryptKLWide256(h *[64]byte, dst, src []byte) bool
TEXT ·DecryptKLWide256(SB), NOSPLIT, $0-57
	WIDE_ARGS
	TESTQ CX, CX
	JZ    tail

wide:
	LOAD8
	// aesdecwide256kl (%rax)  (Intel: AESDECWIDE256KL [rax])
	BYTE $0xF3; BYTE $0x0F; BYTE $0x38; BYTE $0xD8; BYTE $0x18
	JZ    fail
	STORE8
	ADDQ  $128, SI
	ADDQ  $128, DI
	DECQ  CX
	JNZ   wide

tail:
	TESTQ DX, DX
	JZ    ok

single:
	MOVOU (SI), X0
	// aesdec256kl (%rax),%xmm0  (Intel: AESDEC256KL xmm0, [rax])
	BYTE $0xF3; BYTE $0x0F; BYTE $0x38; BYTE $0xDF; BYTE $0x00
	JZ    fail
	MOVOU X0, (DI)
	ADDQ  $16, SI
	ADDQ  $16, DI
	DECQ  DX
	JNZ   single

ok:
	CLEAR_X0_X7
	MOVB $1, ret+56(FP)
	RET

fail:
	CLEAR_X0_X7
	MOVB $0, ret+56(FP)
	RET

// ---------------------------------------------------------------------------
// Test-only probes (used by kl_*_test.go; not part of the package API).
// Each fills X0-X7 with the 0xA5 sentinel, CALLs the real ABI0 routine (not a
// copy of its body) and dumps X0-X7 as the routine left them, so the tests
// can check which vector registers each routine clears.

// SENTINEL_X0_X7 fills X0-X7 with 0xA5 bytes (uses R11).
#define SENTINEL_X0_X7 \
	MOVQ $0xA5A5A5A5A5A5A5A5, R11; \
	MOVQ R11, X0; PUNPCKLQDQ X0, X0; \
	MOVOU X0, X1; MOVOU X0, X2; MOVOU X0, X3; \
	MOVOU X0, X4; MOVOU X0, X5; MOVOU X0, X6; MOVOU X0, X7

// DUMP_X0_X7 stores X0-X7 to (R11).
#define DUMP_X0_X7 \
	MOVOU X0, 0(R11); MOVOU X1, 16(R11); MOVOU X2, 32(R11); MOVOU X3, 48(R11); \
	MOVOU X4, 64(R11); MOVOU X5, 80(R11); MOVOU X6, 96(R11); MOVOU X7, 112(R11)

// func klEncodeKeyRegs(bits int, key *[32]byte, restrictions uint32, h *[64]byte, regs *[8][16]byte) (info uint32)
TEXT ·klEncodeKeyRegs(SB), NOSPLIT, $32-44
	MOVQ key+8(FP), AX
	MOVQ AX, 0(SP)
	MOVL restrictions+16(FP), AX
	MOVL AX, 8(SP)
	MOVQ h+24(FP), AX
	MOVQ AX, 16(SP)
	SENTINEL_X0_X7
	MOVQ bits+0(FP), AX
	CMPQ AX, $256
	JEQ  k256
	CALL ·EncodeKey128(SB)
	JMP  dump

k256:
	CALL ·EncodeKey256(SB)

dump:
	MOVQ regs+32(FP), R11
	DUMP_X0_X7
	MOVL 24(SP), AX
	MOVL AX, info+40(FP)
	RET

// func klECBRegs(fn int, h *[64]byte, dst, src []byte, regs *[8][16]byte) bool
// fn: 0 EncryptKL128, 1 DecryptKL128, 2 EncryptKL256, 3 DecryptKL256,
// 4 EncryptKLWide128, 5 DecryptKLWide128, 6 EncryptKLWide256, 7 DecryptKLWide256.
TEXT ·klECBRegs(SB), NOSPLIT, $64-73
	MOVQ h+8(FP), AX
	MOVQ AX, 0(SP)
	MOVQ dst_base+16(FP), AX
	MOVQ AX, 8(SP)
	MOVQ dst_len+24(FP), AX
	MOVQ AX, 16(SP)
	MOVQ dst_cap+32(FP), AX
	MOVQ AX, 24(SP)
	MOVQ src_base+40(FP), AX
	MOVQ AX, 32(SP)
	MOVQ src_len+48(FP), AX
	MOVQ AX, 40(SP)
	MOVQ src_cap+56(FP), AX
	MOVQ AX, 48(SP)
	SENTINEL_X0_X7
	MOVQ fn+0(FP), AX
	CMPQ AX, $0
	JEQ  f0
	CMPQ AX, $1
	JEQ  f1
	CMPQ AX, $2
	JEQ  f2
	CMPQ AX, $3
	JEQ  f3
	CMPQ AX, $4
	JEQ  f4
	CMPQ AX, $5
	JEQ  f5
	CMPQ AX, $6
	JEQ  f6
	CALL ·DecryptKLWide256(SB)
	JMP  dump

f0:
	CALL ·EncryptKL128(SB)
	JMP  dump

f1:
	CALL ·DecryptKL128(SB)
	JMP  dump

f2:
	CALL ·EncryptKL256(SB)
	JMP  dump

f3:
	CALL ·DecryptKL256(SB)
	JMP  dump

f4:
	CALL ·EncryptKLWide128(SB)
	JMP  dump

f5:
	CALL ·DecryptKLWide128(SB)
	JMP  dump

f6:
	CALL ·EncryptKLWide256(SB)

dump:
	MOVQ regs+64(FP), R11
	DUMP_X0_X7
	MOVB 56(SP), AX
	MOVB AX, ret+72(FP)
	RET
