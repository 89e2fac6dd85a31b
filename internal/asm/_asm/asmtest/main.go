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
	Generate()
}
