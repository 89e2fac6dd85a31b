// Package decode is a pure decoder for the instructions klemu emulates: the
// Intel Key Locker instructions (ENCODEKEY128/256, AES{ENC,DEC}{128,256}KL,
// AES{ENC,DEC}WIDE{128,256}KL, LOADIWKEY) and CPUID, in 64-bit mode, with
// every legacy prefix, REX, ModRM, SIB, displacement and RIP-relative form.
//
// It has no dependency on the host: it works on the bytes at RIP.
package decode

import (
	"errors"
	"fmt"
	"strings"
)

// Op identifies a decoded instruction.
type Op uint8

// The decoded instructions.
const (
	None Op = iota
	ENCODEKEY128
	ENCODEKEY256
	AESENC128KL
	AESDEC128KL
	AESENC256KL
	AESDEC256KL
	AESENCWIDE128KL
	AESDECWIDE128KL
	AESENCWIDE256KL
	AESDECWIDE256KL
	LOADIWKEY
	CPUID
	numOps
)

var opNames = [...]string{"none", "encodekey128", "encodekey256", "aesenc128kl", "aesdec128kl",
	"aesenc256kl", "aesdec256kl", "aesencwide128kl", "aesdecwide128kl", "aesencwide256kl",
	"aesdecwide256kl", "loadiwkey", "cpuid"}

// String returns the lowercase mnemonic.
func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return fmt.Sprintf("op%d", uint8(o))
}

// KLOps lists the ten user-mode Key Locker instructions (ENCODEKEY and the
// AES*KL forms; not LOADIWKEY).
var KLOps = []Op{ENCODEKEY128, ENCODEKEY256, AESENC128KL, AESDEC128KL, AESENC256KL, AESDEC256KL,
	AESENCWIDE128KL, AESDECWIDE128KL, AESENCWIDE256KL, AESDECWIDE256KL}

// IsKL reports whether o is a Key Locker instruction (including LOADIWKEY).
func (o Op) IsKL() bool { return o >= ENCODEKEY128 && o <= LOADIWKEY }

// IsAES reports whether o is one of the eight AES*KL instructions.
func (o Op) IsAES() bool { return o >= AESENC128KL && o <= AESDECWIDE256KL }

// IsWide reports whether o is one of the four AES*WIDE*KL instructions.
func (o Op) IsWide() bool { return o >= AESENCWIDE128KL && o <= AESDECWIDE256KL }

// Encrypt reports whether o is an AES*ENC*KL instruction.
func (o Op) Encrypt() bool {
	switch o {
	case AESENC128KL, AESENC256KL, AESENCWIDE128KL, AESENCWIDE256KL:
		return true
	}
	return false
}

// Is256 reports whether o uses an AES-256 handle (or is ENCODEKEY256).
func (o Op) Is256() bool {
	switch o {
	case ENCODEKEY256, AESENC256KL, AESDEC256KL, AESENCWIDE256KL, AESDECWIDE256KL:
		return true
	}
	return false
}

// HandleSize is the size of the memory operand of an AES*KL instruction.
func (o Op) HandleSize() int {
	if !o.IsAES() {
		return 0
	}
	if o.Is256() {
		return 64
	}
	return 48
}

// Seg is a segment override that has an effect in 64-bit mode.
type Seg uint8

// Segment overrides. CS, DS, ES and SS overrides are ignored in 64-bit mode.
const (
	SegNone Seg = iota
	SegFS
	SegGS
)

// NoReg marks an absent base or index register.
const NoReg = -1

// Mem is a decoded ModRM memory operand.
type Mem struct {
	Base   int   // GPR number (0 = rax .. 15 = r15) or NoReg
	Index  int   // GPR number or NoReg (never 4 without REX.X: that means none)
	Scale  int   // 1, 2, 4, 8
	Disp   int64 // sign-extended displacement
	RIPRel bool  // mod=00 rm=101: RIP (EIP with Addr32) of the next instruction + Disp
	Addr32 bool  // 0x67 prefix: 32-bit address computation
	Seg    Seg   // FS or GS base added to the effective address
}

// Inst is a decoded instruction.
type Inst struct {
	Op  Op
	Len int // bytes, <= 15
	// Reg is ModRM.reg|REX.R: the XMM register of AES{ENC,DEC}{128,256}KL,
	// the destination GPR of ENCODEKEY, the first XMM operand of LOADIWKEY.
	Reg int
	// RM is ModRM.rm|REX.B for register forms: the source GPR of ENCODEKEY,
	// the second XMM operand of LOADIWKEY.
	RM  int
	Mem Mem // memory operand of the AES*KL instructions
}

// MaxLen is the architectural instruction length limit.
const MaxLen = 15

// ErrNotEmulated is returned for bytes that are not an instruction this
// package decodes (or are truncated, or longer than 15 bytes).
var ErrNotEmulated = errors.New("decode: not an emulated instruction")

// Decode decodes the instruction at the start of b (the bytes at RIP; b may
// hold trailing bytes of the following instructions).
func Decode(b []byte) (Inst, error) {
	var in Inst
	in.Mem.Base, in.Mem.Index = NoReg, NoReg
	if len(b) > MaxLen {
		b = b[:MaxLen]
	}
	i := 0
	var f3, osz, lock bool
	var rex byte
	seg := SegNone
	addr32 := false
prefixes:
	for ; i < len(b); i++ {
		switch c := b[i]; {
		case c == 0xF3:
			f3 = true
		case c == 0xF2:
			f3 = false // the last of F2/F3 is the mandatory prefix
		case c == 0x66:
			osz = true
		case c == 0xF0:
			lock = true
		case c == 0x2E || c == 0x36 || c == 0x3E || c == 0x26:
			// null segment overrides in 64-bit mode: ignored
		case c == 0x64:
			seg = SegFS
		case c == 0x65:
			seg = SegGS
		case c == 0x67:
			addr32 = true
		case c&0xF0 == 0x40:
			// REX: counts only if it immediately precedes the opcode
			rex = c
			continue
		default:
			break prefixes
		}
		rex = 0
	}
	if i >= len(b) {
		return in, ErrNotEmulated
	}
	if i > 0 && b[i-1]&0xF0 != 0x40 {
		rex = 0
	}
	if lock {
		return in, ErrNotEmulated // #UD
	}
	need := func(n int) bool { return i+n <= len(b) }
	if !need(2) || b[i] != 0x0F {
		return in, ErrNotEmulated
	}
	if b[i+1] == 0xA2 { // CPUID ignores prefixes
		in.Op, in.Len = CPUID, i+2
		return in, nil
	}
	// A 66 prefix together with F3 is refused, conservatively: objdump reads
	// 66 F3 0F 38 DC as "data16 aesenc128kl" (F3 wins), but no assembler
	// emits it and the SDM does not say what the CPU does with it; the
	// instruction then reaches the program as the CPU's own SIGILL.
	if !f3 || osz || b[i+1] != 0x38 || !need(4) {
		return in, ErrNotEmulated
	}
	opc, modrm := b[i+2], b[i+3]
	i += 4
	mod, reg, rm := modrm>>6, int(modrm>>3&7), int(modrm&7)
	rexR, rexX, rexB := int(rex>>2&1), int(rex>>1&1), int(rex&1)
	switch opc {
	case 0xFA, 0xFB: // ENCODEKEY128/256 r32, r32: register form only
		if mod != 3 {
			return in, ErrNotEmulated
		}
		in.Op = ENCODEKEY128
		if opc == 0xFB {
			in.Op = ENCODEKEY256
		}
		in.Reg, in.RM, in.Len = reg|rexR<<3, rm|rexB<<3, i
		return in, nil
	case 0xDC, 0xDD, 0xDE, 0xDF:
		if mod == 3 {
			if opc != 0xDC {
				return in, ErrNotEmulated
			}
			in.Op, in.Reg, in.RM, in.Len = LOADIWKEY, reg|rexR<<3, rm|rexB<<3, i
			return in, nil
		}
		in.Op = AESENC128KL + Op(opc-0xDC)
		in.Reg = reg | rexR<<3
	case 0xD8:
		if mod == 3 || reg > 3 {
			return in, ErrNotEmulated
		}
		in.Op = AESENCWIDE128KL + Op(reg)
	default:
		return in, ErrNotEmulated
	}
	m := &in.Mem
	m.Scale, m.Seg, m.Addr32 = 1, seg, addr32
	switch {
	case rm == 4:
		if !need(1) {
			return in, ErrNotEmulated
		}
		sib := b[i]
		i++
		m.Scale = 1 << (sib >> 6)
		if idx := int(sib>>3&7) | rexX<<3; idx != 4 {
			m.Index = idx
		}
		if sib&7 == 5 && mod == 0 {
			if !need(4) {
				return in, ErrNotEmulated
			}
			m.Disp = int64(int32(le32(b[i:])))
			i += 4
		} else {
			m.Base = int(sib&7) | rexB<<3
		}
	case rm == 5 && mod == 0:
		if !need(4) {
			return in, ErrNotEmulated
		}
		m.RIPRel = true
		m.Disp = int64(int32(le32(b[i:])))
		i += 4
	default:
		m.Base = rm | rexB<<3
	}
	switch mod {
	case 1:
		if !need(1) {
			return in, ErrNotEmulated
		}
		m.Disp = int64(int8(b[i]))
		i++
	case 2:
		if !need(4) {
			return in, ErrNotEmulated
		}
		m.Disp = int64(int32(le32(b[i:])))
		i += 4
	}
	in.Len = i
	return in, nil
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// Regs is the register view EffAddr needs.
type Regs struct {
	GPR            *[16]uint64
	RIP            uint64 // address of the instruction
	FSBase, GSBase uint64
}

// EffAddr returns the linear address of the memory operand of in, executed
// at regs.RIP.
func (in *Inst) EffAddr(r Regs) uint64 {
	m := &in.Mem
	var a uint64
	if m.RIPRel {
		a = r.RIP + uint64(in.Len)
	}
	if m.Base != NoReg {
		a += r.GPR[m.Base]
	}
	if m.Index != NoReg {
		a += r.GPR[m.Index] * uint64(m.Scale)
	}
	a += uint64(m.Disp)
	if m.Addr32 {
		a = uint64(uint32(a))
	}
	switch m.Seg {
	case SegFS:
		a += r.FSBase
	case SegGS:
		a += r.GSBase
	}
	return a
}

var gpr64 = [16]string{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}
var gpr32 = [16]string{"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
	"r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"}

// String formats in AT&T syntax (as GNU as accepts it; not byte-for-byte
// objdump's spelling).
func (in Inst) String() string {
	switch {
	case in.Op == CPUID:
		return "cpuid"
	case in.Op == ENCODEKEY128 || in.Op == ENCODEKEY256:
		return fmt.Sprintf("%v %%%s, %%%s", in.Op, gpr32[in.RM], gpr32[in.Reg])
	case in.Op == LOADIWKEY:
		return fmt.Sprintf("%v %%xmm%d, %%xmm%d", in.Op, in.RM, in.Reg)
	case in.Op.IsWide():
		return fmt.Sprintf("%v %s", in.Op, in.Mem)
	case in.Op.IsAES():
		return fmt.Sprintf("%v %s, %%xmm%d", in.Op, in.Mem, in.Reg)
	}
	return in.Op.String()
}

// String formats the memory operand in AT&T syntax.
func (m Mem) String() string {
	var sb strings.Builder
	switch m.Seg {
	case SegFS:
		sb.WriteString("%fs:")
	case SegGS:
		sb.WriteString("%gs:")
	}
	names := &gpr64
	if m.Addr32 {
		names = &gpr32
	}
	if m.Disp != 0 || m.Base == NoReg && !m.RIPRel {
		if m.Disp < 0 {
			fmt.Fprintf(&sb, "-%#x", -m.Disp)
		} else {
			fmt.Fprintf(&sb, "%#x", m.Disp)
		}
	}
	switch {
	case m.RIPRel && m.Addr32:
		sb.WriteString("(%eip)")
	case m.RIPRel:
		sb.WriteString("(%rip)")
	case m.Base == NoReg && m.Index == NoReg:
	default:
		sb.WriteString("(")
		if m.Base != NoReg {
			sb.WriteString("%" + names[m.Base])
		}
		if m.Index != NoReg {
			fmt.Fprintf(&sb, ",%%%s,%d", names[m.Index], m.Scale)
		}
		sb.WriteString(")")
	}
	return sb.String()
}
