//go:build amd64 && !purego

package aeskl

import (
	"crypto/subtle"
	"encoding/binary"

	asmghash "github.com/go-keylocker/keylocker/internal/asm/ghash"
	"github.com/go-keylocker/keylocker/internal/asm/kl"
	"github.com/go-keylocker/keylocker/internal/asm/sealed"
	"github.com/go-keylocker/keylocker/internal/fallback"
	"github.com/go-keylocker/keylocker/internal/gcmbatch"
	"github.com/go-keylocker/keylocker/internal/handle"
)

const hasAsm = true

func buildDesc() string { return "amd64" }

// Key Locker: the CPU applies the handle's rules (restrictions, key type,
// integrity) and the assembly checks ZF after every instruction.
// aesni-sealed: the assembly unwraps the handle in registers and applies
// every rule itself. Generic: impl.go.

func (b *backend) encodeKey(key []byte, r uint32, h *handle.Handle) {
	switch b.impl {
	case KeyLockerWide, KeyLocker:
		if len(key) == 16 {
			kl.EncodeKey128((*[16]byte)(key), r, h)
		} else {
			kl.EncodeKey256((*[32]byte)(key), r, h)
		}
	case AESNISealed:
		sealed.SealedEncodeKey(b.region, &key[0], len(key), r, h)
	default:
		fallback.GenericEncodeKey(b.region, key, r, h)
	}
}

// encodeRandom makes h from a random key of keyLen bytes XOR ent[:keyLen]
// drawn inside the routine (NewRandom); sources says which of RDSEED and
// RDRAND the assembly may execute.
func (b *backend) encodeRandom(keyLen int, r uint32, ent *[32]byte, sources int, h *handle.Handle) error {
	var ok bool
	switch b.impl {
	case KeyLockerWide, KeyLocker:
		if keyLen == 16 {
			_, ok = kl.EncodeRandom128(r, (*[16]byte)(ent[:16]), sources, h)
		} else {
			_, ok = kl.EncodeRandom256(r, ent, sources, h)
		}
	case AESNISealed:
		ok = sealed.SealedEncodeRandom(b.region, keyLen, r, ent, sources, h)
	default:
		return genericEncodeRandom(b.region, keyLen, r, ent, h)
	}
	if !ok {
		return ErrRandomSource
	}
	return nil
}

func (b *backend) encrypt(h *handle.Handle, dst, src []byte) bool {
	switch b.impl {
	case KeyLockerWide:
		if b.flags&modeKey256 != 0 {
			return kl.EncryptKLWide256(h, dst, src)
		}
		return kl.EncryptKLWide128(h, dst, src)
	case KeyLocker:
		if b.flags&modeKey256 != 0 {
			return kl.EncryptKL256(h, dst, src)
		}
		return kl.EncryptKL128(h, dst, src)
	case AESNISealed:
		return sealed.SealedEncrypt(b.region, h, dst, src, b.path)
	}
	return b.genericEncrypt(h, dst, src)
}

func (b *backend) decrypt(h *handle.Handle, dst, src []byte) bool {
	switch b.impl {
	case KeyLockerWide:
		if b.flags&modeKey256 != 0 {
			return kl.DecryptKLWide256(h, dst, src)
		}
		return kl.DecryptKLWide128(h, dst, src)
	case KeyLocker:
		if b.flags&modeKey256 != 0 {
			return kl.DecryptKL256(h, dst, src)
		}
		return kl.DecryptKL128(h, dst, src)
	case AESNISealed:
		return sealed.SealedDecrypt(b.region, h, dst, src, b.path)
	}
	return b.genericDecrypt(h, dst, src)
}

func (b *backend) ctr(h *handle.Handle, dst, src []byte, ctr *[16]byte, f int) bool {
	switch b.impl {
	case KeyLockerWide, KeyLocker:
		return kl.KLCTR(h, dst, src, ctr, f)
	case AESNISealed:
		return sealed.SealedCTR(b.region, h, dst, src, ctr, f, b.path)
	}
	return b.genericCTR(h, dst, src, ctr, f)
}

func (b *backend) cbcEncrypt(h *handle.Handle, dst, src []byte, iv *[16]byte, f int) bool {
	switch b.impl {
	case KeyLockerWide, KeyLocker:
		return kl.KLCBCEncrypt(h, dst, src, iv, f)
	case AESNISealed:
		return sealed.SealedCBCEncrypt(b.region, h, dst, src, iv, f, b.path)
	}
	return b.genericCBCEncrypt(h, dst, src, iv, f)
}

func (b *backend) cbcDecrypt(h *handle.Handle, dst, src []byte, iv *[16]byte, f int) bool {
	switch b.impl {
	case KeyLockerWide, KeyLocker:
		return kl.KLCBCDecrypt(h, dst, src, iv, f)
	case AESNISealed:
		return sealed.SealedCBCDecrypt(b.region, h, dst, src, iv, f, b.path)
	}
	return b.genericCBCDecrypt(h, dst, src, iv, f)
}

func (b *backend) xts(h, ht *handle.Handle, dst, src []byte, t *[16]byte, f int) bool {
	switch b.impl {
	case KeyLockerWide, KeyLocker:
		return kl.KLXTS(h, ht, dst, src, t, f)
	case AESNISealed:
		return sealed.SealedXTS(b.region, h, ht, dst, src, t, f, b.path)
	}
	return b.genericXTS(h, ht, dst, src, t, f)
}

// xtsSectors runs XTS over the consecutive sectors of size bytes in src,
// sector i numbered first+i*stride (tweak: the number as 16 little-endian
// bytes, encrypted under ht). len(src) is a multiple of size, size a
// positive multiple of 16.
func (b *backend) xtsSectors(h, ht *handle.Handle, dst, src []byte, first, stride uint64, size, f int) bool {
	switch b.impl {
	case AESNISealed:
		return b.sealedXTSSectors(h, ht, dst, src, first, stride, size, f)
	case KeyLockerWide, KeyLocker:
		for off := 0; off < len(src); off += size {
			t := sectorTweak(first)
			ok := b.xts(h, ht, dst[off:off+size], src[off:off+size], &t, f)
			clear(t[:]) // the encrypted tweak: derived from the tweak key
			if !ok {
				return false
			}
			first += stride
		}
		return true
	}
	return b.genericXTSSectors(h, ht, dst, src, first, stride, size, f)
}

// sectorGroup is how many sector tweaks the sealed path encrypts in one
// ECB call with the tweak handle (one unwrap of the tweak key per group).
const sectorGroup = 128

// sealedXTSSectors encrypts the tweaks of up to sectorGroup sectors at a
// time with one ECB call under the tweak handle, then runs those sectors
// in one SealedXTSSectors call (one unwrap of the data key). The encrypted
// tweaks are derived from the tweak key: they are cleared before it
// returns.
func (b *backend) sealedXTSSectors(h, ht *handle.Handle, dst, src []byte, first, stride uint64, size, f int) bool {
	var tw [sectorGroup * 16]byte
	defer clear(tw[:])
	for off := 0; off < len(src); {
		g := min(sectorGroup, (len(src)-off)/size)
		putSectorTweaks(tw[:16*g], first, stride)
		if !b.encrypt(ht, tw[:16*g], tw[:16*g]) {
			return false
		}
		n := g * size
		if !sealed.SealedXTSSectors(b.region, h, dst[off:off+n], src[off:off+n], &tw[0], size, f, b.path) {
			return false
		}
		off += n
		first += uint64(g) * stride
	}
	return true
}

// putSectorTweaks writes the plain tweaks of len(tw)/16 sectors numbered
// from first by stride: each number as 16 little-endian bytes, written in
// place (a [16]byte temporary would be stored in halves and reloaded whole,
// a failed store forwarding per sector).
func putSectorTweaks(tw []byte, first, stride uint64) {
	for ; len(tw) >= 16; tw = tw[16:] {
		binary.LittleEndian.PutUint64(tw, first)
		binary.LittleEndian.PutUint64(tw[8:], 0)
		first += stride
	}
}

func (b *backend) gcmCTR(h *handle.Handle, dst, src []byte, j0, mask *[16]byte, f int) bool {
	switch b.impl {
	case KeyLockerWide, KeyLocker:
		return kl.KLGCMCTR(h, dst, src, j0, mask, f)
	case AESNISealed:
		return sealed.SealedGCMCTR(b.region, h, dst, src, j0, mask, f, b.path)
	}
	return b.genericGCMCTR(h, dst, src, j0, mask, f)
}

// gcmFuses reports whether a message of n bytes goes through gcmFused:
// where the backend has a fused GCM kernel (the sealed zmm path, whose
// GHASH table g is the zmm one) and n is at least a batch. Shorter
// messages take the keystream kernel and one GHASH call over the gathered
// associated data, ciphertext and length block (gcm.crypt and gcm.auth):
// also one unwrap, no batch of keystream computed for a few blocks, and
// measured as fast or faster there (BenchmarkSealedModesGCM at 64 and 256
// bytes).
func (b *backend) gcmFuses(g *ghash, n int) bool {
	return b.impl == AESNISealed && b.path == sealed.PathVAES512 && g.g == nil && n >= sealed.GCMBatch
}

// gcmFused runs GCM's keystream and GHASH in one pass over src (any
// length, a partial last block included): it stores E(*j0) in *mask,
// writes dst from the keystream from inc32(*j0) on and absorbs the
// ciphertext (dst, or src with f&modeDecrypt), zero-padded to whole
// blocks, then the length block *lens into *acc; false if the handle was
// refused. Up to chunk bytes take one kernel call (one unwrap).
func (b *backend) gcmFused(h *handle.Handle, dst, src []byte, j0, mask *[16]byte, g *ghash, acc, lens *[16]byte, f int) bool {
	// Calls of at most chunk bytes (whole batches but the last); each
	// stores E(its counter) as the tag mask: the first one's is E(j0), the
	// others' are scratch.
	ctr := *j0
	var scratch [16]byte
	defer clear(scratch[:])
	for off := 0; off < len(src); {
		m := min(len(src)-off, chunk)
		mk, ls := mask, lens
		if off > 0 {
			mk = &scratch
		}
		if off+m < len(src) {
			ls = nil // the length block ends the last call
		}
		if !sealed.SealedGCM(b.region, h, dst[off:off+m], src[off:off+m], &ctr, mk, &g.t, acc, ls, f, b.path) {
			return false
		}
		inc32(&ctr, uint32(m/16))
		off += m
	}
	return true
}

// gcmBatches reports whether the backend runs GCM over several messages
// in one kernel call (gcmBatch): the sealed zmm path, with the zmm GHASH
// table.
func (b *backend) gcmBatches(g *ghash) bool {
	return b.impl == AESNISealed && b.path == sealed.PathVAES512 && g.g == nil
}

// gcmBatch runs a run of msgs, from msgs[0] (batchable) on, through one
// kernel call (one unwrap): up to sealed.GCMMessagesMax batchable
// messages with at most chunk bytes of data in all (the first always
// goes). Sealing, it puts each tag after its ciphertext; opening, it
// compares each tag. It returns the run's length k, the index of the
// first message whose tag did not match (opening; k if none: the
// plaintext of that message and of every later one of the run is zeroed)
// and false if the handle was refused (nothing was written). The
// descriptors, which hold the tags, are cleared before it returns.
func (g *gcm) gcmBatch(msgs []gcmbatch.Msg, seal bool) (k, failed int, ok bool) {
	b := &g.c.b
	h := g.c.hp()
	tag := g.tagSize
	if seal {
		tag = 0 // the data is all of Src
	}
	var ms [sealed.GCMMessagesMax]sealed.GCMMessage
	total := 0
	for k < len(ms) && k < len(msgs) {
		m := &msgs[k]
		if k > 0 && !g.batchable(m, seal) {
			break
		}
		n := len(m.Src) - tag
		if k > 0 && total+n > chunk {
			break
		}
		total += n
		d := &ms[k]
		d.SetData(m.Dst[:n], m.Src[:n])
		copy(d.J0[:], m.Nonce[:])
		d.J0[15] = 1
		binary.BigEndian.PutUint64(d.Lens[8:], uint64(n)*8)
		k++
	}
	defer clear(ms[:k])
	f := b.flags
	if !seal {
		f |= modeDecrypt
	}
	if !sealed.SealedGCMMessages(b.region, h, ms[:k], &g.gh.t, f, b.path) {
		return k, k, false
	}
	failed = k
	for i := range k {
		m := &msgs[i]
		n := len(m.Src) - tag
		if seal {
			copy(m.Dst[n:n+g.tagSize], ms[i].Acc[:])
			continue
		}
		if failed == k && subtle.ConstantTimeCompare(ms[i].Acc[:g.tagSize], m.Src[n:]) != 1 {
			failed = i
		}
		if i >= failed {
			clear(m.Dst[:n])
		}
	}
	return k, failed, true
}

// ghash is GHASH under one key: PCLMULQDQ / VPCLMULQDQ assembly shared by
// the amd64 implementations, the constant-time Go GHASH for generic.
type ghash struct {
	t asmghash.GHASHTable
	g *fallback.GHASH
}

// setupRegion gives the wrapping key region the sealed assembly's
// precomputation where the sealed implementation can run.
func setupRegion(s *Support) {
	if unavailable(s, AESNISealed, 16, 0) == "" {
		fallback.SetPrecompute(sealed.SealedInit)
	}
}

// The assembly needs PCLMULQDQ (and SSSE3), which a Key Locker CPU need not
// report; then the Go GHASH serves. GHASH runs the sealed backend's path
// (so forcing a sealed path forces GHASH's too), and for Key Locker the
// widest path the CPU supports: one decision, from Support.
func (b *backend) newGHASH(h *[16]byte) *ghash {
	g := new(ghash)
	s := detect()
	if b.impl == Generic || !s.PCLMULQDQ || !s.SSSE3 {
		g.g = fallback.NewGHASH(h)
		return g
	}
	path := b.path
	if b.impl != AESNISealed {
		path = s.sealedPath()
	}
	asmghash.GHASHInit(h, &g.t, path)
	return g
}

func (g *ghash) update(acc *[16]byte, data []byte) {
	if g.g != nil {
		g.g.Update(acc, data)
		return
	}
	asmghash.GHASHUpdate(&g.t, acc, data)
}
