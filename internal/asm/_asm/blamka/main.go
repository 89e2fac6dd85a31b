// Command blamka writes internal/asm/blamka's assembly (blamka_amd64.s)
// and its Go declarations (blamka_amd64.go): Argon2's compression function
// G, four words per ymm register, in two variants of one function (see
// variant): AVX2 (two rows or column pairs of a block per loop iteration,
// rotations by shuffles) and AVX-512VL (four at a time in 32 registers,
// rotations by VPRORQ). Run it through go generate in
// internal/asm/blamka.
package main

import (
	"fmt"
	"strings"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/go-keylocker/keylocker/internal/asm/_asm/internal/gen"
)

// The byte shuffles that rotate every 64-bit word right by 24 and by 16
// bits (VPSHUFB works within 128-bit lanes: one pattern per lane).
var rot24, rot16 Mem

func main() {
	ConstraintExpr("amd64,!purego")
	rot24 = rotMask("blamkaRot24", 3)
	rot16 = rotMask("blamkaRot16", 2)
	fillBlock(avx2)
	fillBlock(avx512)
	Generate()
}

// rotMask defines the VPSHUFB pattern that rotates each 64-bit word right
// by n bytes: byte j of a word takes byte (j+n) mod 8.
func rotMask(name string, n int) Mem {
	m := GLOBL(name, RODATA|NOPTR)
	for q := 0; q < 4; q++ { // four words: two 128-bit lanes
		var w uint64
		for j := 0; j < 8; j++ {
			w |= uint64(8*(q%2)+(j+n)%8) << (8 * j)
		}
		DATA(8*q, U64(w))
	}
	return m
}

// A quarter holds one 4x4 matrix of words being permuted: four ymm
// registers, a..d, each with one row of the matrix (four words).
type quarter struct{ a, b, c, d VecPhysical }

func (q quarter) regs() []VecPhysical { return []VecPhysical{q.a, q.b, q.c, q.d} }

// A variant is one instantiation of the routine: its name, the matrices
// it permutes at once (each with a temporary) and its instruction forms.
type variant struct {
	name, needs string
	qs          []quarter
	ts          []VecPhysical
	evex        bool // AVX-512VL: VPRORQ, EVEX forms, Y16-Y31
}

var (
	// AVX2: two matrices, Y0-Y9, and the two rotation patterns in Y10 and Y11.
	avx2 = variant{name: "FillBlockAVX2", needs: "AVX2",
		qs: []quarter{{Y0, Y1, Y2, Y3}, {Y4, Y5, Y6, Y7}}, ts: []VecPhysical{Y8, Y9}}
	// AVX-512VL: four matrices in Y0-Y15, temporaries Y16-Y19.
	avx512 = variant{name: "FillBlockAVX512", needs: "AVX2, AVX-512F and AVX-512VL", evex: true,
		qs: []quarter{{Y0, Y1, Y2, Y3}, {Y4, Y5, Y6, Y7}, {Y8, Y9, Y10, Y11}, {Y12, Y13, Y14, Y15}},
		ts: []VecPhysical{Y16, Y17, Y18, Y19}}
)

// The AVX2 variant's rotation patterns, loaded once per call.
var r24, r16 = Y10, Y11

// each emits f for each matrix of v (with its temporary), one step for
// all of them before the next, for the pipelines.
func (v variant) each(f func(q quarter, t VecPhysical)) {
	for i, q := range v.qs {
		f(q, v.ts[i])
	}
}

func (v variant) xor(a, b, dst Op) {
	if v.evex {
		VPXORQ(a, b, dst)
	} else {
		VPXOR(a, b, dst)
	}
}

// ror rotates every word of x right by n bits (32, 24, 16 or 63).
func (v variant) ror(n int, x, t VecPhysical) {
	switch {
	case v.evex:
		VPRORQ(U8(n), x, x)
	case n == 32:
		VPSHUFD(U8(0xb1), x, x) // swap the halves
	case n == 24:
		VPSHUFB(r24, x, x)
	case n == 16:
		VPSHUFB(r16, x, x)
	case n == 63: // rotate left by 1
		VPADDQ(x, x, t)
		VPSRLQ(U8(63), x, x)
		VPXOR(t, x, x)
	}
}

// bmAdd is x = x + y + 2*lo(x)*lo(y) (BlaMka's addition, lo the low 32
// bits) on every word.
func bmAdd(x, y, t VecPhysical) {
	VPMULUDQ(y, x, t)
	VPADDQ(y, x, x)
	VPADDQ(t, t, t)
	VPADDQ(t, x, x)
}

// gb is BlaMka's G on the four columns of every matrix at once: GB(a, b,
// c, d) of RFC 9106, section 3.6, with the rotations right by 32, 24, 16
// and 63 bits.
func (v variant) gb() {
	v.each(func(q quarter, t VecPhysical) { bmAdd(q.a, q.b, t) })
	v.each(func(q quarter, t VecPhysical) { v.xor(q.a, q.d, q.d) })
	v.each(func(q quarter, t VecPhysical) { v.ror(32, q.d, t) })
	v.each(func(q quarter, t VecPhysical) { bmAdd(q.c, q.d, t) })
	v.each(func(q quarter, t VecPhysical) { v.xor(q.c, q.b, q.b) })
	v.each(func(q quarter, t VecPhysical) { v.ror(24, q.b, t) })
	v.each(func(q quarter, t VecPhysical) { bmAdd(q.a, q.b, t) })
	v.each(func(q quarter, t VecPhysical) { v.xor(q.a, q.d, q.d) })
	v.each(func(q quarter, t VecPhysical) { v.ror(16, q.d, t) })
	v.each(func(q quarter, t VecPhysical) { bmAdd(q.c, q.d, t) })
	v.each(func(q quarter, t VecPhysical) { v.xor(q.c, q.b, q.b) })
	v.each(func(q quarter, t VecPhysical) { v.ror(63, q.b, t) })
}

// round is the permutation P on every matrix: G on the columns, then on
// the diagonals (rows b, c and d rotated left by 1, 2 and 3 words, and back).
func (v variant) round() {
	v.gb()
	v.each(func(q quarter, _ VecPhysical) {
		VPERMQ(U8(0x39), q.b, q.b)
		VPERMQ(U8(0x4e), q.c, q.c)
		VPERMQ(U8(0x93), q.d, q.d)
	})
	v.gb()
	v.each(func(q quarter, _ VecPhysical) {
		VPERMQ(U8(0x93), q.b, q.b)
		VPERMQ(U8(0x4e), q.c, q.c)
		VPERMQ(U8(0x39), q.d, q.d)
	})
}

func (v variant) load(m Mem, r Op) {
	if v.evex {
		VMOVDQU64(m, r)
	} else {
		VMOVDQU(m, r)
	}
}

func (v variant) store(r Op, m Mem) {
	if v.evex {
		VMOVDQU64(r, m)
	} else {
		VMOVDQU(r, m)
	}
}

func fillBlock(v variant) {
	n := len(v.qs) // matrices per iteration
	TEXT(v.name, NOSPLIT, "func(next, prev, ref, tmp *[128]uint64, xor bool)")
	Pragma("noescape")
	regs := "Y0-Y11 (VEX only; VZEROALL before it returns)"
	rot := "the rotations by VPSHUFD, VPSHUFB and shifts"
	if v.evex {
		regs = "Y0-Y19 (VZEROALL, and Y16-Y19 zeroed, before it returns)"
		rot = "the rotations by VPRORQ"
	}
	Doc(wrap(fmt.Sprintf(`
%s is Argon2's compression G (RFC 9106, section 3.5) of prev
and ref into next: R = prev XOR ref, Z = P applied to R's eight rows (16
words each) and then to its eight columns (words 2i, 2i+1, 2i+16, 2i+17,
..., 2i+113), next = Z XOR R, or with xor next ^= Z XOR R (the passes
after the first). tmp is its working block (left holding what P computed
of the rows, which the caller wipes with the rest of its memory); next
may be prev or ref, tmp none of them.

Each 16 words that P permutes are a 4x4 matrix in four ymm registers (the
columns of the matrix in the four lanes), and %d matrices go through G
together, %s: the rows in %d iterations of %d rows, the columns in %d
iterations of %d column pairs, gathered and scattered by 16-byte halves.
It needs %s, uses %s and AX-DX, SI, DI, R8, R9, and no stack but the calls
of the signal-frame hooks (a block is as secret as the passphrase it
follows from). Constant time: no branch or address depends on the data.`,
		v.name, n, rot, 8/n, n, 8/n, n, v.needs, regs), 76)...)
	gen.Hook("sigArm", "The signal-frame canary (see internal/asm).")
	next, prev, ref, tmp := RSI, RDI, R8, R9
	Load(Param("next"), next)
	Load(Param("prev"), prev)
	Load(Param("ref"), ref)
	Load(Param("tmp"), tmp)
	Load(Param("xor"), DL)
	if !v.evex {
		VMOVDQU(rot24, r24)
		VMOVDQU(rot16, r16)
	}
	at := func(base Register, disp int) Mem { return Mem{Base: base, Index: RBX, Scale: 1, Disp: disp} }
	l := func(s string) string { return v.name + s }

	// Rows: n per iteration (128 bytes each); CX counts the iterations,
	// BX is the offset.
	XORQ(RBX, RBX)
	MOVL(U32(8/n), ECX)
	Label(l("rows"))
	for i, q := range v.qs {
		for j, r := range q.regs() {
			v.load(at(prev, 128*i+32*j), r)
			v.xor(at(ref, 128*i+32*j), r, r)
		}
	}
	// next = R, or next ^= R.
	TESTB(DL, DL)
	JNZ(LabelRef(l("rowsXor")))
	for i, q := range v.qs {
		for j, r := range q.regs() {
			v.store(r, at(next, 128*i+32*j))
		}
	}
	JMP(LabelRef(l("rowsP")))
	Label(l("rowsXor"))
	for i, q := range v.qs {
		for j, r := range q.regs() {
			v.xor(at(next, 128*i+32*j), r, v.ts[0])
			v.store(v.ts[0], at(next, 128*i+32*j))
		}
	}
	Label(l("rowsP"))
	v.round()
	for i, q := range v.qs {
		for j, r := range q.regs() {
			v.store(r, at(tmp, 128*i+32*j))
		}
	}
	ADDQ(U32(128*n), RBX)
	DECL(ECX)
	JNZ(LabelRef(l("rows")))

	// Columns: column pair k is words 2k, 2k+1 of each row; register j of
	// its matrix holds those of rows 2j (low half) and 2j+1 (high half).
	// n pairs per iteration (16 bytes each); next ^= the result.
	XORQ(RBX, RBX)
	MOVL(U32(8/n), ECX)
	Label(l("cols"))
	for i, q := range v.qs {
		for j, r := range q.regs() {
			off := 16*i + 256*j
			if v.evex {
				VMOVDQU64(at(tmp, off), r.(Vec).AsX())
				VINSERTI32X4(U8(1), at(tmp, off+128), r, r)
			} else {
				VMOVDQU(at(tmp, off), r.(Vec).AsX())
				VINSERTI128(U8(1), at(tmp, off+128), r, r)
			}
		}
	}
	v.round()
	t0, t1 := v.ts[0].(Vec).AsX(), v.ts[1].(Vec).AsX()
	for i, q := range v.qs {
		for j, r := range q.regs() {
			off := 16*i + 256*j
			lo, hi := at(next, off), at(next, off+128)
			if v.evex {
				VEXTRACTI32X4(U8(1), r, t1)
			} else {
				VEXTRACTI128(U8(1), r, t1)
			}
			v.xor(lo, r.(Vec).AsX(), t0)
			v.store(t0, lo)
			v.xor(hi, t1, t1)
			v.store(t1, hi)
		}
	}
	ADDQ(U8(16*n), RBX)
	DECL(ECX)
	JNZ(LabelRef(l("cols")))

	VZEROALL()
	if v.evex {
		for _, t := range v.ts {
			VPXORQ(t, t, t)
		}
	}
	gen.Hook("sigCheck", "Registers zeroed: wipe the signal frame if a signal came.")
	RET()
}

// wrap fills the paragraphs of s (separated by blank lines) into lines of
// at most width characters, for a doc comment whose text was assembled
// with Sprintf.
func wrap(s string, width int) []string {
	var out []string
	for i, para := range strings.Split(strings.TrimSpace(s), "\n\n") {
		if i > 0 {
			out = append(out, "")
		}
		line := ""
		for _, w := range strings.Fields(para) {
			if line != "" && len(line)+1+len(w) > width {
				out = append(out, line)
				line = ""
			}
			if line != "" {
				line += " "
			}
			line += w
		}
		out = append(out, line)
	}
	return out
}
