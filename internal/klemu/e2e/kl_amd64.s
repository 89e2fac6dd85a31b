#include "textflag.h"

// Key Locker instructions as raw bytes (the Go assembler does not know
// them); every encoding was checked with GNU as 2.40 / objdump.
// Ctx layout: X0-X14 at 0..239, Flags 240, H 248, Src 256, Dest 264.

#define LOADX(R) \
	MOVOU 0(R), X0; MOVOU 16(R), X1; MOVOU 32(R), X2; MOVOU 48(R), X3; \
	MOVOU 64(R), X4; MOVOU 80(R), X5; MOVOU 96(R), X6; MOVOU 112(R), X7; \
	MOVOU 128(R), X8; MOVOU 144(R), X9; MOVOU 160(R), X10; MOVOU 176(R), X11; \
	MOVOU 192(R), X12; MOVOU 208(R), X13; MOVOU 224(R), X14
#define STOREX(R) \
	MOVOU X0, 0(R); MOVOU X1, 16(R); MOVOU X2, 32(R); MOVOU X3, 48(R); \
	MOVOU X4, 64(R); MOVOU X5, 80(R); MOVOU X6, 96(R); MOVOU X7, 112(R); \
	MOVOU X8, 128(R); MOVOU X9, 144(R); MOVOU X10, 160(R); MOVOU X11, 176(R); \
	MOVOU X12, 192(R); MOVOU X13, 208(R); MOVOU X14, 224(R)
// SETFLAGS loads RFLAGS from Ctx.Flags (the caller passes only CF PF AF ZF SF OF).
#define SETFLAGS(R) MOVQ 240(R), AX; PUSHQ AX; POPFQ
#define GETFLAGS(R) PUSHFQ; POPQ AX; MOVQ AX, 240(R)

// func cpuidRaw(eax, ecx uint32) (a, b, c, d uint32)
TEXT ·cpuidRaw(SB), NOSPLIT, $0-24
	MOVL eax+0(FP), AX
	MOVL ecx+4(FP), CX
	CPUID
	MOVL AX, a+8(FP)
	MOVL BX, b+12(FP)
	MOVL CX, c+16(FP)
	MOVL DX, d+20(FP)
	RET

// func encodekey128(c *Ctx)
TEXT ·encodekey128(SB), NOSPLIT, $0-8
	MOVQ c+0(FP), DI
	LOADX(DI)
	MOVQ 256(DI), CX
	MOVQ $-1, DX
	SETFLAGS(DI)
	// encodekey128 %ecx, %edx
	BYTE $0xF3; BYTE $0x0F; BYTE $0x38; BYTE $0xFA; BYTE $0xD1
	GETFLAGS(DI)
	MOVQ DX, 264(DI)
	STOREX(DI)
	XORPS X15, X15
	RET

// func encodekey256(c *Ctx)
TEXT ·encodekey256(SB), NOSPLIT, $0-8
	MOVQ c+0(FP), DI
	LOADX(DI)
	MOVQ 256(DI), R9
	MOVQ $-1, R10
	SETFLAGS(DI)
	// encodekey256 %r9d, %r10d
	BYTE $0xF3; BYTE $0x45; BYTE $0x0F; BYTE $0x38; BYTE $0xFB; BYTE $0xD1
	GETFLAGS(DI)
	MOVQ R10, 264(DI)
	STOREX(DI)
	XORPS X15, X15
	RET

// func aesenc128kl(c *Ctx)
TEXT ·aesenc128kl(SB), NOSPLIT, $0-8
	MOVQ c+0(FP), DI
	LOADX(DI)
	MOVQ 248(DI), BX
	SETFLAGS(DI)
	// aesenc128kl (%rbx), %xmm1
	BYTE $0xF3; BYTE $0x0F; BYTE $0x38; BYTE $0xDC; BYTE $0x0B
	GETFLAGS(DI)
	STOREX(DI)
	XORPS X15, X15
	RET

// func aesdec128kl(c *Ctx)
TEXT ·aesdec128kl(SB), NOSPLIT, $0-8
	MOVQ c+0(FP), DI
	LOADX(DI)
	MOVQ 248(DI), R8
	SETFLAGS(DI)
	// aesdec128kl (%r8), %xmm9
	BYTE $0xF3; BYTE $0x45; BYTE $0x0F; BYTE $0x38; BYTE $0xDD; BYTE $0x08
	GETFLAGS(DI)
	STOREX(DI)
	XORPS X15, X15
	RET

// func aesenc256kl(c *Ctx)
TEXT ·aesenc256kl(SB), NOSPLIT, $0-8
	MOVQ c+0(FP), DI
	LOADX(DI)
	MOVQ 248(DI), AX
	SUBQ $0x20, AX
	MOVQ $4, CX
	MOVQ AX, R11
	MOVQ 240(DI), AX
	PUSHQ AX
	POPFQ
	MOVQ R11, AX
	// aesenc256kl 0x18(%rax,%rcx,2), %xmm2
	BYTE $0xF3; BYTE $0x0F; BYTE $0x38; BYTE $0xDE; BYTE $0x54; BYTE $0x48; BYTE $0x18
	GETFLAGS(DI)
	STOREX(DI)
	XORPS X15, X15
	RET

// func aesdec256kl(c *Ctx)
TEXT ·aesdec256kl(SB), NOSPLIT, $0-8
	MOVQ c+0(FP), DI
	LOADX(DI)
	MOVQ 248(DI), R13
	SUBQ $0x110, R13
	MOVQ $2, R12
	SETFLAGS(DI)
	// aesdec256kl 0x100(%r13,%r12,8), %xmm3
	BYTE $0xF3; BYTE $0x43; BYTE $0x0F; BYTE $0x38; BYTE $0xDF; BYTE $0x9C; BYTE $0xE5
	BYTE $0x00; BYTE $0x01; BYTE $0x00; BYTE $0x00 // (disp32 0x100)
	GETFLAGS(DI)
	STOREX(DI)
	XORPS X15, X15
	RET

// func aesencwide128kl(c *Ctx)
TEXT ·aesencwide128kl(SB), NOSPLIT, $0-8
	MOVQ c+0(FP), DI
	LOADX(DI)
	MOVQ 248(DI), SI
	SETFLAGS(DI)
	// aesencwide128kl (%rsi)
	BYTE $0xF3; BYTE $0x0F; BYTE $0x38; BYTE $0xD8; BYTE $0x06
	GETFLAGS(DI)
	STOREX(DI)
	XORPS X15, X15
	RET

// func aesdecwide128kl(c *Ctx)
TEXT ·aesdecwide128kl(SB), NOSPLIT, $0-8
	MOVQ c+0(FP), DI
	LOADX(DI)
	MOVQ 248(DI), R13
	SETFLAGS(DI)
	// aesdecwide128kl 0x0(%r13)
	BYTE $0xF3; BYTE $0x41; BYTE $0x0F; BYTE $0x38; BYTE $0xD8; BYTE $0x4D; BYTE $0x00
	GETFLAGS(DI)
	STOREX(DI)
	XORPS X15, X15
	RET

// func aesencwide256kl(c *Ctx)
TEXT ·aesencwide256kl(SB), NOSPLIT, $0-8
	MOVQ c+0(FP), DI
	LOADX(DI)
	MOVQ 248(DI), BX
	SETFLAGS(DI)
	// aesencwide256kl (%rbx)
	BYTE $0xF3; BYTE $0x0F; BYTE $0x38; BYTE $0xD8; BYTE $0x13
	GETFLAGS(DI)
	STOREX(DI)
	XORPS X15, X15
	RET

// func aesdecwide256kl(c *Ctx)
TEXT ·aesdecwide256kl(SB), NOSPLIT, $0-8
	MOVQ c+0(FP), DI
	LOADX(DI)
	MOVQ 248(DI), R12
	SETFLAGS(DI)
	// aesdecwide256kl (%r12)
	BYTE $0xF3; BYTE $0x41; BYTE $0x0F; BYTE $0x38; BYTE $0xD8; BYTE $0x1C; BYTE $0x24
	GETFLAGS(DI)
	STOREX(DI)
	XORPS X15, X15
	RET

// func loadiwkey(c *Ctx)
TEXT ·loadiwkey(SB), NOSPLIT, $0-8
	MOVQ c+0(FP), DI
	LOADX(DI)
	// loadiwkey %xmm1, %xmm2
	BYTE $0xF3; BYTE $0x0F; BYTE $0x38; BYTE $0xDC; BYTE $0xD1
	STOREX(DI)
	XORPS X15, X15
	RET

// func jitcall(code uintptr, c *Ctx)
TEXT ·jitcall(SB), NOSPLIT, $16-16
	MOVQ c+8(FP), DI
	MOVQ DI, save-8(SP)
	LOADX(DI)
	MOVQ code+0(FP), R11
	CALL R11
	MOVQ save-8(SP), DI
	MOVQ AX, 240(DI)
	STOREX(DI)
	XORPS X15, X15
	RET

// func aesenc128klYMM(h uintptr, y *[32]byte) (flags uint64)
TEXT ·aesenc128klYMM(SB), NOSPLIT, $0-24
	MOVQ h+0(FP), BX
	MOVQ y+8(FP), SI
	VMOVDQU (SI), Y1
	// aesenc128kl (%rbx), %xmm1
	BYTE $0xF3; BYTE $0x0F; BYTE $0x38; BYTE $0xDC; BYTE $0x0B
	PUSHFQ
	POPQ AX
	MOVQ AX, flags+16(FP)
	VMOVDQU Y1, (SI)
	VZEROUPPER
	RET
