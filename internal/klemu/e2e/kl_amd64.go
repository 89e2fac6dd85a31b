package e2e

// Ctx is the register context the assembly loads before and stores after
// one Key Locker instruction. Offsets are fixed (kl_amd64.s).
type Ctx struct {
	X     [15][16]byte // XMM0-XMM14 (X15 is Go's zero register: untouched)
	Flags uint64       // in: arithmetic flags set before; out: RFLAGS after
	H     uintptr      // handle address
	Src   uint64       // ENCODEKEY source register
	Dest  uint64       // ENCODEKEY destination register after (preset to all ones)
}

func cpuidRaw(eax, ecx uint32) (a, b, c, d uint32)

// Each runs one instruction on c (see kl_amd64.s for the operand forms).
func encodekey128(c *Ctx)    // encodekey128 %ecx, %edx
func encodekey256(c *Ctx)    // encodekey256 %r9d, %r10d
func aesenc128kl(c *Ctx)     // aesenc128kl (%rbx), %xmm1
func aesdec128kl(c *Ctx)     // aesdec128kl (%r8), %xmm9
func aesenc256kl(c *Ctx)     // aesenc256kl 0x18(%rax,%rcx,2), %xmm2
func aesdec256kl(c *Ctx)     // aesdec256kl 0x100(%r13,%r12,8), %xmm3
func aesencwide128kl(c *Ctx) // aesencwide128kl (%rsi)
func aesdecwide128kl(c *Ctx) // aesdecwide128kl 0x0(%r13)
func aesencwide256kl(c *Ctx) // aesencwide256kl (%rbx)
func aesdecwide256kl(c *Ctx) // aesdecwide256kl (%r12)
func loadiwkey(c *Ctx)       // loadiwkey %xmm1, %xmm2 (CPL0 only: #GP)

// jitcall calls code with c loaded (as above); code returns RFLAGS in RAX.
func jitcall(code uintptr, c *Ctx)

// aesenc128klYMM loads Y1 from y, runs aesenc128kl (%rbx), %xmm1 with
// RBX = h and stores Y1 back (the upper half must survive).
func aesenc128klYMM(h uintptr, y *[32]byte) (flags uint64)
