package testrng

import (
	"testing"
	"unsafe"

	"github.com/go-keylocker/keylocker/internal/kernel"
)

// TestOffsets: the offsets the generated assembly uses are State's.
func TestOffsets(t *testing.T) {
	var s State
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"X", unsafe.Offsetof(s.X), OffX},
		{"SeedFail", unsafe.Offsetof(s.SeedFail), OffSeedFail},
		{"RandFail", unsafe.Offsetof(s.RandFail), OffRandFail},
		{"Ones", unsafe.Offsetof(s.Ones), OffOnes},
		{"Seeds", unsafe.Offsetof(s.Seeds), OffSeeds},
		{"Rands", unsafe.Offsetof(s.Rands), OffRands},
	} {
		if c.got != c.want {
			t.Errorf("%s at offset %d, the constant says %d", c.name, c.got, c.want)
		}
	}
}

// TestSplitmix: the published first outputs of splitmix64 from state 0.
func TestSplitmix(t *testing.T) {
	want := []uint64{0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f}
	for i, w := range Words(0, 3) {
		if w != want[i] {
			t.Errorf("output %d = %#x, want %#x", i, w, want[i])
		}
	}
	k := Key(0, 16)
	if k[0] != 0xaf || k[7] != 0xe2 || k[8] != 0xf4 {
		t.Errorf("Key is not the words in little-endian order: %x", k)
	}
}

// TestDraw: the retry discipline of the model.
func TestDraw(t *testing.T) {
	both := kernel.RandRDSEED | kernel.RandRDRAND
	s := State{X: 7, SeedFail: kernel.RandSeedTries - 1}
	if w, ok := Draw(&s, both); !ok || w != Words(7, 1)[0] || s.Seeds != 1 || s.Rands != 0 {
		t.Errorf("RDSEED succeeding on its last try: %#x %v, %+v", w, ok, s)
	}
	s = State{X: 7, SeedFail: kernel.RandSeedTries}
	if w, ok := Draw(&s, both); !ok || w != Words(7, 1)[0] || s.Seeds != 0 || s.Rands != 1 {
		t.Errorf("RDSEED exhausted, RDRAND: %#x %v, %+v", w, ok, s)
	}
	s = State{X: 7, SeedFail: kernel.RandSeedTries, RandFail: kernel.RandRandTries}
	if _, ok := Draw(&s, both); ok {
		t.Errorf("both exhausted: a word")
	}
	s = State{X: 7, Ones: 3}
	if w, ok := Draw(&s, both); !ok || w != Words(7, 1)[0] || s.Seeds != 4 {
		t.Errorf("three all-ones words: %#x %v, %+v", w, ok, s)
	}
	s = State{X: 7}
	if w, ok := Draw(&s, kernel.RandRDRAND); !ok || w != Words(7, 1)[0] || s.Rands != 1 {
		t.Errorf("RDRAND only: %#x %v, %+v", w, ok, s)
	}
	if _, ok := Draw(&s, 0); ok {
		t.Errorf("no source: a word")
	}
}
