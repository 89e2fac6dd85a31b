//go:build amd64 && !purego

package asm

// CPUID executes the CPUID instruction with EAX=eax and ECX=ecx and returns
// EAX, EBX, ECX and EDX. It uses only the general registers AX-DX and no
// vector register. Under klemu a CPUID faults and is answered by the
// emulator's profile, so the result reflects the emulated CPU.
func CPUID(eax, ecx uint32) (a, b, c, d uint32)

// XGETBV0 executes XGETBV with ECX=0 and returns XCR0 as EAX (low 32 bits)
// and EDX (high 32 bits): which register states the OS saves (bit 1 SSE,
// bit 2 AVX, bits 5-7 AVX-512). It raises #UD (SIGILL) unless
// CPUID.1:ECX.OSXSAVE[27] is set: check that first. It uses only AX, CX, DX.
func XGETBV0() (eax, edx uint32)
