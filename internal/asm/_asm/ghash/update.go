package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/go-keylocker/keylocker/internal/asm/_asm/internal/gen"
	"github.com/go-keylocker/keylocker/internal/kernel"
)

// path is one loop of ghashUpdate, given by its register width. The width
// fixes the loop's shape: a register holds bytes/16 blocks (lanes), one
// reduction covers 8 registers of data (n = 8, 16 or 32 blocks, multiplied
// by H^n .. H^1), the tail runs whole registers and then the rest, and the
// lanes are XORed together by halving down to xmm. The encoding decides how
// each operation is written (ops); the flags choose what only one width
// can or should do: Karatsuba on xmm (with its precomputed terms for
// H^8 .. H^1, the fewest PCLMULQDQs on older CPUs), the powers held in
// Z16-Z23 and a masked last register on zmm (EVEX only).
type path struct {
	name  string // "xmm", "ymm", "zmm": label prefix
	bytes int    // register width: 16, 32 or 64
	ops
	id      int  // the table's path word selecting this loop (kernel.GHASHPath*)
	kara    bool // Karatsuba (3 products per block, the table's kar terms)
	powRegs bool // the powers of the main loop live in Z16-Z23 (else memory)
	masked  bool // the tail's last partial register is a masked load (K1)
	group   int  // data registers loaded and byte-reversed together
}

func (p path) lanes() int  { return p.bytes / 16 }
func (p path) blocks() int { return 8 * p.lanes() }

func (p path) label(s string) string { return p.name + s }

// constants loads the byte-reversal mask (and on SSE the reduction
// constant, which the wide loops read from memory).
func (p path) constants() {
	p.load(bswap, rMsk, p.bytes)
	if p.enc == sse {
		MOVOU(poly, r(rPol, 16))
	}
}

// polyOp is the reduction constant as the second source of a clmul.
func (p path) polyOp() Op {
	if p.enc == sse {
		return r(rPol, 16)
	}
	return poly
}

// mulAcc multiplies data register d (width v) by the powers pw (a register
// or memory, width v; with Karatsuba memory, their terms karDelta bytes
// after them) and accumulates into rLo, rHi, rMid at the loop's width.
// first: the accumulators are written, not XORed into (v is then the
// loop's width).
func (p path) mulAcc(v int, first bool, d int, pw Op) {
	w := p.bytes
	if p.kara {
		kt := pw.(Mem)
		kt.Disp += karDelta
		a, b, k := rT1, rT2, rT3
		if first {
			a, b, k = rLo, rHi, rMid
		}
		p.swapHalves(k, d, v)
		p.xor(k, d, v)
		p.clmul(0x00, pw, d, a, v)
		p.clmul(0x11, pw, d, b, v)
		p.load(kt, rT4, v)
		p.clmul(0x00, r(rT4, v), k, k, v)
		if !first {
			p.xor(rLo, a, w)
			p.xor(rHi, b, w)
			p.xor(rMid, k, w)
		}
		return
	}
	if first {
		p.clmul(0x00, pw, d, rLo, v)
		p.clmul(0x11, pw, d, rHi, v)
		p.clmul(0x01, pw, d, rMid, v)
		p.clmul(0x10, pw, d, rT0, v)
		p.xor(rMid, rT0, v)
		return
	}
	p.clmul(0x00, pw, d, rT1, v)
	p.clmul(0x11, pw, d, rT2, v)
	p.clmul(0x01, pw, d, rT3, v)
	p.clmul(0x10, pw, d, rT4, v)
	p.xor(rLo, rT1, w)
	p.xor(rHi, rT2, w)
	p.xor3(rMid, rT3, rT4, w)
}

// fold turns the accumulators into the new state: the middle term into the
// low and high halves, the lanes XORed together, then the reduction
// modulo P into rSt.
func (p path) fold() {
	w := p.bytes
	if p.kara {
		p.xor(rMid, rLo, w)
		p.xor(rMid, rHi, w)
	}
	p.shiftLanes(rT0, rMid, true, w)
	p.shiftLanes(rMid, rMid, false, w)
	p.xor(rLo, rT0, w)
	p.xor(rHi, rMid, w)
	for v := w / 2; v >= 16; v /= 2 {
		p.upperHalf(rT1, rLo, 2*v)
		p.upperHalf(rT2, rHi, 2*v)
		p.xor(rLo, rT1, v)
		p.xor(rHi, rT2, v)
	}
	for i := 0; i < 2; i++ {
		p.clmul(0x10, p.polyOp(), rLo, rT1, 16)
		p.swapHalves(rLo, rLo, 16)
		p.xor(rLo, rT1, 16)
	}
	p.xorTo(rSt, rLo, rHi, 16)
}

// update emits the loop, from its label (the dispatch jumps there) to its
// RET.
func (p path) update() {
	w, n := p.bytes, p.blocks()
	loop, tail, done := p.label("Loop"), p.label("Tail"), p.label("Done")
	Label(p.name)
	Commentf("%s: %d blocks per reduction, %d per register.", p.name, n, p.lanes())
	p.constants()
	p.load(Mem{Base: RAX}, rSt, 16)
	p.shuf(rSt, 16)
	// The main loop's powers: H^n .. H^1, register k of data times
	// pow[32-n+k*lanes ...].
	base := pow + 16*(kernel.GHASHPowers-n)
	power := func(k int) Op {
		if p.powRegs {
			return r(rPow+k, w)
		}
		return Mem{Base: RDI, Disp: base + k*w}
	}
	if p.powRegs {
		for k := 0; k < 8; k++ {
			p.load(Mem{Base: RDI, Disp: base + k*w}, rPow+k, w)
		}
	}
	if p.kara && n != kernel.GHASHKarTerms {
		panic("the table has Karatsuba terms for H^8 .. H^1 only")
	}

	Label(loop)
	CMPQ(RCX, imm(n))
	JB(LabelRef(tail))
	for g := 0; g < 8; g += p.group {
		for i := 0; i < p.group; i++ {
			p.load(Mem{Base: RSI, Disp: (g + i) * w}, rD0+i, w)
		}
		for i := 0; i < p.group; i++ {
			p.shuf(rD0+i, w)
		}
		if g == 0 {
			p.xor(rD0, rSt, w)
		}
		for i := 0; i < p.group; i++ {
			p.mulAcc(w, g+i == 0, rD0+i, power(g+i))
		}
	}
	p.fold()
	ADDQ(imm(16*n), RSI)
	SUBQ(imm(n), RCX)
	JMP(LabelRef(loop))

	Label(tail)
	TESTQ(RCX, RCX)
	JZ(LabelRef(done))
	Comment("r = CX blocks left: BX = &pow[32-r] (H^r); block j times H^(r-j).")
	MOVQ(RCX, R8)
	SHLQ(U8(4), R8)
	NEGQ(R8)
	LEAQ(Mem{Base: RDI, Index: R8, Scale: 1, Disp: pow + 16*kernel.GHASHPowers}, RBX)
	p.zero(rLo)
	p.zero(rHi)
	p.zero(rMid)
	step := func(v int, last bool) {
		p.load(Mem{Base: RSI}, rD0, v)
		p.shuf(rD0, v)
		p.xor(rD0, rSt, v)
		p.zero(rSt)
		p.mulAcc(v, false, rD0, Mem{Base: RBX})
		if last {
			return
		}
		ADDQ(imm(v), RSI)
		ADDQ(imm(v), RBX)
		SUBQ(imm(v/16), RCX)
	}
	tailLoop, narrow := p.label("TailLoop"), p.label("TailNarrow")
	Label(tailLoop)
	CMPQ(RCX, imm(p.lanes()))
	JB(LabelRef(narrow))
	step(w, false)
	JMP(LabelRef(tailLoop))
	Label(narrow)
	if p.masked {
		p.maskedStep()
	} else {
		for v := w / 2; v >= 16; v /= 2 {
			skip := p.label(fmt.Sprintf("Tail%sDone", map[int]string{32: "Ymm", 16: "Xmm"}[v]))
			CMPQ(RCX, imm(v/16))
			JB(LabelRef(skip))
			step(v, v == 16)
			Label(skip)
		}
	}
	p.fold()

	Label(done)
	p.shuf(rSt, 16)
	p.store16(rSt, Mem{Base: RAX})
	p.clear()
	RET()
}

// maskedStep multiplies the last CX < lanes blocks (if any) as one
// register: the data and the powers loaded with zero-masking (K1 = the
// qwords of CX blocks), so the lanes past them contribute nothing and
// nothing past the data is read.
func (p path) maskedStep() {
	w := p.bytes
	fold := p.label("TailFold")
	TESTQ(RCX, RCX)
	JZ(LabelRef(fold))
	Comment("K1 = (1 << 2*CX) - 1: the qwords of CX blocks.")
	SHLQ(U8(1), RCX)
	MOVL(U32(1), R8L)
	SHLL(CL, R8L)
	DECL(R8L)
	KMOVW(R8L, K1)
	VMOVDQU64_Z(Mem{Base: RSI}, K1, r(rD0, w))
	VMOVDQU64_Z(Mem{Base: RBX}, K1, r(rD0+1, w))
	p.shuf(rD0, w)
	p.xor(rD0, rSt, w)
	p.mulAcc(w, false, rD0, r(rD0+1, w))
	Label(fold)
}

// clear zeroes every vector register the path used: X0-X15 on SSE (the
// upper lanes untouched, as legacy SSE code never writes them), all of
// Z0-Z15 otherwise (VZEROALL), and on zmm the mask K1 and the powers'
// Z16-Z23. The one epilogue of every loop and of ghashInit.
func (p path) clear() {
	if p.enc == sse {
		gen.Clear(gen.XRange(0, 15)...)
		return
	}
	VZEROALL()
	if p.masked {
		KXORW(K1, K1, K1)
	}
	if p.powRegs {
		for k := 0; k < 8; k++ {
			z := r(rPow+k, 64)
			VPXORQ(z, z, z)
		}
	}
}
