//go:build amd64 && !purego

package fallback

import (
	"bytes"
	"crypto/rand"
	"testing"

	"github.com/go-keylocker/keylocker/internal/handle"

	"golang.org/x/sys/cpu"

	"github.com/go-keylocker/keylocker/internal/asm/sealed"
)

// The tests decide here what aeskl decides in a program: the region gets
// SealedInit's precomputation where the sealed assembly can run.
func init() {
	if cpu.X86.HasAES && cpu.X86.HasPCLMULQDQ && cpu.X86.HasSSSE3 && cpu.X86.HasSSE41 {
		SetPrecompute(sealed.SealedInit)
	}
}

// The real region carries SealedInit's precomputation (the EK schedule at
// 64..304; the POLYVAL powers and EK's decryption round keys after it), and the sealed assembly and the generic code agree on handles
// made under it.
func TestRegionPrecompAndSealedAgree(t *testing.T) {
	if !cpu.X86.HasAES || !cpu.X86.HasPCLMULQDQ {
		t.Skip("no AES-NI/PCLMULQDQ: SealedInit cannot run here")
	}
	r, err := WrapKey()
	if err != nil {
		t.Fatal(err)
	}
	var s schedule
	expandKey(&s, r[OffEK:OffEK+32])
	for i := 0; i <= 14; i++ {
		var rk [16]byte
		store16(rk[:], &s.rk[i], 0)
		if got := r[OffRoundEK+16*i : OffRoundEK+16*i+16]; !bytes.Equal(got, rk[:]) {
			t.Fatalf("region round key %d = %x, want %x", i, got, rk)
		}
	}
	for _, n := range []int{16, 24, 32} {
		key := make([]byte, n)
		rand.Read(key)
		var hg, ha handle.Handle
		GenericEncodeKey(r, key, 0, &hg)
		sealed.SealedEncodeKey(r, &key[0], n, 0, &ha)
		if hg != ha {
			t.Fatalf("AES-%d: generic handle %x, sealed handle %x", 8*n, hg, ha)
		}
		src := make([]byte, 5*16)
		rand.Read(src)
		dg, da := make([]byte, len(src)), make([]byte, len(src))
		if !GenericEncrypt(r, &hg, dg, src) || !sealed.SealedEncrypt(r, &ha, da, src, sealed.PathAESNI) || !bytes.Equal(dg, da) {
			t.Fatalf("AES-%d: generic and sealed encryption differ", 8*n)
		}
	}
}
