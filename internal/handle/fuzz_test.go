package handle

import (
	"bytes"
	"testing"
)

// specMeta decodes a handle's metadata bit by bit as the Key Locker
// specification lays it out (bits 2:0 restrictions, 27:24 key type, every
// other bit of the 128 reserved; key types 0, 1 and this project's 2), as
// the independent reference for ParseMeta.
func specMeta(h []byte) (restrictions uint32, kt int, ok bool) {
	if len(h) < 16 {
		return 0, 0, false
	}
	for bit := 0; bit < 128; bit++ {
		set := h[bit/8]>>(bit%8)&1 == 1
		switch {
		case bit <= 2:
			if set {
				restrictions |= 1 << bit
			}
		case bit >= 24 && bit <= 27:
			if set {
				kt |= 1 << (bit - 24)
			}
		default:
			if set {
				return 0, 0, false
			}
		}
	}
	return restrictions, kt, kt <= 2
}

// FuzzParse: the parser on any bytes, differential against specMeta:
// ParseMeta decodes what the specification's layout says and refuses what
// it reserves; Check applies the instruction's rules to it; Unwrap never
// panics and accepts only what Wrap makes (re-wrapping what it returns gives
// the same bytes). Wrap and Unwrap round trip any key, and a handle changed
// in any one bit is refused (unless IK is zero: POLYVAL under a zero key
// authenticates nothing, which the specification's own check vector uses).
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, h, iwBytes, key []byte, restrictions uint32, flip uint16, wantKT uint8, encrypt bool) {
		var iw IWKey
		n := copy(iw.IK[:], iwBytes)
		copy(iw.EK[:], iwBytes[n:])

		r, kt, err := ParseMeta(h)
		sr, skt, ok := specMeta(h)
		if (err == nil) != ok || ok && (r != sr || kt != skt) {
			t.Fatalf("ParseMeta(%x) = %d, %d, %v; the specification's layout: %d, %d, ok %v", h[:min(len(h), 16)], r, kt, err, sr, skt, ok)
		}
		if len(h) < MetaSize && err != ErrLength {
			t.Fatalf("ParseMeta of %d bytes: %v, want ErrLength", len(h), err)
		}

		want := ok && skt == int(wantKT) && len(h) >= SizeForKeyType(skt) && sr&CPL0Only == 0 &&
			!(encrypt && sr&NoEncrypt != 0) && !(!encrypt && sr&NoDecrypt != 0)
		if got := Check(h, int(wantKT), encrypt); (got == nil) != want {
			t.Fatalf("Check(%x, %d, encrypt %v) = %v, want accepted %v", h[:min(len(h), 16)], wantKT, encrypt, got, want)
		}

		if k, ur, ukt, err := Unwrap(&iw, h); err == nil {
			if !ok || ukt != skt || ur != sr || len(h) != SizeForKeyType(skt) || KeyType(len(k)) != skt {
				t.Fatalf("Unwrap accepted %x as key type %d (%d-byte key), restrictions %d", h, ukt, len(k), ur)
			}
			again, err := Wrap(&iw, ur, k)
			if err != nil || !bytes.Equal(again, h) {
				t.Fatalf("Unwrap accepted %x, which Wrap does not make (it makes %x, %v)", h, again, err)
			}
		}

		w, err := Wrap(&iw, restrictions, key)
		if KeyType(len(key)) < 0 {
			if err != ErrKeySize {
				t.Fatalf("Wrap of a %d-byte key: %v, want ErrKeySize", len(key), err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		k, ur, ukt, err := Unwrap(&iw, w)
		if err != nil || !bytes.Equal(k, key) || ur != restrictions&RestrictionMask || ukt != KeyType(len(key)) {
			t.Fatalf("Unwrap(Wrap(%d-byte key, restrictions %d)) = %x, %d, %d, %v", len(key), restrictions, k, ur, ukt, err)
		}
		if iw.IK == ([16]byte{}) {
			return
		}
		bit := int(flip) % (8 * len(w))
		w[bit/8] ^= 1 << (bit % 8)
		if _, _, _, err := Unwrap(&iw, w); err == nil {
			t.Fatalf("a handle with bit %d changed was accepted", bit)
		}
	})
}
