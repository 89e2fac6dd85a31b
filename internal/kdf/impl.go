package kdf

import "golang.org/x/sys/cpu"

// Impl names the code that computes Argon2's compression function G. The
// caller chooses it (aeskl.Detect's Argon2 field, where the project decides
// what the CPU runs); every implementation computes the same tags.
type Impl string

// The implementations.
const (
	// Generic is Go, on every platform.
	Generic Impl = "generic"
	// AVX2 is AVX2 assembly (internal/asm/blamka): amd64 builds without
	// the purego tag, on CPUs with AVX2.
	AVX2 Impl = "avx2"
	// AVX512 is AVX-512VL assembly (internal/asm/blamka): amd64 builds
	// without the purego tag, on CPUs with AVX2, AVX-512F and AVX-512VL.
	AVX512 Impl = "avx512"
)

// Available reports whether impl can run in this build on this CPU. It is
// a guard (Argon2 refuses an implementation that would fault), not the
// choice, which is the caller's.
func (impl Impl) Available() bool {
	switch impl {
	case Generic:
		return true
	case AVX2:
		return haveAsm && cpu.X86.HasAVX2
	case AVX512:
		return haveAsm && cpu.X86.HasAVX2 && cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL
	}
	return false
}

// fillBlock is G(prev, ref) into next (xor: next ^=) on impl, which
// Argon2Status has checked.
func (impl Impl) fillBlock(next, prev, ref, tmp *argonBlock, xor bool) {
	switch impl {
	case AVX2:
		fillBlockAVX2(next, prev, ref, tmp, xor)
	case AVX512:
		fillBlockAVX512(next, prev, ref, tmp, xor)
	default:
		fillBlockGeneric(next, prev, ref, tmp, xor)
	}
}
