//go:build amd64 && !purego

package sealed

import (
	"runtime"
	"testing"
	"unsafe"

	"github.com/go-keylocker/keylocker/internal/asm/asmtest"
)

// The register probes: the routines called through their ABI0 entries by
// asmtest.CallABI0Z, which dumps Z0-Z31 right after the call (nothing in
// between touches a vector register) and the 1024 bytes below its stack
// pointer, where the routine's frame and spill area were. They need
// AVX-512F.

const pkgPath = "github.com/go-keylocker/keylocker/internal/asm/sealed."

// callZ calls the routine name through call (asmtest.CallABI0Z) with the
// argument words w in a frame of words words (the arguments and the
// results, as the Go assembler's FP offsets) and returns the frame after
// the call. The frame type comes from call's signature: if asmtest's frame
// were smaller than the routine's (the callee would write its result over
// CallABI0Z's own frame), the test skips with the reason.
func callZ[F any](t testing.TB, call func(uintptr, *F, *[48][64]byte), name string, w []uint64, words int, out *[48][64]byte) []uint64 {
	t.Helper()
	var f F
	n := int(unsafe.Sizeof(f)) / 8
	if words > n {
		t.Skipf("asmtest.CallABI0Z passes a %d-word argument frame; %s needs %d (its result is word %d): "+
			"the register and stack probe cannot call it", n, name, words, words-1)
	}
	fw := unsafe.Slice((*uint64)(unsafe.Pointer(&f)), n)
	copy(fw, w)
	call(asmtest.ABI0(t, pkgPath+name), &f, out)
	return append([]uint64(nil), fw...)
}

// sealedRegsAfter calls SealedEncrypt (decrypt false) or SealedDecrypt
// and stores Z0-Z31 as it left them into out[0:32] and the 1024 bytes
// below the caller's stack pointer (the callee's frame) into out[32:48].
func sealedRegsAfter(t testing.TB, decrypt bool, region *Region, h *Handle, dst, src []byte, path int, out *[48][64]byte) bool {
	name := "SealedEncrypt"
	if decrypt {
		name = "SealedDecrypt"
	}
	w := append(append([]uint64{asmtest.Word(region), asmtest.Word(h)}, asmtest.SliceWords(dst)...), asmtest.SliceWords(src)...)
	w = append(w, uint64(path))
	f := callZ(t, asmtest.CallABI0Z, name, w, len(w)+1, out)
	runtime.KeepAlive(region)
	runtime.KeepAlive(h)
	runtime.KeepAlive(dst)
	runtime.KeepAlive(src)
	return f[len(w)]&0xFF != 0
}

// sealedRegsAfterEncodeKey calls sealedEncodeKey and stores Z0-Z31 as it
// left them into out.
func sealedRegsAfterEncodeKey(t testing.TB, region *Region, key *byte, keyLen int, restrictions uint32, h *Handle, out *[32][64]byte) {
	var all [48][64]byte
	w := []uint64{asmtest.Word(region), asmtest.Word(key), uint64(keyLen), uint64(restrictions), asmtest.Word(h)}
	callZ(t, asmtest.CallABI0Z, "sealedEncodeKey", w, len(w), &all)
	runtime.KeepAlive(region)
	runtime.KeepAlive(key)
	runtime.KeepAlive(h)
	copy(out[:], all[:32])
}

// sealedRegsAfterInit calls SealedInit and stores Z0-Z31 as it left them
// into out.
func sealedRegsAfterInit(t testing.TB, region *Region, out *[32][64]byte) {
	var all [48][64]byte
	callZ(t, asmtest.CallABI0Z, "SealedInit", []uint64{asmtest.Word(region)}, 1, &all)
	runtime.KeepAlive(region)
	copy(out[:], all[:32])
}

// smProbeNames are the kernels of sealedModesRegsAfter.
var smProbeNames = []string{"sealedCTR", "SealedCBCEncrypt", "SealedCBCDecrypt", "SealedXTS"}

// sealedModesRegsAfter calls smProbeNames[kernel] with the argument words
// args (slices as 3 words; the objects they point to kept alive and on the
// heap by the caller), then stores Z0-Z31 into out[0:32] and the 1024
// bytes below the caller's stack pointer (the callee's frame) into
// out[32:48]. It returns the byte at retOff of the argument frame.
func sealedModesRegsAfter(t testing.TB, kernel int, args *[12]uint64, retOff int, out *[48][64]byte) bool {
	f := callZ(t, asmtest.CallABI0Z, smProbeNames[kernel], args[:retOff/8], retOff/8+1, out)
	return f[retOff/8]&0xFF != 0
}
