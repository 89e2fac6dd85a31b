package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The mode kernels share the prologue (unwrapKeys) and the structure of
// their block loop (blockLoop); what a batch does is the kernel's. General
// registers (nothing secret): DI region, SI handle, BX src cursor, DX dst
// cursor, CX blocks left, R8 path, R10 the aligned stack area, R11 key
// type, R12:R13 the CTR counter (a little-endian 128-bit integer, R12 low),
// R14 mode flags, AX/R9 scratch. ABI0 lets them clobber R14 and X15 (the
// wrapper restores them).

// The constants of the mode kernels.
var (
	bswap   Mem // byte reversal of each 128-bit lane (4 lanes)
	addTab  Mem // addTab+16k: k in the low dword (k = 0..31): the counter offsets of lane j at addTab+vec*j
	addBE   Mem // addBE+16k: k in the last byte (k = 0..31): addTab's offsets for a big-endian counter block
	masks   Mem // masks+2n: the K mask of n blocks (2n qwords) of a zmm register, n = 0..4
	xtsMask Mem // the XTS doubling mask: 0x87 into the low qword, the carry into the high one
	gfPoly  Mem // x^128 = x^7+x^2+x+1 (0x87) in the low qword of each lane (4 lanes)
	xtsPow  Mem // x^k in the low qword of lane k (k = 0..7, two zmm vectors): the factors of T*x^k
)

// unitBlocks is the largest unit of the zmm tails (one register).
const unitBlocks = 4

func modeConsts() {
	bswap = GLOBL("smBswap", RODATA|NOPTR)
	for l := 0; l < 4; l++ {
		DATA(16*l, U64(0x08090a0b0c0d0e0f))
		DATA(16*l+8, U64(0x0001020304050607))
	}
	addTab = GLOBL("smAdd", RODATA|NOPTR)
	for k := 0; k < 32; k++ {
		DATA(16*k, U64(k))
		DATA(16*k+8, U64(0))
	}
	addBE = GLOBL("smAddBE", RODATA|NOPTR)
	for k := 0; k < 32; k++ {
		DATA(16*k, U64(0))
		DATA(16*k+8, U64(k<<56))
	}
	var m [2]uint64
	for n := 0; n <= unitBlocks; n++ {
		bits := uint64(1)<<(2*n) - 1
		m[n/4] |= bits << (16 * (n % 4))
	}
	masks = data16("smMasks", m[0], m[1])
	xtsMask = data16("smXtsMask", 0x87, 1)
	gfPoly = GLOBL("smPoly", RODATA|NOPTR)
	for l := 0; l < 4; l++ {
		DATA(16*l, U64(0x87))
		DATA(16*l+8, U64(0))
	}
	xtsPow = GLOBL("smXtsPow", RODATA|NOPTR)
	for l := 0; l < 8; l++ {
		DATA(16*l, U64(1<<l))
		DATA(16*l+8, U64(0))
	}
}

// loopLabels are a block loop's labels: the main loop's head, the tail,
// the single blocks and where the loop ends.
type loopLabels struct{ main, tail, one, done LabelRef }

func newLoopLabels(p *path) loopLabels {
	return loopLabels{label(p.name + "Loop"), label(p.name + "Tail"), label(p.name + "One"), label(p.name + "Done")}
}

// blockLoop emits a mode kernel's block loop on p:
//
//	main:  CMPQ CX, $main; JB tail; batch of 8 registers; JMP main
//	tail:  (xmm, ymm) CMPQ CX, $n; JB tail1; batch of p.modeTail [; JMP tail]
//	tail1: TESTQ CX, CX; JZ done
//	one:   single blocks (one continues to wherever it likes)
//	tail:  (zmm) units, which end at done
//
// batch(rs, n) processes n blocks in the registers rs: loads, rounds,
// stores, advancing the cursors and CX.
func blockLoop(p *path, l loopLabels, batch func(rs []VecPhysical, n int), one, units func()) {
	loopHead(l.main)
	CMPQ(RCX, imm(p.main()))
	JB(l.tail)
	batch(regs(batchRegs, p.vec), p.main())
	JMP(l.main)
	if p.keys == keysZ {
		here(l.tail)
		units()
		return
	}
	st := p.modeTail
	if st.loop {
		loopHead(l.tail)
	} else {
		here(l.tail)
	}
	tail1 := label(p.name + "Tail1_")
	CMPQ(RCX, imm(st.blocks()))
	JB(tail1)
	batch(regs(st.regs, st.size), st.blocks())
	if st.loop {
		JMP(l.tail)
	}
	here(tail1)
	TESTQ(RCX, RCX)
	JZ(l.done)
	loopHead(l.one)
	one()
}

// unitCount: R9 = min(CX, 4), then continue at un (emitted next if
// fallthrough, else jumped to).
func unitCount(un LabelRef, falls bool) {
	MOVQ(RCX, R9)
	CMPQ(R9, U8(unitBlocks))
	JBE(un)
	MOVQ(U32(unitBlocks), R9)
	if !falls {
		JMP(un)
	}
}

// unitMask: K1 = the mask of R9 blocks (R8 clobbered: the path is known).
func unitMask() {
	LEAQ(masks, R8)
	KMOVW(Mem{Base: R8, Index: R9, Scale: 2}, K1)
}

// byDirection: TESTQ R14 (the direction flag); enc() or dec().
func byDirection(enc, dec func()) {
	d, out := label("dec"), label("dirDone")
	TESTQ(R14, R14)
	JNZ(d)
	enc()
	JMP(out)
	here(d)
	dec()
	here(out)
}
