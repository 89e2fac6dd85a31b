package fallback

import (
	"bytes"
	"crypto/aes"
	"crypto/rand"
	"fmt"
	"testing"
	"testing/quick"

	"github.com/go-keylocker/keylocker/internal/handle"
)

func testRegion(t testing.TB) (*Region, *handle.IWKey) {
	var r Region
	rand.Read(r[:48])
	iw := &handle.IWKey{}
	copy(iw.IK[:], r[0:16])
	copy(iw.EK[:], r[16:48])
	return &r, iw
}

// The KLS p. 45 vector through GenericEncodeKey with an all-zero region.
func TestGenericSpecVector(t *testing.T) {
	var r Region
	var h handle.Handle
	GenericEncodeKey(&r, make([]byte, 16), 0, &h)
	want := unhex("00000000000000000000000000000000" +
		"dc95c078a2408989ad48a21492842087" +
		"08c374848c228233c2b34f332bd2e9d3")
	if !bytes.Equal(h[:48], want) || !bytes.Equal(h[48:], make([]byte, 16)) {
		t.Fatalf("handle\n got %x\nwant %x", h, want)
	}
}

func ecbRef(key, src []byte, decrypt bool) []byte {
	c, _ := aes.NewCipher(key)
	out := make([]byte, len(src))
	for i := 0; i < len(src); i += 16 {
		if decrypt {
			c.Decrypt(out[i:], src[i:])
		} else {
			c.Encrypt(out[i:], src[i:])
		}
	}
	return out
}

// Handles made by handle.Wrap work in GenericEncrypt/Decrypt, handles made
// by GenericEncodeKey unwrap with handle.Unwrap, for every key size and
// restriction combination.
func TestGenericHandleCompat(t *testing.T) {
	r, iw := testRegion(t)
	for _, n := range []int{16, 24, 32} {
		for restr := uint32(0); restr < 8; restr++ {
			key := make([]byte, n)
			rand.Read(key)
			// GenericEncodeKey -> handle.Unwrap
			var h handle.Handle
			GenericEncodeKey(r, key, restr, &h)
			size := handle.SizeForKeyType(handle.KeyType(n))
			k2, r2, kt, err := handle.Unwrap(iw, h[:size])
			if err != nil || r2 != restr || kt != handle.KeyType(n) || !bytes.Equal(k2, key) {
				t.Fatalf("n=%d r=%d: handle.Unwrap of GenericEncodeKey: %v", n, restr, err)
			}
			// Same bytes as handle.Wrap (the wrap is deterministic).
			ref, _ := handle.Wrap(iw, restr, key)
			if !bytes.Equal(ref, h[:size]) {
				t.Fatalf("n=%d: GenericEncodeKey = %x, handle.Wrap = %x", n, h[:size], ref)
			}
			// handle.Wrap -> GenericEncrypt/Decrypt
			var h2 handle.Handle
			copy(h2[:], ref)
			src := make([]byte, 16*7)
			rand.Read(src)
			dst := make([]byte, len(src))
			// The kernels apply the restrictions themselves.
			canEnc := restr&(handle.CPL0Only|handle.NoEncrypt) == 0
			canDec := restr&(handle.CPL0Only|handle.NoDecrypt) == 0
			if GenericEncrypt(r, &h2, dst, src) != canEnc {
				t.Fatalf("n=%d r=%d: GenericEncrypt accepted = %v, want %v", n, restr, !canEnc, canEnc)
			}
			if !canEnc {
				copy(dst, ecbRef(key, src, false))
			} else if want := ecbRef(key, src, false); !bytes.Equal(dst, want) {
				t.Fatalf("n=%d: GenericEncrypt wrong", n)
			}
			if ok := GenericDecrypt(r, &h2, dst, dst); ok != canDec || ok && !bytes.Equal(dst, src) {
				t.Fatalf("n=%d r=%d: GenericDecrypt in place: accepted %v (want %v) or wrong", n, restr, ok, canDec)
			}
		}
	}
}

// Random differential: 0..40 blocks, separate and in place.
func TestGenericDifferential(t *testing.T) {
	r, _ := testRegion(t)
	for _, n := range []int{16, 24, 32} {
		f := func(key [32]byte, data [40 * 16]byte, nb uint8) bool {
			src := data[:16*(int(nb)%41)]
			var h handle.Handle
			GenericEncodeKey(r, key[:n], 0, &h)
			got := make([]byte, len(src))
			if !GenericEncrypt(r, &h, got, src) || !bytes.Equal(got, ecbRef(key[:n], src, false)) {
				return false
			}
			if !GenericDecrypt(r, &h, got, got) || !bytes.Equal(got, src) {
				return false
			}
			in := bytes.Clone(src)
			if !GenericDecrypt(r, &h, in, in) || !bytes.Equal(in, ecbRef(key[:n], src, true)) {
				return false
			}
			return true
		}
		if err := quick.Check(f, &quick.Config{MaxCount: 50}); err != nil {
			t.Errorf("AES-%d: %v", 8*n, err)
		}
	}
}

// Every single-bit flip in the handle, and a different region, make the
// operation fail without touching dst.
func TestGenericTamper(t *testing.T) {
	r, _ := testRegion(t)
	for _, n := range []int{16, 24, 32} {
		key := make([]byte, n)
		rand.Read(key)
		var h handle.Handle
		GenericEncodeKey(r, key, 0, &h)
		size := handle.SizeForKeyType(handle.KeyType(n))
		src := make([]byte, 64)
		rand.Read(src)
		sentinel := bytes.Repeat([]byte{0xA5}, len(src))
		dst := make([]byte, len(src))
		for bit := 0; bit < 8*size; bit++ {
			h[bit/8] ^= 1 << (bit % 8)
			for _, dec := range []bool{false, true} {
				copy(dst, sentinel)
				var ok bool
				if dec {
					ok = GenericDecrypt(r, &h, dst, src)
				} else {
					ok = GenericEncrypt(r, &h, dst, src)
				}
				if ok || !bytes.Equal(dst, sentinel) {
					t.Fatalf("n=%d bit %d dec=%v: ok=%v, dst touched=%v", n, bit, dec, ok, !bytes.Equal(dst, sentinel))
				}
			}
			h[bit/8] ^= 1 << (bit % 8)
		}
		// Another IWKey.
		r2, _ := testRegion(t)
		copy(dst, sentinel)
		if GenericEncrypt(r2, &h, dst, src) || !bytes.Equal(dst, sentinel) {
			t.Fatalf("n=%d: handle accepted under another IWKey", n)
		}
		// In place: src must be left as it was.
		h[40] ^= 1
		buf := bytes.Clone(src)
		if GenericEncrypt(r, &h, buf, buf) || !bytes.Equal(buf, src) {
			t.Fatalf("n=%d: in-place failure modified the buffer", n)
		}
		h[40] ^= 1
	}
}

// AES-192 (key type 2): the handle unwraps with handle.Unwrap, and a flip
// in the wrapped padding is refused.
func TestGenericAES192Padding(t *testing.T) {
	r, iw := testRegion(t)
	key := make([]byte, 24)
	rand.Read(key)
	var h handle.Handle
	GenericEncodeKey(r, key, 0, &h)
	if _, _, kt, err := handle.Unwrap(iw, h[:]); err != nil || kt != handle.KeyTypeAES192 {
		t.Fatalf("AES-192 handle: %v %d", err, kt)
	}
	// Flip a padding byte of the wrapped key: tag and padding check fail.
	h[63] ^= 1
	dst := make([]byte, 16)
	if GenericEncrypt(r, &h, dst, make([]byte, 16)) {
		t.Fatal("tampered AES-192 padding accepted")
	}
}

func TestGenericBadKeyType(t *testing.T) {
	r, _ := testRegion(t)
	var h handle.Handle
	GenericEncodeKey(r, make([]byte, 16), 0, &h)
	for _, mod := range []func(*handle.Handle){
		func(h *handle.Handle) { h[3] = 3 },     // key type 3
		func(h *handle.Handle) { h[1] = 1 },     // reserved bit 8
		func(h *handle.Handle) { h[15] = 0x80 }, // bit 127
	} {
		h2 := h
		mod(&h2)
		if GenericEncrypt(r, &h2, make([]byte, 16), make([]byte, 16)) {
			t.Fatal("bad metadata accepted")
		}
	}
}

func TestGenericPanics(t *testing.T) {
	r, _ := testRegion(t)
	var h handle.Handle
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no panic", name)
			}
		}()
		f()
	}
	mustPanic("key 20", func() { GenericEncodeKey(r, make([]byte, 20), 0, &h) })
	mustPanic("restriction 8", func() { GenericEncodeKey(r, make([]byte, 16), 8, &h) })
	GenericEncodeKey(r, make([]byte, 16), 0, &h)
	mustPanic("partial block", func() { GenericEncrypt(r, &h, make([]byte, 32), make([]byte, 17)) })
	mustPanic("short dst", func() { GenericDecrypt(r, &h, make([]byte, 16), make([]byte, 32)) })
}

// No allocation in the generic path: every secret stays in stack arrays.
func TestGenericNoAlloc(t *testing.T) {
	r, _ := testRegion(t)
	var h handle.Handle
	key := make([]byte, 32)
	buf := make([]byte, 64)
	if n := testing.AllocsPerRun(20, func() { GenericEncodeKey(r, key, 0, &h) }); n != 0 {
		t.Errorf("GenericEncodeKey allocates %v times", n)
	}
	if n := testing.AllocsPerRun(20, func() { GenericEncrypt(r, &h, buf, buf) }); n != 0 {
		t.Errorf("GenericEncrypt allocates %v times", n)
	}
}

func BenchmarkGenericEncrypt(b *testing.B) {
	r, _ := testRegion(b)
	for _, n := range []int{16, 32} {
		for _, size := range []int{16, 4096} {
			var h handle.Handle
			GenericEncodeKey(r, make([]byte, n), 0, &h)
			buf := make([]byte, size)
			b.Run(fmt.Sprintf("AES-%d/%dB", 8*n, size), func(b *testing.B) {
				b.SetBytes(int64(size))
				for b.Loop() {
					GenericEncrypt(r, &h, buf, buf)
				}
			})
		}
	}
}
