//go:build amd64 && !purego

package blamka

import (
	"bytes"
	"runtime"
	"testing"

	"golang.org/x/sys/cpu"

	"github.com/go-keylocker/keylocker/internal/asm/asmtest"
)

// The values of G are checked in internal/kdf (against its Go code, RFC
// 9106's vectors and x/crypto/argon2); here, what the machine code does
// besides: the signal-frame hooks, and the registers it leaves.

const pkgPath = "github.com/go-keylocker/keylocker/internal/asm/blamka."

// routines are this package's routines and whether the CPU runs them.
var routines = []struct {
	name string
	ok   bool
	regs int // the vector registers each must leave zero (all of each)
}{
	{"FillBlockAVX2", cpu.X86.HasAVX2, 16},
	{"FillBlockAVX512", cpu.X86.HasAVX2 && cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL, 20},
}

// TestSignalFrameHooksDisasm checks, in the machine code of the test
// binary, that each routine calls the arm hook first and the check hook
// before every RET, and that the hook variables hold internal/asm's hooks.
func TestSignalFrameHooksDisasm(t *testing.T) {
	var names []string
	for _, r := range routines {
		names = append(names, r.name)
	}
	asmtest.SignalFrameHooks(t, &sigArm, &sigCheck, pkgPath, names)
}

// TestRegistersCleared calls each routine through its ABI0 entry and reads
// Z0-Z31 right after: every register it used (all of Z0-Z15 for both,
// and Z16-Z19 for the AVX-512 one) is zero, whole.
func TestRegistersCleared(t *testing.T) {
	if !cpu.X86.HasAVX512F {
		t.Skip("needs AVX-512F to read Z0-Z31")
	}
	var next, prev, ref, tmp [128]uint64
	for i := range prev {
		prev[i], ref[i], next[i] = uint64(i)*0x9e3779b97f4a7c15, ^uint64(i), uint64(i)<<7
	}
	for _, r := range routines {
		if !r.ok {
			t.Errorf("%s: the CPU has AVX-512F but not what this routine needs", r.name)
			continue
		}
		for _, xor := range []uint64{0, 1} {
			var f [16]uint64
			copy(f[:], []uint64{asmtest.Word(&next), asmtest.Word(&prev), asmtest.Word(&ref), asmtest.Word(&tmp), xor})
			var all [48][64]byte
			asmtest.CallABI0Z(asmtest.ABI0(t, pkgPath+r.name), &f, &all)
			runtime.KeepAlive(&next)
			runtime.KeepAlive(&prev)
			runtime.KeepAlive(&ref)
			runtime.KeepAlive(&tmp)
			for i, z := range all[:r.regs] {
				if !bytes.Equal(z[:], make([]byte, 64)) {
					t.Errorf("%s (xor %d): Z%d = %x after it returned", r.name, xor, i, z)
				}
			}
			if tmp == ([128]uint64{}) {
				t.Errorf("%s: tmp untouched: the call did not run", r.name)
			}
		}
	}
}

// TestVariantsAgree runs both routines on the same blocks (which also
// links them into the test binary for the tests above): same next and tmp,
// for both values of xor and with next being ref.
func TestVariantsAgree(t *testing.T) {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasAVX512F || !cpu.X86.HasAVX512VL {
		t.Skip("needs AVX2, AVX-512F and AVX-512VL to run both")
	}
	var prev, ref, next [128]uint64
	x := uint64(1)
	for i := range prev {
		for _, w := range []*uint64{&prev[i], &ref[i], &next[i]} {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			*w = x
		}
	}
	for _, xor := range []bool{false, true} {
		n2, n5 := next, next
		var t2, t5 [128]uint64
		FillBlockAVX2(&n2, &prev, &ref, &t2, xor)
		FillBlockAVX512(&n5, &prev, &ref, &t5, xor)
		if n2 != n5 || t2 != t5 {
			t.Errorf("xor %v: the AVX2 and AVX-512 routines differ", xor)
		}
		if n2 == next {
			t.Errorf("xor %v: next unchanged", xor)
		}
	}
	r2, r5 := ref, ref
	var t2, t5 [128]uint64
	FillBlockAVX2(&r2, &prev, &r2, &t2, false)
	FillBlockAVX512(&r5, &prev, &r5, &t5, false)
	if r2 != r5 {
		t.Error("next = ref: the AVX2 and AVX-512 routines differ")
	}
}
