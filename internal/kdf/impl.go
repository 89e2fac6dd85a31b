package kdf

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
	// without the purego tag, on CPUs with AVX-512F and AVX-512VL.
	AVX512 Impl = "avx512"
)

// Available reports whether impl can run in this build. It does not look
// at the CPU: that is the caller's choice (AVX2 on a CPU without it
// faults).
func (impl Impl) Available() bool {
	switch impl {
	case Generic:
		return true
	case AVX2, AVX512:
		return haveAsm
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
