package main

import (
	"github.com/go-keylocker/keylocker/internal/asm/_asm/internal/ghashgen"
)

// The registers of the ghash loops, by number (ghashgen.R sizes them).
const (
	rD0  = 0  // data vectors rD0 .. rD0+group-1
	rLo  = 4  // accumulators: low, high and middle 128-bit halves of the
	rHi  = 5  // products, one per lane
	rMid = 6  //
	rT0  = 7  // scratch
	rSt  = 8  // the GHASH state (xmm; the upper lanes zero on the wide paths)
	rT1  = 9  // scratch
	rT2  = 10 //
	rT3  = 11 //
	rT4  = 12 //
	rPol = 14 // SSE: the reduction constant (the wide paths read it from memory)
	rMsk = 15 // the byte-reversal mask
	rPow = 16 // zmm: the powers of H for the main loop, Z16-Z23
)

var regs = ghashgen.Regs{Lo: rLo, Hi: rHi, Mid: rMid, T0: rT0, T1: rT1, T2: rT2, T3: rT3, T4: rT4,
	St: rSt, Pol: rPol, Msk: rMsk}

var (
	r   = ghashgen.R
	imm = ghashgen.Short
)

const (
	sse  = ghashgen.SSE
	vex  = ghashgen.VEX
	evex = ghashgen.EVEX
)
