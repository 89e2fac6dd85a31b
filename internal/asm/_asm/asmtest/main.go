// Command asmtest writes internal/asm/asmtest's register probe
// (asmtest_amd64.s, asmtest_amd64.go): the test-only routine that calls an
// assembly routine with every vector register poisoned and reports what the
// routine left in them.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/go-keylocker/keylocker/internal/asm/_asm/internal/gen"
)

// frameWords is the largest ABI0 argument frame CallABI0 passes, in words.
const frameWords = 16

func main() {
	ConstraintExpr("amd64,!purego")
	TEXT("CallABI0", 0, fmt.Sprintf("func(pc uintptr, frame *[%d]uint64, regs *[16][16]byte)", frameWords))
	Pragma("noescape")
	Doc(gen.DocLines(fmt.Sprintf(`CallABI0 calls the ABI0 function at pc with frame[0:%d] as its argument
frame (arguments and results, laid out as the Go assembler's FP offsets),
after filling X0-X15 with 0xA5 bytes. It then stores X0-X15 as the callee
left them to regs, copies the argument frame (with the results the callee
wrote) back to frame and zeroes X15. Pointers in frame are plain words:
the caller keeps what they point to alive and on the heap.`, frameWords))...)
	AllocLocal(8 * frameWords)
	Load(Param("frame"), R11)
	for i := 0; i < frameWords; i++ {
		MOVQ(Mem{Base: R11, Disp: 8 * i}, RAX)
		MOVQ(RAX, Mem{Base: StackPointer, Disp: 8 * i})
	}
	MOVQ(U64(0xA5A5A5A5A5A5A5A5), R11)
	MOVQ(R11, X0)
	PUNPCKLQDQ(X0, X0)
	for _, x := range gen.XRange(1, 15) {
		MOVOU(X0, x)
	}
	Load(Param("pc"), R11)
	gen.Raw("CALL", R11)
	Load(Param("regs"), R11)
	for i, x := range gen.XRange(0, 15) {
		MOVOU(x, Mem{Base: R11, Disp: 16 * i})
	}
	PXOR(X15, X15)
	Load(Param("frame"), R11)
	for i := 0; i < frameWords; i++ {
		MOVQ(Mem{Base: StackPointer, Disp: 8 * i}, RAX)
		MOVQ(RAX, Mem{Base: R11, Disp: 8 * i})
	}
	RET()

	TEXT("CallABI0Z", 0, fmt.Sprintf("func(pc uintptr, frame *[%d]uint64, out *[48][64]byte)", frameWords))
	Pragma("noescape")
	Doc(gen.DocLines(`CallABI0Z calls the ABI0 function at pc with frame as its argument frame,
like CallABI0 but without poisoning any register, then stores Z0-Z31 as
the callee left them to out[0:32] and the 1024 bytes below CallABI0Z's own
stack pointer (where the callee's frame and spill area were) to
out[32:48], copies the argument frame back to frame and runs VZEROALL.
It needs AVX-512F (the caller checks).`)...)
	AllocLocal(8 * frameWords)
	Load(Param("frame"), R11)
	for i := 0; i < frameWords; i++ {
		MOVQ(Mem{Base: R11, Disp: 8 * i}, RAX)
		MOVQ(RAX, Mem{Base: StackPointer, Disp: 8 * i})
	}
	Load(Param("pc"), R11)
	gen.Raw("CALL", R11)
	Load(Param("out"), RAX)
	zs := []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
		Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}
	for i, z := range zs {
		VMOVDQU64(z, Mem{Base: RAX, Disp: 64 * i})
	}
	LEAQ(Mem{Base: StackPointer, Disp: -1024}, RBX)
	for i := 0; i < 16; i++ {
		VMOVDQU64(Mem{Base: RBX, Disp: 64 * i}, Z0)
		VMOVDQU64(Z0, Mem{Base: RAX, Disp: 2048 + 64*i})
	}
	VZEROALL()
	Load(Param("frame"), R11)
	for i := 0; i < frameWords; i++ {
		MOVQ(Mem{Base: StackPointer, Disp: 8 * i}, RAX)
		MOVQ(RAX, Mem{Base: R11, Disp: 8 * i})
	}
	RET()

	peak()
	Generate()
}

// peak writes AESPeak: the raw AES-128 rate of one register width, the
// ceiling the sealed paths are measured against.
func peak() {
	TEXT("AESPeak", NOSPLIT, "func(width, iters int)")
	Doc(gen.DocLines(`AESPeak runs iters iterations of AES-128 encryption on 12 independent
blocks per lane set held in registers (12 xmm registers for width 16 with
legacy-SSE AESENC, 12 ymm for width 32 with VEX VAESENC, 12 zmm for width
64 with EVEX VAESENC), one round key in a register, 9 AESENC and one
AESENCLAST per block: each iteration encrypts 12*width bytes. Nothing is
loaded or stored: it measures the CPU's AES rate for that width, the
ceiling of any AES code of that width. It needs AES-NI (width 16), VAES
and AVX2 (32), VAES and AVX-512F (64); it zeroes the registers it used.`)...)
	Load(Param("iters"), RCX)
	Load(Param("width"), RAX)
	CMPQ(RAX, U8(32))
	JEQ(LabelRef("ymm"))
	JA(LabelRef("zmm"))
	x := gen.XRange(0, 11)
	peakLoop("xmm", x, X15, func(k, r VecPhysical) { AESENC(k, r) }, func(k, r VecPhysical) { AESENCLAST(k, r) },
		func(r VecPhysical) { PXOR(r, r) })
	gen.Clear(append(x, X15)...)
	RET()
	Label("ymm")
	y := []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11}
	peakLoop("ymm", y, Y15, func(k, r VecPhysical) { VAESENC(k, r, r) }, func(k, r VecPhysical) { VAESENCLAST(k, r, r) },
		func(r VecPhysical) { VPXOR(r, r, r) })
	VZEROALL()
	RET()
	Label("zmm")
	z := []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11}
	peakLoop("zmm", z, Z16, func(k, r VecPhysical) { VAESENC(k, r, r) }, func(k, r VecPhysical) { VAESENCLAST(k, r, r) },
		func(r VecPhysical) { VPXORQ(r, r, r) })
	VPXORQ(Z16, Z16, Z16)
	VZEROALL()
	RET()
}

// peakLoop zeroes key and the data registers rs (with zero), then runs CX
// iterations of 9 rounds (enc) and a last round (last) on every register
// of rs with the round key key: the same loop for every register width.
func peakLoop(name string, rs []VecPhysical, key VecPhysical, enc, last func(k, r VecPhysical), zero func(VecPhysical)) {
	zero(key)
	for _, r := range rs {
		zero(r)
	}
	Label(name + "loop")
	for round := 0; round < 9; round++ {
		for _, r := range rs {
			enc(key, r)
		}
	}
	for _, r := range rs {
		last(key, r)
	}
	DECQ(RCX)
	JNZ(LabelRef(name + "loop"))
}
