package fallback

import (
	"bytes"
	"testing"
	"testing/quick"

	"github.com/go-keylocker/keylocker/internal/handle"
)

func TestPolyvalRFC8452(t *testing.T) {
	var h [16]byte
	copy(h[:], unhex("25629347589242761d31f826ba4b757b"))
	var p polyval
	p.init(&h)
	p.update(unhex("4f4f95668c83dfb6401762bb2d01a262d1a24ddd2721d006bbe45f20d3c9f362"))
	if got := p.sum(); !bytes.Equal(got[:], unhex("f7a3b47b846119fae5b7866cf5e5b77e")) {
		t.Fatalf("POLYVAL = %x", got)
	}
}

func TestPolyvalVsReference(t *testing.T) {
	f := func(h [16]byte, data [8 * 16]byte, nb uint8) bool {
		b := data[:16*(int(nb)%9)]
		var ref handle.Polyval
		ref.Init(&h)
		ref.Update(b)
		var p polyval
		p.init(&h)
		p.update(b)
		return p.sum() == ref.Sum()
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 2000}); err != nil {
		t.Fatal(err)
	}
	// Edge values: all-ones operands exercise every carry position.
	var h [16]byte
	for i := range h {
		h[i] = 0xFF
	}
	blk := bytes.Repeat([]byte{0xFF}, 64)
	var ref handle.Polyval
	ref.Init(&h)
	ref.Update(blk)
	var p polyval
	p.init(&h)
	p.update(blk)
	if p.sum() != ref.Sum() {
		t.Fatal("all-ones mismatch")
	}
}

func TestBmul64(t *testing.T) {
	slow := func(x, y uint64) (hi, lo uint64) {
		for i := 0; i < 64; i++ {
			if y>>i&1 != 0 {
				lo ^= x << i
				if i > 0 {
					hi ^= x >> (64 - i)
				}
			}
		}
		return
	}
	f := func(x, y uint64) bool {
		h1, l1 := clmul(x, y)
		h2, l2 := slow(x, y)
		return h1 == h2 && l1 == l2
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 5000}); err != nil {
		t.Fatal(err)
	}
	if !f(^uint64(0), ^uint64(0)) {
		t.Fatal("all-ones clmul wrong")
	}
}
