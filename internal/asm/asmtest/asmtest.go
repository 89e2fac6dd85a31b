// Package asmtest is test support for the assembly packages: it
// disassembles routines in the running test binary with GNU objdump (the
// Go toolchain's disassembler knows no Key Locker instruction), finds the
// ABI0 entry of an assembly routine, and calls one with every vector
// register poisoned (CallABI0) to check what it leaves behind. Only tests
// import it.
package asmtest

import "unsafe"

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

// Word returns p as an argument word for CallABI0 / CallABI0Z, after
// making what it points to escape to the heap (Escape). The caller keeps
// it alive until the call returns (runtime.KeepAlive).
func Word[T any](p *T) uint64 { Escape(p); return uint64(uintptr(unsafe.Pointer(p))) }

// SliceWords returns the three argument words of b (pointer, length,
// capacity), its array made to escape to the heap.
func SliceWords(b []byte) []uint64 {
	Escape(b)
	return []uint64{uint64(uintptr(unsafe.Pointer(unsafe.SliceData(b)))), uint64(len(b)), uint64(cap(b))}
}
