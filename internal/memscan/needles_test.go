package memscan

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"testing"
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// FIPS-197 appendix A key expansion examples: first derived and last words.
func TestExpandFIPS197AppendixA(t *testing.T) {
	for _, tc := range []struct {
		key, w, last string
		at           int
	}{
		{"2b7e151628aed2a6abf7158809cf4f3c", "a0fafe17", "b6630ca6", 4},
		{"8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b", "fe0c91f7", "01002202", 6},
		{"603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4", "9ba35411", "706c631e", 8},
	} {
		w := expand(unhex(tc.key))
		if got := hex.EncodeToString(w[4*tc.at : 4*tc.at+4]); got != tc.w {
			t.Errorf("key %s: w[%d] = %s, want %s", tc.key, tc.at, got, tc.w)
		}
		if got := hex.EncodeToString(w[len(w)-4:]); got != tc.last {
			t.Errorf("key %s: last word = %s, want %s", tc.key, got, tc.last)
		}
	}
}

func TestInvMixColumns(t *testing.T) {
	// MixColumns(db 13 53 45) = 8e 4d a1 bc, so InvMixColumns maps back.
	in := bytes.Repeat(unhex("8e4da1bc"), 4)
	if got := invMixColumns(in); !bytes.Equal(got, bytes.Repeat(unhex("db135345"), 4)) {
		t.Fatalf("InvMixColumns = %x", got)
	}
}

func TestNeedleSet(t *testing.T) {
	for _, n := range []int{16, 24, 32} {
		key := make([]byte, n)
		rand.Read(key)
		ns := NeedleSet(key)
		if !bytes.Equal(ns[0].Bytes, key) {
			t.Fatal("needle 0 is not the key")
		}
		nr := n/4 + 6
		// key (x2) + enc (nr+1, x2) + dec (nr-1, x2), minus duplicates of the key.
		want := 2 + 2*(nr+1) + 2*(nr-1)
		if n == 16 {
			want -= 2 // round key 0 is the key
		}
		if len(ns) != want {
			t.Errorf("AES-%d: %d needles, want %d", 8*n, len(ns), want)
		}
		if len(Needles(key)) != len(ns) {
			t.Error("Needles and NeedleSet disagree")
		}
	}
	if ns := NeedleSet(make([]byte, 16)); len(ns) == 0 || allEqual(ns[0].Bytes) {
		t.Error("all-zero key: the all-zero needle should be dropped")
	}
}

// The matcher finds needles across chunk boundaries exactly once.
func TestMatcherBoundaries(t *testing.T) {
	needles := [][]byte{unhex("00112233445566778899aabbccddeeff"), unhex("0011223344556677")}
	m := newMatcher(needles)
	for pos := 0; pos < 64; pos++ {
		buf := make([]byte, 96)
		copy(buf[pos:], needles[0])
		// Search in chunks of 40 with the carry logic of ScanDetailed.
		var hits [][2]int
		carry := 0
		work := make([]byte, 40+m.maxLen-1)
		for addr := 0; addr < len(buf); {
			n := min(40, len(buf)-addr)
			copy(work[carry:], buf[addr:addr+n])
			total := carry + n
			base := addr - carry
			m.search(work[:total], carry, func(ni, off int) { hits = append(hits, [2]int{ni, base + off}) })
			carry = min(m.maxLen-1, total)
			copy(work, work[total-carry:total])
			addr += n
		}
		if len(hits) != 2 || hits[0] != [2]int{0, pos} && hits[0] != [2]int{1, pos} || hits[0] == hits[1] {
			t.Fatalf("pos %d: hits %v", pos, hits)
		}
	}
}
