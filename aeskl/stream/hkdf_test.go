package stream

import (
	"bytes"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func seq(from, to int) []byte {
	var b []byte
	for i := from; i <= to; i++ {
		b = append(b, byte(i))
	}
	return b
}

// RFC 5869 appendix A, test cases 1 to 3 (SHA-256): PRK and the first 32
// bytes of OKM.
func TestHKDFRFC5869(t *testing.T) {
	cases := []struct {
		ikm, salt, info []byte
		prk, okm        string
	}{
		{bytes.Repeat([]byte{0x0b}, 22), seq(0x00, 0x0c), seq(0xf0, 0xf9),
			"077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
			"3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"},
		{seq(0x00, 0x4f), seq(0x60, 0xaf), seq(0xb0, 0xff),
			"06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
			"b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"},
		{bytes.Repeat([]byte{0x0b}, 22), nil, nil,
			"19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
			"8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"},
	}
	for i, c := range cases {
		var s hkdfState
		s.derive(c.ikm, c.salt, c.info)
		if !bytes.Equal(s.prk[:], unhex(t, c.prk)) {
			t.Errorf("case %d: PRK %x", i+1, s.prk)
		}
		if !bytes.Equal(s.okm[:], unhex(t, c.okm)) {
			t.Errorf("case %d: OKM %x", i+1, s.okm)
		}
	}
}

// The SHA-256 and HKDF here against crypto/sha256 and crypto/hkdf, across
// the padding boundaries (55, 56, 63, 64 bytes...) and HMAC keys longer
// than a block.
func TestHKDFAgainstStdlib(t *testing.T) {
	for n := 0; n <= 200; n++ {
		msg := make([]byte, n)
		rand.Read(msg)
		var d sha256State
		d.reset()
		d.write(msg[:n/3])
		d.write(msg[n/3:])
		var got [32]byte
		d.sum(&got)
		if want := sha256.Sum256(msg); got != want {
			t.Fatalf("SHA-256 of %d bytes: %x, want %x", n, got, want)
		}
		for _, saltLen := range []int{0, 16, 32, 64, 65, 100} {
			salt := make([]byte, saltLen)
			rand.Read(salt)
			ikm := msg[:min(n, 80)]
			if len(ikm) == 0 {
				ikm = []byte{1}
			}
			var s hkdfState
			s.derive(ikm, salt, msg)
			want, err := hkdf.Key(sha256.New, ikm, salt, string(msg), 32)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(s.okm[:], want) {
				t.Fatalf("HKDF ikm %d salt %d info %d bytes: %x, want %x", len(ikm), saltLen, n, s.okm, want)
			}
		}
	}
}
