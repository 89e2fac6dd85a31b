package handle

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// RFC 8452 appendix A: POLYVAL test vector.
func TestPolyvalRFC8452(t *testing.T) {
	var h [16]byte
	copy(h[:], unhex("25629347589242761d31f826ba4b757b"))
	var p Polyval
	p.Init(&h)
	p.Update(unhex("4f4f95668c83dfb6401762bb2d01a262"))
	p.Update(unhex("d1a24ddd2721d006bbe45f20d3c9f362"))
	got := p.Sum()
	if want := unhex("f7a3b47b846119fae5b7866cf5e5b77e"); !bytes.Equal(got[:], want) {
		t.Fatalf("POLYVAL = %x, want %x", got, want)
	}
}

// Key Locker Specification p. 45: all-zero IWKey, ENCODEKEY128 of the zero
// key with no restrictions.
func TestSpecVector(t *testing.T) {
	var iw IWKey
	h, err := Wrap(&iw, 0, make([]byte, 16))
	if err != nil {
		t.Fatal(err)
	}
	want := unhex("00000000000000000000000000000000" +
		"dc95c078a2408989ad48a21492842087" +
		"08c374848c228233c2b34f332bd2e9d3")
	if !bytes.Equal(h, want) {
		t.Fatalf("handle\n got %x\nwant %x", h, want)
	}
	key, r, kt, err := Unwrap(&iw, h)
	if err != nil || r != 0 || kt != KeyTypeAES128 || !bytes.Equal(key, make([]byte, 16)) {
		t.Fatalf("unwrap: %x %d %d %v", key, r, kt, err)
	}
}

func randIW(t *testing.T) *IWKey {
	var iw IWKey
	rand.Read(iw.IK[:])
	rand.Read(iw.EK[:])
	return &iw
}

func TestRoundTripAndTamper(t *testing.T) {
	iw := randIW(t)
	for _, n := range []int{16, 24, 32} {
		key := make([]byte, n)
		rand.Read(key)
		for r := uint32(0); r < 8; r++ {
			h, err := Wrap(iw, r, key)
			if err != nil {
				t.Fatal(err)
			}
			if len(h) != SizeForKeyType(KeyType(n)) {
				t.Fatalf("len %d", len(h))
			}
			k2, r2, kt, err := Unwrap(iw, h)
			if err != nil || r2 != r || kt != KeyType(n) || !bytes.Equal(k2, key) {
				t.Fatalf("n=%d r=%d: %v", n, r, err)
			}
			// Every single-bit flip anywhere in the handle is rejected.
			for bit := 0; bit < 8*len(h); bit++ {
				h[bit/8] ^= 1 << (bit % 8)
				if _, _, _, err := Unwrap(iw, h); err == nil {
					t.Fatalf("n=%d: flip of bit %d accepted", n, bit)
				}
				h[bit/8] ^= 1 << (bit % 8)
			}
		}
		// Another IWKey (a reboot) rejects the handle.
		h, _ := Wrap(iw, 0, key)
		if _, _, _, err := Unwrap(randIW(t), h); !errors.Is(err, ErrAuth) {
			t.Fatalf("foreign IWKey: %v", err)
		}
	}
	if _, err := Wrap(iw, 0, make([]byte, 20)); err != ErrKeySize {
		t.Fatalf("bad key size: %v", err)
	}
}

func TestCheck(t *testing.T) {
	iw := randIW(t)
	h, _ := Wrap(iw, NoEncrypt, make([]byte, 16))
	if err := Check(h, KeyTypeAES128, true); err != ErrRestricted {
		t.Errorf("NoEncrypt encrypt: %v", err)
	}
	if err := Check(h, KeyTypeAES128, false); err != nil {
		t.Errorf("NoEncrypt decrypt: %v", err)
	}
	if err := Check(h, KeyTypeAES256, false); err != ErrKeyType {
		t.Errorf("key type: %v", err)
	}
	h, _ = Wrap(iw, CPL0Only, make([]byte, 32))
	if err := Check(h, KeyTypeAES256, true); err != ErrRestricted {
		t.Errorf("CPL0: %v", err)
	}
	for _, bit := range []int{3, 23, 28, 31, 32, 64, 127} {
		h, _ := Wrap(iw, 0, make([]byte, 16))
		h[bit/8] |= 1 << (bit % 8)
		if err := Check(h, KeyTypeAES128, true); err != ErrReserved {
			t.Errorf("reserved bit %d: %v", bit, err)
		}
	}
}
