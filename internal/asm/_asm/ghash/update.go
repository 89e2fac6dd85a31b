package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/go-keylocker/keylocker/internal/asm/_asm/internal/gen"
	"github.com/go-keylocker/keylocker/internal/asm/_asm/internal/ghashgen"
	"github.com/go-keylocker/keylocker/internal/kernel"
)

// path is one loop of ghashUpdate, given by its register width. The width
// fixes the loop's shape: a register holds Bytes/16 blocks (lanes), one
// reduction covers 8 registers of data (n = 8, 16 or 32 blocks, multiplied
// by H^n .. H^1), the tail runs whole registers and then the rest, and the
// lanes are XORed together by halving down to xmm. The encoding decides how
// each operation is written (ghashgen); the flags choose what only one
// width can or should do: Karatsuba on xmm (with its precomputed terms for
// H^8 .. H^1, the fewest PCLMULQDQs on older CPUs); on ymm and zmm the
// reduction in every lane before the lanes are XORed together; on zmm
// (EVEX only) the powers held in Z16-Z23, the registers multiplied in
// pairs and a masked last register.
type path struct {
	name string // "xmm", "ymm", "zmm": label prefix
	ghashgen.Mul
	id      int  // the table's path word selecting this loop (kernel.GHASHPath*)
	powRegs bool // the powers of the main loop live in Z16-Z23 (else memory)
	masked  bool // the tail's last partial register is a masked load (K1)
	pairs   bool // the main loop multiplies its registers in pairs (MulAcc2; EVEX only)
	// foldWide: every reduction is FoldWide's (in each lane, then the
	// lanes XORed together); VEX or EVEX.
	foldWide bool
	group    int // data registers loaded and byte-reversed together
}

func (p path) lanes() int  { return p.Bytes / 16 }
func (p path) blocks() int { return 8 * p.lanes() }

func (p path) label(s string) string { return p.name + s }

// constants loads the byte-reversal mask (and on SSE the reduction
// constant, which the wide loops read from memory).
func (p path) constants() {
	p.Load(bswap, rMsk, p.Bytes)
	if p.Enc == sse {
		MOVOU(poly, r(rPol, 16))
	}
}

// update emits the loop, from its label (the dispatch jumps there) to its
// RET.
func (p path) update() {
	w, n := p.Bytes, p.blocks()
	loop, tail, done := p.label("Loop"), p.label("Tail"), p.label("Done")
	Label(p.name)
	Commentf("%s: %d blocks per reduction, %d per register.", p.name, n, p.lanes())
	p.constants()
	p.Load(Mem{Base: RAX}, rSt, 16)
	p.Shuf(rSt, 16)
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
		// Loaded only if the main loop runs: a short input (the tail
		// alone) reads its powers from memory.
		CMPQ(RCX, imm(n))
		JB(LabelRef(tail))
		for k := 0; k < 8; k++ {
			p.Load(Mem{Base: RDI, Disp: base + k*w}, rPow+k, w)
		}
	}
	if p.Kara && n != kernel.GHASHKarTerms {
		panic("the table has Karatsuba terms for H^8 .. H^1 only")
	}

	Label(loop)
	CMPQ(RCX, imm(n))
	JB(LabelRef(tail))
	for g := 0; g < 8; g += p.group {
		for i := 0; i < p.group; i++ {
			p.Load(Mem{Base: RSI, Disp: (g + i) * w}, rD0+i, w)
		}
		for i := 0; i < p.group; i++ {
			p.Shuf(rD0+i, w)
		}
		if g == 0 {
			p.Xor(rD0, rSt, w)
		}
		for i := 0; i < p.group; i++ {
			if !p.pairs {
				p.MulAcc(w, g+i == 0, rD0+i, power(g+i))
			} else if i%2 == 0 {
				for half := 0; half < 2; half++ {
					p.MulAcc2(half, g+i == 0, rD0+i, rD0+i+1, power(g+i), power(g+i+1))
				}
			}
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
	p.Zero(rLo)
	p.Zero(rHi)
	p.Zero(rMid)
	step := func(v int, last bool) {
		p.Load(Mem{Base: RSI}, rD0, v)
		p.Shuf(rD0, v)
		p.Xor(rD0, rSt, v)
		p.Zero(rSt)
		p.MulAcc(v, false, rD0, Mem{Base: RBX})
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
	p.Shuf(rSt, 16)
	p.Store16(rSt, Mem{Base: RAX})
	p.clear()
	RET()
}

// fold reduces the accumulators into the state.
func (p path) fold() {
	if p.foldWide {
		p.FoldWide()
	} else {
		p.Fold()
	}
}

// maskedStep multiplies the last CX < lanes blocks (if any) as one
// register: the data and the powers loaded with zero-masking (K1 = the
// qwords of CX blocks), so the lanes past them contribute nothing and
// nothing past the data is read.
func (p path) maskedStep() {
	w := p.Bytes
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
	p.Shuf(rD0, w)
	p.Xor(rD0, rSt, w)
	p.MulAcc(w, false, rD0, r(rD0+1, w))
	Label(fold)
}

// clear zeroes every vector register the path used: X0-X15 on SSE (the
// upper lanes untouched, as legacy SSE code never writes them), all of
// Z0-Z15 otherwise (VZEROALL), and on zmm the mask K1 and the powers'
// Z16-Z23. The one epilogue of every loop and of ghashInit.
func (p path) clear() {
	if p.Enc == sse {
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
