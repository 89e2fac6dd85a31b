package fallback

import (
	"crypto/subtle"
	"encoding/binary"

	"github.com/go-keylocker/keylocker/internal/handle"
)

// The portable generic implementation: the same handles and the same
// semantics as Key Locker (internal/handle, KLS 1.4 wrap), with the wrapping
// key (IWKey) taken from the region: IK = region[0:16], EK = region[16:48].
// It needs nothing from region[64:640] (that precomputation is for the
// amd64 assembly).
//
// What it protects: the data key exists unwrapped only during a call, in
// fixed-size local arrays (the unwrapped key, its expanded schedule, the
// EK schedule, the POLYVAL state, the key stream) that are zeroed before
// the function returns, on every path. The stack area used by the callees
// is overwritten afterwards (burnStack). Nothing secret is allocated on the
// heap (checked with -gcflags=-m: the locals do not escape).
//
// What it does not protect, honestly:
//   - Without GOEXPERIMENT=runtimesecret, Go gives no guarantee. If a callee's prologue must grow the goroutine
//     stack, the runtime copies the whole stack, secrets included, and frees
//     the old one without wiping it (burnStack at the start grows the stack
//     beforehand, which makes this unlikely, not impossible); a GC-time stack
//     shrink copies it too. The compiler may keep values in registers or
//     spill slots we do not see; signal handlers and preemption save
//     registers to memory (g0 / gsignal stacks, the goroutine's context).
//   - Values in registers are not cleared on return: Go has no portable way
//     to clear general-purpose registers.
//
// Built with GOEXPERIMENT=runtimesecret (Go 1.26+), every generic entry
// point runs inside runtime/secret.Do: on linux/amd64 and linux/arm64 the
// runtime itself then erases the registers and the stack the call used
// (see RuntimeSecret), which closes the register and spill-slot gaps above
// as far as the runtime's implementation does.
//   - It is not the Key Locker property: while a call runs, the key is in
//     ordinary memory. Between calls only the handle exists.
//   - Timing: the AES is bitsliced and table-free (see aesct.go); POLYVAL
//     uses carry-less multiplication built from integer multiplies with
//     holes (polyval.go), constant-time where the CPU's 64-bit multiply is.
//     The tag compare is constant-time. The key type and length are public.

// lengthBlock returns the POLYVAL length block for a key type.
func lengthBlock(kt int) (l [16]byte) {
	bits := uint64(256)
	switch kt {
	case handle.KeyTypeAES128:
		bits = 128
	case handle.KeyTypeAES192:
		bits = 192
	}
	binary.LittleEndian.PutUint64(l[0:], 128)
	binary.LittleEndian.PutUint64(l[8:], bits)
	return l
}

// keyBytes is the key length for a key type and blocks the number of
// 16-byte key blocks in its handle.
func keyLayout(kt int) (keyBytes, blocks int) {
	switch kt {
	case handle.KeyTypeAES128:
		return 16, 1
	case handle.KeyTypeAES192:
		return 24, 2
	case handle.KeyTypeAES256:
		return 32, 2
	}
	return 0, 0
}

// wrapState holds every secret of one wrap or unwrap; it lives in the
// caller's frame and is wiped by wipeWrapState.
type wrapState struct {
	ek  schedule // AES-256 schedule of EK
	kb  [32]byte // key blocks (plaintext key, zero padded)
	ks  [32]byte // key stream
	s   [16]byte // POLYVAL output, then the recomputed tag
	pv  polyval  // POLYVAL state
	ctr [32]byte // counter blocks
}

//go:noinline
func wipeWrapState(w *wrapState) {
	*w = wrapState{}
}

// keystream computes ks = AES-256_EK(ctr_j) for the blocks key blocks,
// ctr_0 = tag with bit 127 set, low 32 bits (little-endian) + j.
func (w *wrapState) keystream(tag []byte, blocks int) {
	var c [16]byte
	copy(c[:], tag[:16])
	c[15] |= 0x80
	base := binary.LittleEndian.Uint32(c[:4])
	for j := 0; j < blocks; j++ {
		binary.LittleEndian.PutUint32(c[:4], base+uint32(j))
		copy(w.ctr[16*j:], c[:])
	}
	w.ek.crypt(w.ks[:16*blocks], w.ctr[:16*blocks], false)
}

// polyval computes w.s = POLYVAL(IK, meta || kb blocks || length) with bit
// 127 cleared.
func (w *wrapState) polyval(region *Region, meta []byte, kt, blocks int) {
	w.pv.init((*[16]byte)(region[0:16]))
	w.pv.update(meta[:16])
	w.pv.update(w.kb[:16*blocks])
	l := lengthBlock(kt)
	w.pv.update(l[:])
	w.s = w.pv.sum()
	w.s[15] &= 0x7F
}

// GenericEncodeKey wraps key (16, 24 or 32 bytes) under the region's IWKey
// with the given restriction bits, as ENCODEKEY128/256 do (AES-192 uses the
// software key type 2), and writes the handle to h (48 bytes for AES-128,
// the rest of h zeroed; 64 bytes otherwise). It panics on a bad key length
// or a restriction bit outside handle.RestrictionMask: the caller validates
// both.
func GenericEncodeKey(region *Region, key []byte, restrictions uint32, h *handle.Handle) {
	kt := handle.KeyType(len(key))
	if kt < 0 {
		panic("fallback: GenericEncodeKey: key must be 16, 24 or 32 bytes")
	}
	if restrictions&^handle.RestrictionMask != 0 {
		panic("fallback: GenericEncodeKey: unknown restriction bits")
	}
	protect(func() {
		burnStack()
		encodeKey(region, key, kt, restrictions, h)
		burnStack()
	})
}

func encodeKey(region *Region, key []byte, kt int, restrictions uint32, h *handle.Handle) {
	var w wrapState
	_, blocks := keyLayout(kt)
	*h = [64]byte{}
	binary.LittleEndian.PutUint32(h[0:], handle.Meta(restrictions, kt))
	copy(w.kb[:], key)
	expandKey(&w.ek, region[16:48])
	w.polyval(region, h[0:16], kt, blocks)
	w.ek.crypt(h[16:32], w.s[:], false) // tag
	w.keystream(h[16:32], blocks)
	subtle.XORBytes(h[32:32+16*blocks], w.kb[:16*blocks], w.ks[:16*blocks])
	wipeWrapState(&w)
}

// unwrapInto applies the handle's metadata rules for an operation in the
// given direction (reserved bits, CPL0-only, the restriction of that
// direction: handle.Handle.Check, as the Key Locker instructions and the
// sealed assembly do), verifies h and, if the tag verifies, expands the
// data key into dk. It reports whether the handle was accepted. w is wiped
// on return.
func unwrapInto(region *Region, h *handle.Handle, dk *schedule, encrypt bool) bool {
	if h.Check(encrypt) != nil {
		return false
	}
	_, kt, _ := handle.ParseMeta(h[:16])
	keyBytes, blocks := keyLayout(kt)
	var w wrapState
	expandKey(&w.ek, region[16:48])
	w.keystream(h[16:32], blocks)
	subtle.XORBytes(w.kb[:16*blocks], h[32:32+16*blocks], w.ks[:16*blocks])
	w.polyval(region, h[0:16], kt, blocks)
	w.ek.crypt(w.s[:], w.s[:], false) // the tag
	ok := subtle.ConstantTimeCompare(w.s[:], h[16:32])
	var pad byte
	for _, b := range w.kb[keyBytes:] {
		pad |= b
	}
	ok &= subtle.ConstantTimeByteEq(pad, 0)
	if ok == 1 {
		expandKey(dk, w.kb[:keyBytes])
	}
	wipeWrapState(&w)
	return ok == 1
}

// GenericEncrypt encrypts len(src)/16 blocks (ECB) with the key inside h,
// unwrapped under the region's IWKey. It applies the handle's metadata
// rules itself: a reserved bit, an unknown key type, CPL0-only or NoEncrypt
// returns false; the key type comes from the metadata. It returns false, writing nothing to dst,
// if the handle does not verify. len(src) must be a multiple of 16 and
// len(dst) >= len(src) (it panics otherwise); dst and src may be the same
// slice.
func GenericEncrypt(region *Region, h *handle.Handle, dst, src []byte) bool {
	return genericCrypt(region, h, dst, src, false)
}

// GenericDecrypt is GenericEncrypt for decryption.
func GenericDecrypt(region *Region, h *handle.Handle, dst, src []byte) bool {
	return genericCrypt(region, h, dst, src, true)
}

func genericCrypt(region *Region, h *handle.Handle, dst, src []byte, decrypt bool) bool {
	if len(src)%16 != 0 || len(dst) < len(src) {
		panic("fallback: input not full blocks or output too short")
	}
	var ok bool
	protect(func() {
		burnStack()
		ok = crypt(region, h, dst, src, decrypt)
		burnStack()
	})
	return ok
}

func crypt(region *Region, h *handle.Handle, dst, src []byte, decrypt bool) bool {
	var dk schedule
	ok := unwrapInto(region, h, &dk, !decrypt)
	if ok {
		dk.crypt(dst, src, decrypt)
	}
	wipeSchedule(&dk)
	return ok
}
