package kerneltest

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// SP 800-38D / GCM specification test case 2: H = E_0(0^128),
// C = 0388dace60b6a392f328c2b971b2fe78, GHASH(H, {}, C) =
// f38cbb1ad69223dcc3457ae5b6b0f885 (the length block included).
func TestGHASHKnownAnswer(t *testing.T) {
	var h, acc [16]byte
	hex.Decode(h[:], []byte("66e94bd4ef8a2c3b884cfa59ca342b2e"))
	c, _ := hex.DecodeString("0388dace60b6a392f328c2b971b2fe78")
	lens := make([]byte, 16)
	lens[15] = 128 // len(C) in bits, big-endian, after len(A) = 0
	GHASH(&h, &acc, append(c, lens...))
	want, _ := hex.DecodeString("f38cbb1ad69223dcc3457ae5b6b0f885")
	if !bytes.Equal(acc[:], want) {
		t.Fatalf("GHASH = %x, want %x", acc, want)
	}
}

// The doubling: 1 -> 2, the top bit wraps to 0x87 in the low byte, and the
// other bits shift across byte boundaries.
func TestXTSDouble(t *testing.T) {
	x := [16]byte{1}
	XTSDouble(&x)
	if x != ([16]byte{2}) {
		t.Fatalf("double(1) = %x", x)
	}
	y := [16]byte{15: 0x80}
	XTSDouble(&y)
	if y != ([16]byte{0x87}) {
		t.Fatalf("double(2^127) = %x, want 87 00..", y)
	}
	z := [16]byte{15: 0xC0, 0: 1}
	XTSDouble(&z)
	if z != ([16]byte{0: 0x85, 15: 0x80}) {
		t.Fatalf("double(2^127+2^126+1) = %x", z)
	}
}
