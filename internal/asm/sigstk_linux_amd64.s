//go:build amd64 && !purego

#include "textflag.h"

// The signal-frame wipe (see sigstk_amd64.go). These helpers are called by
// the routines that hold key material in vector registers: sigstkArm at entry
// (before any key byte is loaded), sigstkCheck right before every RET (after
// every vector register has been zeroed). Both take no arguments and clobber
// only AX, CX, DX and DI (and the flags); nothing they touch is secret.

// gOffM is the offset of g.m in the runtime's g struct: the fields before it
// (stack, stackguard0, stackguard1, _panic, _defer) have been there since the
// first Go 1 release. The offset of m.gsignal is not assumed: sigstkInit
// finds it at start-up and checks it against sigaltstack(2).
#define gOffM 48

// SIGSTK_CANARY(G, A): G = this thread's gsignal, A = the canary's address
// (gsignal.stack.hi - sigstkCanaryOff). CX must hold ·sigstkMOff (nonzero).
// Jumps to OFF if the address is below gsignal.stack.lo (a signal stack
// that C code set up and that is too small for a frame: then nothing is
// written or read there).
#define SIGSTK_CANARY(G, A, OFF) \
	MOVQ (TLS), G; \
	MOVQ gOffM(G), G; \
	MOVQ (G)(CX*1), G; \
	MOVQ 8(G), A; \
	SUBQ ·sigstkCanaryOff(SB), A; \
	CMPQ A, 0(G); \
	JB   OFF

// func sigstkArm()
TEXT ·sigstkArm(SB), NOSPLIT|NOFRAME, $0-0
	MOVQ ·sigstkMOff(SB), CX
	TESTQ CX, CX
	JZ   armOff
	SIGSTK_CANARY(DX, AX, armOff)
	MOVQ ·sigstkCanary(SB), CX
	MOVQ CX, (AX)
armOff:
	RET

// func sigstkCheck()
TEXT ·sigstkCheck(SB), NOSPLIT|NOFRAME, $0-0
	MOVQ ·sigstkMOff(SB), CX
	TESTQ CX, CX
	JZ   checkOff
	SIGSTK_CANARY(DX, AX, checkOff)
	MOVQ ·sigstkCanary(SB), CX
	CMPQ CX, (AX)
	JEQ  checkOff
	// A signal was delivered on this thread since sigstkArm: its frame,
	// with the vector registers of that moment, is at the top of the
	// signal stack. Zero [max(top - wipeLen, lo), top).
	MOVQ 8(DX), CX
	MOVQ CX, DI
	SUBQ ·sigstkWipeLen(SB), DI
	CMPQ DI, 0(DX)
	JAE  checkLoOK
	MOVQ 0(DX), DI
checkLoOK:
	SUBQ DI, CX
	XORL AX, AX
	CLD
	REP; STOSB
	LOCK; INCQ ·sigstkWipes(SB)
checkOff:
	RET

// func sigstkTopOf(mOff uintptr) uintptr
TEXT ·sigstkTopOf(SB), NOSPLIT, $0-16
	MOVQ mOff+0(FP), CX
	MOVQ (TLS), AX
	MOVQ gOffM(AX), AX
	MOVQ (AX)(CX*1), AX
	MOVQ 8(AX), AX
	MOVQ AX, ret+8(FP)
	RET

// func curM() uintptr
TEXT ·curM(SB), NOSPLIT, $0-8
	MOVQ (TLS), AX
	MOVQ gOffM(AX), AX
	MOVQ AX, ret+0(FP)
	RET

// func loadWord(addr uintptr) uint64
TEXT ·loadWord(SB), NOSPLIT, $0-16
	MOVQ addr+0(FP), AX
	MOVQ (AX), AX
	MOVQ AX, ret+8(FP)
	RET

// func storeWords(addr, n uintptr, v uint64)
TEXT ·storeWords(SB), NOSPLIT, $0-24
	MOVQ addr+0(FP), DI
	MOVQ n+8(FP), CX
	MOVQ v+16(FP), AX
	TESTQ CX, CX
	JZ   storeDone
storeLoop:
	MOVQ AX, (DI)
	ADDQ $8, DI
	DECQ CX
	JNZ  storeLoop
storeDone:
	RET
