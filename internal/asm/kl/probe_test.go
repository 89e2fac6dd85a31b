//go:build amd64 && !purego

package kl

import (
	"runtime"
	"testing"

	"github.com/go-keylocker/keylocker/internal/asm/asmtest"
)

// The register probes: each calls a routine's ABI0 body through
// asmtest.CallABI0 with X0-X15 filled with 0xA5 bytes and returns the
// registers as the routine left them.

const pkgPath = "github.com/go-keylocker/keylocker/internal/asm/kl."

// probe calls the routine name with the argument words w and returns the
// frame after the call.
func probe(t testing.TB, name string, w []uint64, regs *[16][16]byte) [16]uint64 {
	var f [16]uint64
	copy(f[:], w)
	asmtest.CallABI0(asmtest.ABI0(t, pkgPath+name), &f, regs)
	return f
}

// klEncodeKeyRegs calls EncodeKey128 (bits == 128, key[0:16]) or
// EncodeKey256 through the probe and stores X0-X7 as it left them to regs.
func klEncodeKeyRegs(t testing.TB, bits int, key *[32]byte, restrictions uint32, h *Handle, regs *[8][16]byte) (info uint32) {
	name := "EncodeKey128"
	if bits == 256 {
		name = "EncodeKey256"
	}
	var all [16][16]byte
	f := probe(t, name, []uint64{asmtest.Word(key), uint64(restrictions), asmtest.Word(h)}, &all)
	runtime.KeepAlive(key)
	runtime.KeepAlive(h)
	copy(regs[:], all[:8])
	return uint32(f[3])
}

// klECBRegs calls klECBFuncs[fn] through the probe and stores X0-X7 as it
// left them to regs.
func klECBRegs(t testing.TB, fn int, h *Handle, dst, src []byte, regs *[8][16]byte) bool {
	var all [16][16]byte
	w := append(append([]uint64{asmtest.Word(h)}, asmtest.SliceWords(dst)...), asmtest.SliceWords(src)...)
	f := probe(t, klECBFuncs[fn].name, w, &all)
	runtime.KeepAlive(h)
	runtime.KeepAlive(dst)
	runtime.KeepAlive(src)
	copy(regs[:], all[:8])
	return f[7]&0xFF != 0
}

// klModeNames is the fn argument of klModeRegs.
var klModeNames = []string{"KLCTR", "KLCBCEncrypt", "KLCBCDecrypt", "KLXTS", "KLGCMCTR"}

// klModeRegs calls the mode kernel klModeNames[fn] with the argument words
// a[0:10] through the probe, copies the frame back to a (the result byte
// is a[9] for fn 0-2 and a[10] for fn 3-4) and stores X0-X15 to regs. The
// caller keeps the objects a points to alive and on the heap.
func klModeRegs(t testing.TB, fn int, a *[11]uint64, regs *[16][16]byte) {
	f := probe(t, klModeNames[fn], a[:], regs)
	copy(a[:], f[:11])
}
