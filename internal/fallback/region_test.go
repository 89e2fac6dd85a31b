package fallback

import (
	"testing"

	"github.com/go-keylocker/keylocker/internal/handle"
)

func TestWrapKeyOnce(t *testing.T) {
	r1, err := WrapKey()
	if err != nil {
		t.Fatal(err)
	}
	r2, err := WrapKey()
	if err != nil || r1 != r2 {
		t.Fatalf("second WrapKey: %p %p %v", r1, r2, err)
	}
	if wiped(r1) {
		t.Fatal("IK/EK are all zero")
	}
	for i, b := range r1[OffEK+32 : OffRoundEK] {
		if b != 0 {
			t.Fatalf("region[%d] = %#x, want 0", OffEK+32+i, b)
		}
	}
	st := Status()
	t.Logf("status: %+v", st)
	falses := 0
	for _, b := range []bool{st.Locked, st.DontDump, st.WipeOnFork, st.GuardPages, st.ReadOnly} {
		if !b {
			falses++
		}
	}
	if falses > 0 && len(st.Notes) == 0 {
		t.Fatalf("%d protections missing and no notes", falses)
	}
	// The generic path works with the real region.
	var h handle.Handle
	GenericEncodeKey(r1, make([]byte, 32), 0, &h)
	buf := make([]byte, 32)
	if !GenericEncrypt(r1, &h, buf, buf) || !GenericDecrypt(r1, &h, buf, buf) || buf[0] != 0 {
		t.Fatal("generic round trip on the real region failed")
	}
}
