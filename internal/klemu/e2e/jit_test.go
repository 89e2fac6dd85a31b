//go:build linux && amd64

package e2e

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"testing"
	"unsafe"
)

// memForm is a memory operand to encode.
type memForm struct {
	seg         byte // 0 or a segment override prefix
	a32         bool // 0x67
	rip         bool
	base, index int // -1: none
	scale       int
	disp        int32
	disp32      bool // force a 32-bit displacement
	rexW        bool
}

func (m memForm) String() string {
	s := ""
	if m.seg != 0 {
		s += fmt.Sprintf("seg %#x ", m.seg)
	}
	if m.a32 {
		s += "addr32 "
	}
	if m.rexW {
		s += "rex.w "
	}
	if m.rip {
		return s + fmt.Sprintf("rip%+#x", m.disp)
	}
	return s + fmt.Sprintf("[b%d + i%d*%d %+#x]", m.base, m.index, m.scale, m.disp)
}

// encodeKL encodes F3 0F 38 opc with ModRM.reg = reg and operand m. It
// returns the bytes and the offset of a RIP-relative disp32 (or -1).
func encodeKL(opc byte, reg int, m memForm) ([]byte, int) {
	var b []byte
	if m.seg != 0 {
		b = append(b, m.seg)
	}
	if m.a32 {
		b = append(b, 0x67)
	}
	b = append(b, 0xF3)
	rex := byte(0)
	if m.rexW {
		rex |= 8
	}
	if reg >= 8 {
		rex |= 4
	}
	if m.index >= 8 {
		rex |= 2
	}
	if m.base >= 8 {
		rex |= 1
	}
	if rex != 0 {
		b = append(b, 0x40|rex)
	}
	b = append(b, 0x0F, 0x38, opc)
	r := byte(reg&7) << 3
	scaleBits := map[int]byte{1: 0, 2: 1, 4: 2, 8: 3}[max(m.scale, 1)] << 6
	d32 := binary.LittleEndian.AppendUint32(nil, uint32(m.disp))
	switch {
	case m.rip:
		b = append(b, 0x05|r)
		return append(b, d32...), len(b)
	case m.base < 0 && m.index < 0:
		b = append(b, 0x04|r, 0x25)
		return append(b, d32...), -1
	case m.base < 0:
		b = append(b, 0x04|r, scaleBits|byte(m.index&7)<<3|5)
		return append(b, d32...), -1
	}
	var mod byte
	switch {
	case m.disp32 || m.disp != int32(int8(m.disp)):
		mod = 2
	case m.disp != 0 || m.base&7 == 5:
		mod = 1
	}
	if m.index >= 0 || m.base&7 == 4 {
		idx := byte(4)
		if m.index >= 0 {
			idx = byte(m.index & 7)
		}
		b = append(b, mod<<6|r|4, scaleBits|idx<<3|byte(m.base&7))
	} else {
		b = append(b, mod<<6|r|byte(m.base&7))
	}
	switch mod {
	case 1:
		b = append(b, byte(m.disp))
	case 2:
		b = append(b, d32...)
	}
	return b, -1
}

func archPrctlGet(code uintptr) uint64 {
	var v uint64
	syscall.RawSyscall(syscall.SYS_ARCH_PRCTL, code, uintptr(unsafe.Pointer(&v)), 0)
	return v
}

func jitForms() []memForm {
	const none = -1
	f := []memForm{
		{rip: true, base: none, index: none},
		{rip: true, a32: true, base: none, index: none},
		{rip: true, rexW: true, base: none, index: none},
		{base: none, index: none}, // absolute disp32
		{base: 3, index: none, disp: -0x40},
		{base: 9, index: none, disp: 0x12345},
		{base: 6, index: none, disp: 0x10, disp32: true},
		{base: 0, index: 1, scale: 2, disp: 0x18},
		{base: 13, index: 12, scale: 8, disp: 0x100},
		{base: 12, index: 8, scale: 1},
		{base: 5, index: 6, scale: 4, disp: -8},
		{base: 11, index: 13, scale: 8},
		{base: none, index: 1, scale: 4, disp: 0x40},
		{base: none, index: 10, scale: 8, disp: -0x80},
		{a32: true, base: 0, index: none},
		{a32: true, base: 8, index: 1, scale: 8, disp: 0x10},
		{a32: true, base: 2, index: none, disp: 0x1000, disp32: true},
		{seg: 0x64, base: 0, index: none},
		{seg: 0x64, base: 2, index: 1, scale: 2, disp: 0x20},
		{seg: 0x65, base: 0, index: none},
		{seg: 0x3E, base: 0, index: none},
		{seg: 0x26, base: 7, index: none, disp: 1},
	}
	for r := 0; r < 14; r++ {
		if r != 4 {
			f = append(f, memForm{base: r, index: none})
		}
	}
	return f
}

// TestKLAddressing runs generated encodings of every AES*KL instruction in a
// JIT page: RIP/EIP-relative, SIB, no base, absolute, 0x67, FS/GS and null
// segment prefixes, REX.W, every base register.
func TestKLAddressing(t *testing.T) {
	requireAESKLE(t)
	p := newPage(t)
	const hOff = 0xC00
	hAddr := uint64(p.base) + hOff
	runtime.LockOSThread() // the FS base is per thread
	defer runtime.UnlockOSThread()
	fsBase, gsBase := archPrctlGet(0x1003), archPrctlGet(0x1004) // ARCH_GET_FS, ARCH_GET_GS
	type op struct {
		name   string
		opc    byte
		reg    int // -1: cycle XMM registers
		keyLen int
		enc    bool
		wide   bool
	}
	ops := []op{
		{"aesenc128kl", 0xDC, -1, 16, true, false}, {"aesdec128kl", 0xDD, -1, 16, false, false},
		{"aesenc256kl", 0xDE, -1, 32, true, false}, {"aesdec256kl", 0xDF, -1, 32, false, false},
		{"aesencwide128kl", 0xD8, 0, 16, true, true}, {"aesdecwide128kl", 0xD8, 1, 16, false, true},
		{"aesencwide256kl", 0xD8, 2, 32, true, true}, {"aesdecwide256kl", 0xD8, 3, 32, false, true},
	}
	n := 0
	for oi, o := range ops {
		if o.wide && !wide() {
			continue
		}
		key := make([]byte, o.keyLen)
		rand.Read(key)
		h := encode(t, key, 0)
		for fi, m := range jitForms() {
			reg := o.reg
			if reg < 0 {
				reg = (oi*5 + fi) % 15
			}
			// Register values that make the operand address hAddr.
			regs := map[int]uint64{}
			target := hAddr
			switch m.seg {
			case 0x64:
				target -= fsBase
			case 0x65:
				target -= gsBase
			}
			if !m.rip {
				rest := target - uint64(int64(m.disp))
				if m.index >= 0 {
					iv := uint64(0x30 + 8*fi)
					rest -= iv * uint64(m.scale)
					if m.a32 {
						iv |= 0xBAD0000000000000 // ignored with 0x67
					}
					regs[m.index] = iv
				}
				if m.base >= 0 {
					if m.a32 {
						rest = 0xDEAD_BEEF_0000_0000 | uint64(uint32(rest))
					}
					regs[m.base] = rest
				} else if rest != 0 {
					if m.index < 0 {
						m.disp = int32(target) // absolute
					} else {
						m.disp += int32(rest)
					}
				}
			}
			var code []byte
			code = append(code, 0x55) // push %rbp
			for r, v := range regs {
				// movabs $v, %r
				code = append(code, 0x48|byte(r>>3), 0xB8+byte(r&7))
				code = binary.LittleEndian.AppendUint64(code, v)
			}
			code = append(code, 0x68, 0xD5, 0x08, 0, 0, 0x9D) // push $0x8d5; popfq: CF PF AF SF OF (and ZF) set
			code[len(code)-5] = 0x95                          // $0x895: all but ZF
			insn, ripOff := encodeKL(o.opc, reg, m)
			start := len(code)
			code = append(code, insn...)
			if ripOff >= 0 {
				next := uint64(p.base) + uint64(len(code))
				binary.LittleEndian.PutUint32(code[start+ripOff:], uint32(hAddr-next))
			}
			code = append(code, 0x9C, 0x58, 0x5D, 0xC3) // pushfq; pop %rax; pop %rbp; ret
			if len(code) > hOff {
				t.Fatal("code too long")
			}
			copy(p.mem, code)
			copy(p.mem[hOff:], h)
			c := randCtx()
			in := c
			jitcall(p.base, &c)
			want := in.X
			tc := aesCase{enc: o.enc}
			regsX := []int{reg}
			if o.wide {
				regsX = []int{0, 1, 2, 3, 4, 5, 6, 7}
			}
			tc.regs = append(tc.regs, regsX...)
			b := cipherFor(key)
			for _, r := range regsX {
				if o.enc {
					b.Encrypt(want[r][:], in.X[r][:])
				} else {
					b.Decrypt(want[r][:], in.X[r][:])
				}
			}
			name := fmt.Sprintf("%s %v (% x)", o.name, m, insn)
			if c.Flags&arithFlags != 0 {
				t.Errorf("%s: flags %#x", name, c.Flags&arithFlags)
			}
			for i := range c.X {
				if c.X[i] != want[i] {
					t.Errorf("%s: XMM%d = %x, want %x", name, i, c.X[i], want[i])
				}
			}
			n++
		}
	}
	t.Logf("%d generated encodings", n)
}

// TestKLCPUIDJIT: a CPUID outside any *cpuid* helper (JIT code) is answered
// too, which only CPUID faulting can do (--cpuid=patch leaves it to the
// host: the test then skips, saying so).
func TestKLCPUIDJIT(t *testing.T) {
	requireInner(t)
	if m := os.Getenv("KLEMU_CPUID"); m != "fault" {
		t.Skipf("SKIP: klemu runs with --cpuid=%s here (no CPUID faulting): CPUID in JIT code sees the host", m)
	}
	p := newPage(t)
	code := []byte{
		0x53,                         // push %rbx
		0xB8, 0x19, 0x00, 0x00, 0x00, // mov $0x19, %eax
		0x31, 0xC9, // xor %ecx, %ecx
		0x0F, 0xA2, // cpuid
		0x89, 0xD8, // mov %ebx, %eax
		0x5B, // pop %rbx
		0xC3, // ret
	}
	copy(p.mem, code)
	c := randCtx()
	jitcall(p.base, &c)
	_, want, _, _ := cpuidRaw(0x19, 0)
	if uint32(c.Flags) != want {
		t.Errorf("CPUID.19H:EBX from JIT code = %#x, want %#x", uint32(c.Flags), want)
	}
}
