// Package asmtest is test support for the assembly packages: it
// disassembles routines in the running test binary with GNU objdump (the
// Go toolchain's disassembler knows no Key Locker instruction), finds the
// ABI0 entry of an assembly routine, and calls one with every vector
// register poisoned (CallABI0) to check what it leaves behind. Only tests
// import it.
package asmtest

//go:generate sh -c "cd ../_asm && go run ./asmtest -out ../asmtest/asmtest_amd64.s -stubs ../asmtest/asmtest_amd64.go -pkg asmtest"

var (
	never bool
	sink  = make(chan any, 1)
)

// Escape makes v escape to the heap (its argument is sent to a global channel
// on a path that never runs, which escape analysis cannot tell). Callers pass
// pointers through it before they hand them to CallABI0 as plain words, so
// that no stack copy can move under the call.
func Escape(v any) {
	if never {
		sink <- v
	}
}
