package fallback

import (
	"crypto/subtle"
	"encoding/binary"

	"github.com/go-keylocker/keylocker/internal/handle"

	"github.com/go-keylocker/keylocker/internal/kernel"
)

// Generic mode kernels (ARCHITECTURE.md, "Modes: kernel
// contracts"): whole blocks only, len(dst) >= len(src), dst == src or no
// overlap (checked by the caller; partial blocks and wrong lengths panic
// here). Each kernel unwraps its handle(s) once per call, verifies the
// tag(s) before it writes anything, and returns false on a failure with dst
// and the state pointer untouched. The key type comes from the handle; the
// flags used are ModeInc32 (4) and ModeDecrypt (8); ModeKey256 and ModeWide
// are ignored. State pointers (ctr, iv, tweak) are updated so that calls
// chain. Counters are big-endian. The key material follows the rules of
// generic.go (stack arrays, wiped, burnStack around each call).

// Flag values shared with aeskl and the assembly kernels (internal/kernel).
const (
	ModeKey256  = kernel.ModeKey256
	ModeWide    = kernel.ModeWide
	ModeInc32   = kernel.ModeInc32
	ModeDecrypt = kernel.ModeDecrypt
)

func checkBlocks(dst, src []byte) {
	if len(src)%16 != 0 || len(dst) < len(src) {
		panic("fallback: input not full blocks or output too short")
	}
}

// incCounter adds 1 to the big-endian counter: to its low 32 bits only
// (mod 2^32, GCM's inc32) or to the whole 128-bit value.
func incCounter(c *[16]byte, inc32 bool) {
	if inc32 {
		binary.BigEndian.PutUint32(c[12:], binary.BigEndian.Uint32(c[12:])+1)
		return
	}
	lo := binary.BigEndian.Uint64(c[8:]) + 1
	hi := binary.BigEndian.Uint64(c[0:])
	if lo == 0 {
		hi++
	}
	binary.BigEndian.PutUint64(c[8:], lo)
	binary.BigEndian.PutUint64(c[0:], hi)
}

// MulAlpha multiplies an XTS tweak by x in GF(2^128) (IEEE 1619:
// little-endian, reduction polynomial x^128 + x^7 + x^2 + x + 1), in
// constant time.
func MulAlpha(t *[16]byte) {
	lo := binary.LittleEndian.Uint64(t[0:])
	hi := binary.LittleEndian.Uint64(t[8:])
	carry := hi >> 63
	hi = hi<<1 | lo>>63
	lo = lo<<1 ^ 0x87&-carry
	binary.LittleEndian.PutUint64(t[0:], lo)
	binary.LittleEndian.PutUint64(t[8:], hi)
}

// modeScratch holds the per-call buffers of the mode loops; wiped by the
// caller (key stream and intermediate blocks are key-derived).
type modeScratch struct {
	q   [8]uint64
	tmp [64]byte
	a   [64]byte
	b   [64]byte
}

//go:noinline
func wipeScratch(m *modeScratch) {
	*m = modeScratch{}
}

// ctrXOR: dst = src XOR E(ctr), E(ctr+1), ...; *ctr is advanced. If lead
// is not nil, the first counter block's encryption goes to *lead instead
// (GCM's tag mask E(J0)) and the data starts at the next counter, in the
// same four-block batches.
func (s *schedule) ctrXOR(m *modeScratch, dst, src []byte, ctr *[16]byte, inc32 bool, lead *[16]byte) {
	skip := 0
	if lead != nil {
		skip = 1
	}
	for len(src) > 0 || skip > 0 {
		n := min(len(src)/16+skip, 4)
		for j := 0; j < n; j++ {
			copy(m.a[16*j:], ctr[:])
			incCounter(ctr, inc32)
		}
		loadBlocks(&m.q, m.a[:], n, &m.tmp)
		s.encrypt4(&m.q)
		storeBlocks(m.a[:], &m.q, n, &m.tmp)
		ks := m.a[16*skip : 16*n]
		if skip > 0 {
			copy(lead[:], m.a[:16])
			skip = 0
		}
		subtle.XORBytes(dst[:len(ks)], src[:len(ks)], ks)
		dst, src = dst[len(ks):], src[len(ks):]
	}
}

// cbcEncrypt: C_i = E(P_i XOR C_{i-1}), C_{-1} = *iv; *iv = last C.
func (s *schedule) cbcEncrypt(m *modeScratch, dst, src []byte, iv *[16]byte) {
	prev := m.b[:16]
	copy(prev, iv[:])
	for i := 0; i < len(src); i += 16 {
		subtle.XORBytes(m.a[:16], src[i:i+16], prev)
		loadBlocks(&m.q, m.a[:], 1, &m.tmp)
		s.encrypt4(&m.q)
		storeBlocks(prev, &m.q, 1, &m.tmp)
		copy(dst[i:i+16], prev)
	}
	copy(iv[:], prev)
}

// cbcDecrypt: P_i = D(C_i) XOR C_{i-1}; *iv = last C. The ciphertext of a
// batch is saved before anything is written, so dst == src works.
func (s *schedule) cbcDecrypt(m *modeScratch, dst, src []byte, iv *[16]byte) {
	var prev [16]byte
	copy(prev[:], iv[:])
	for len(src) > 0 {
		n := min(len(src)/16, 4)
		c := m.b[:16*n]
		copy(c, src[:16*n])
		loadBlocks(&m.q, c, n, &m.tmp)
		s.decrypt4(&m.q)
		storeBlocks(m.a[:], &m.q, n, &m.tmp)
		subtle.XORBytes(dst[:16], m.a[:16], prev[:])
		subtle.XORBytes(dst[16:16*n], m.a[16:16*n], c[:16*(n-1)])
		copy(prev[:], c[16*(n-1):])
		dst, src = dst[16*n:], src[16*n:]
	}
	copy(iv[:], prev[:])
}

// xts: block i is T_i XOR E/D(P_i XOR T_i), T_{i+1} = T_i * x; *t is left
// at the next block's tweak.
func (s *schedule) xts(m *modeScratch, dst, src []byte, t *[16]byte, decrypt bool) {
	for len(src) > 0 {
		n := min(len(src)/16, 4)
		tw := m.b[:16*n]
		for j := 0; j < n; j++ {
			copy(tw[16*j:], t[:])
			MulAlpha(t)
		}
		subtle.XORBytes(m.a[:16*n], src[:16*n], tw)
		loadBlocks(&m.q, m.a[:], n, &m.tmp)
		if decrypt {
			s.decrypt4(&m.q)
		} else {
			s.encrypt4(&m.q)
		}
		storeBlocks(m.a[:], &m.q, n, &m.tmp)
		subtle.XORBytes(dst[:16*n], m.a[:16*n], tw)
		dst, src = dst[16*n:], src[16*n:]
	}
}

// GenericCTR: dst = src XOR E(*ctr), E(*ctr+1), ...; *ctr is advanced by
// the number of blocks (low 32 bits only with ModeInc32).
func GenericCTR(region *Region, h *handle.Handle, dst, src []byte, ctr *[16]byte, flags int) bool {
	checkBlocks(dst, src)
	var ok bool
	protect(func() {
		burnStack()
		ok = ctrKernel(region, h, dst, src, ctr, flags&ModeInc32 != 0)
		burnStack()
	})
	return ok
}

func ctrKernel(region *Region, h *handle.Handle, dst, src []byte, ctr *[16]byte, inc32 bool) bool {
	var dk schedule
	var m modeScratch
	ok := unwrapInto(region, h, &dk, true)
	if ok {
		dk.ctrXOR(&m, dst, src, ctr, inc32, nil)
	}
	wipeSchedule(&dk)
	wipeScratch(&m)
	return ok
}

// GenericCBCEncrypt: C_i = E(P_i XOR C_{i-1}), C_{-1} = *iv; *iv = last C.
func GenericCBCEncrypt(region *Region, h *handle.Handle, dst, src []byte, iv *[16]byte, flags int) bool {
	checkBlocks(dst, src)
	var ok bool
	protect(func() {
		burnStack()
		ok = cbcKernel(region, h, dst, src, iv, false)
		burnStack()
	})
	return ok
}

// GenericCBCDecrypt: P_i = D(C_i) XOR C_{i-1}; *iv = last C (in place works).
func GenericCBCDecrypt(region *Region, h *handle.Handle, dst, src []byte, iv *[16]byte, flags int) bool {
	checkBlocks(dst, src)
	var ok bool
	protect(func() {
		burnStack()
		ok = cbcKernel(region, h, dst, src, iv, true)
		burnStack()
	})
	return ok
}

func cbcKernel(region *Region, h *handle.Handle, dst, src []byte, iv *[16]byte, decrypt bool) bool {
	var dk schedule
	var m modeScratch
	ok := unwrapInto(region, h, &dk, !decrypt)
	if ok && len(src) > 0 {
		if decrypt {
			dk.cbcDecrypt(&m, dst, src, iv)
		} else {
			dk.cbcEncrypt(&m, dst, src, iv)
		}
	}
	wipeSchedule(&dk)
	wipeScratch(&m)
	return ok
}

// GenericXTS: if hTweak != nil, *tweak is first replaced by E(*tweak) under
// the tweak key (always encryption); block i uses T_i = T * x^i (IEEE 1619)
// and is encrypted, or decrypted with ModeDecrypt, under h; on return
// *tweak is the next block's tweak. Both handles are verified before
// anything is written.
func GenericXTS(region *Region, h, hTweak *handle.Handle, dst, src []byte, tweak *[16]byte, flags int) bool {
	checkBlocks(dst, src)
	var ok bool
	protect(func() {
		burnStack()
		ok = xtsKernel(region, h, hTweak, dst, src, tweak, flags&ModeDecrypt != 0)
		burnStack()
	})
	return ok
}

func xtsKernel(region *Region, h, hTweak *handle.Handle, dst, src []byte, tweak *[16]byte, decrypt bool) bool {
	var dk schedule
	var m modeScratch
	t := *tweak
	ok := true
	if hTweak != nil {
		ok = unwrapInto(region, hTweak, &dk, true)
		if ok {
			dk.crypt(t[:], t[:], false)
		}
		wipeSchedule(&dk)
	}
	ok = ok && unwrapInto(region, h, &dk, !decrypt)
	if ok {
		dk.xts(&m, dst, src, &t, decrypt)
		*tweak = t
	}
	wipeSchedule(&dk)
	wipeScratch(&m)
	wipe16(&t)
	return ok
}

// GenericXTSSectors runs XTS over consecutive sectors of sectorSize bytes
// (a positive multiple of 16 that divides len(src)): sector i of src uses
// the tweak E_tweakkey(first+i*stride as 16 little-endian bytes), the
// dm-crypt plain64 and x/crypto/xts convention, and is encrypted, or decrypted with
// ModeDecrypt, under h. Both handles are unwrapped once for the whole call
// and verified before anything is written.
func GenericXTSSectors(region *Region, h, hTweak *handle.Handle, dst, src []byte, first, stride uint64, sectorSize, flags int) bool {
	checkBlocks(dst, src)
	if sectorSize <= 0 || sectorSize%16 != 0 || len(src)%sectorSize != 0 {
		panic("fallback: XTS sectors: bad sector size")
	}
	var ok bool
	protect(func() {
		burnStack()
		ok = xtsSectorsKernel(region, h, hTweak, dst, src, first, stride, sectorSize, flags&ModeDecrypt != 0)
		burnStack()
	})
	return ok
}

func xtsSectorsKernel(region *Region, h, hTweak *handle.Handle, dst, src []byte, first, stride uint64, size int, decrypt bool) bool {
	var dk, tk schedule
	var m modeScratch
	var t [16]byte
	ok := unwrapInto(region, hTweak, &tk, true) && unwrapInto(region, h, &dk, !decrypt)
	if ok {
		for off := 0; off < len(src); off += size {
			t = [16]byte{}
			binary.LittleEndian.PutUint64(t[:], first)
			tk.crypt(t[:], t[:], false)
			dk.xts(&m, dst[off:off+size], src[off:off+size], &t, decrypt)
			first += stride
		}
	}
	wipeSchedule(&dk)
	wipeSchedule(&tk)
	wipeScratch(&m)
	wipe16(&t)
	return ok
}

// GenericGCMCTR: *tagMask = E(*j0), then CTR with inc32 from inc32(*j0);
// *j0 is not modified.
func GenericGCMCTR(region *Region, h *handle.Handle, dst, src []byte, j0, tagMask *[16]byte, flags int) bool {
	checkBlocks(dst, src)
	var ok bool
	protect(func() {
		burnStack()
		ok = gcmKernel(region, h, dst, src, j0, tagMask)
		burnStack()
	})
	return ok
}

func gcmKernel(region *Region, h *handle.Handle, dst, src []byte, j0, tagMask *[16]byte) bool {
	var dk schedule
	var m modeScratch
	ok := unwrapInto(region, h, &dk, true)
	if ok {
		c := *j0
		dk.ctrXOR(&m, dst, src, &c, true, tagMask)
	}
	wipeSchedule(&dk)
	wipeScratch(&m)
	return ok
}
