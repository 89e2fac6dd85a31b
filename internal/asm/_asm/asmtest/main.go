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
const frameWords = 12

func main() {
	ConstraintExpr("amd64,!purego")
	TEXT("CallABI0", NOSPLIT, fmt.Sprintf("func(pc uintptr, frame *[%d]uint64, regs *[16][16]byte)", frameWords))
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
	Generate()
}
