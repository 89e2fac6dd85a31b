#include "textflag.h"

// func forkProbe(flags uintptr, outFD, syncFD int) (pid int, errno uintptr)
//
// Frame (hardware SP): 0-7 cpuidRaw's arguments, 8-23 its results, 32-63
// the child's scratch (struct sigaction, sync byte, output).
TEXT ·forkProbe(SB), NOSPLIT, $64-40
	MOVQ flags+0(FP), DI
	XORL SI, SI   // newsp 0: the child runs on a copy of this stack
	XORL DX, DX   // parent_tid
	XORL R10, R10 // child_tid
	XORL R8, R8   // tls
	MOVL $56, AX  // SYS_clone
	SYSCALL
	CMPQ AX, $0
	JEQ  child
	JLT  failed
	MOVQ AX, pid+24(FP)
	MOVQ $0, errno+32(FP)
	RET

failed:
	NEGQ AX
	MOVQ $-1, pid+24(FP)
	MOVQ AX, errno+32(FP)
	RET

child:
	// rt_sigaction(SIGILL, &{handler SIG_DFL, flags 0, restorer 0, mask 0}, nil, 8)
	MOVQ $0, 32(SP)
	MOVQ $0, 40(SP)
	MOVQ $0, 48(SP)
	MOVQ $0, 56(SP)
	MOVL $13, AX  // SYS_rt_sigaction
	MOVL $4, DI   // SIGILL
	LEAQ 32(SP), SI
	XORL DX, DX
	MOVL $8, R10
	SYSCALL

	// read(syncFD, 32(SP), 1): wait until the parent says go
	XORL AX, AX   // SYS_read
	MOVQ syncFD+16(FP), DI
	LEAQ 32(SP), SI
	MOVL $1, DX
	SYSCALL

	MOVL $7, 0(SP)
	MOVL $0, 4(SP)
	CALL ·cpuidRaw(SB)
	MOVL 16(SP), AX // leaf 7 ECX
	MOVL AX, 32(SP)
	MOVL $0x19, 0(SP)
	MOVL $0, 4(SP)
	CALL ·cpuidRaw(SB)
	MOVL 8(SP), AX  // leaf 19H EAX
	MOVL AX, 36(SP)
	MOVL 12(SP), AX // EBX
	MOVL AX, 40(SP)
	MOVL 16(SP), AX // ECX
	MOVL AX, 44(SP)
	MOVL 20(SP), AX // EDX
	MOVL AX, 48(SP)

	// write(outFD, 32(SP), 20)
	MOVL $1, AX   // SYS_write
	MOVQ outFD+8(FP), DI
	LEAQ 32(SP), SI
	MOVL $20, DX
	SYSCALL

exit:
	MOVL $231, AX // SYS_exit_group
	XORL DI, DI
	SYSCALL
	JMP  exit
