//go:build amd64 && !purego

package kl

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/go-keylocker/keylocker/internal/handle"
)

// Inner halves of the klemu tests in kl_klemu_test.go. The outer test runs
// this binary under klemu with KLASM_INNER set; without it these skip.
//
//	KLASM_INNER=stats             run exactly one ENCODEKEY128 and one
//	                              EncryptKLWide128 over klStatsBlocks blocks
//	KLASM_INNER=rotate:FN:BLOCKS:N  under klemu --rotate-after=N: run routine
//	                              FN (index in klECBFuncs) over BLOCKS blocks;
//	                              the first N AES instructions succeed, the
//	                              (N+1)th meets the new IWKey and fails.
//	KLASM_INNER=zero-iwkey        under klemu --iwkey=zero: ENCODEKEY gives the
//	                              KLS spec vector and the reference wrap.
//	KLASM_INNER=info:V            ENCODEKEY128/256 must return info V.
const klInnerEnv = "KLASM_INNER"

const klStatsBlocks = 21 // 2 WIDE batches + 5 tail blocks

func TestKLStatsInner(t *testing.T) {
	if os.Getenv(klInnerEnv) != "stats" {
		t.Skipf("inner half of TestKeyLockerUnderKlemu/stats (%s=stats)", klInnerEnv)
	}
	klRequire(t, true)
	key := klRand(t, 16)
	h := klHandle(t, key, 0) // 1 encodekey128
	src := klRand(t, 16*klStatsBlocks)
	dst := make([]byte, len(src))
	if !EncryptKLWide128(h, dst, src) { // 2 aesencwide128kl + 5 aesenc128kl
		t.Fatal("EncryptKLWide128 returned false")
	}
	if !bytes.Equal(dst, klWant(t, key, true, src)) {
		t.Fatal("EncryptKLWide128: result differs from crypto/aes")
	}
}

// klInstrBlocks returns the number of blocks each AES instruction of an ECB
// call over n blocks covers, in order.
func klInstrBlocks(wide bool, n int) []int {
	var per []int
	if wide {
		for ; n >= 8; n -= 8 {
			per = append(per, 8)
		}
	}
	for ; n > 0; n-- {
		per = append(per, 1)
	}
	return per
}

// TestKLRotateInner checks the partial-write contract: when an instruction
// in the middle of a call fails, every block before it is stored and
// correct, the failing batch or block and everything after it is not
// written.
func TestKLRotateInner(t *testing.T) {
	spec, ok := strings.CutPrefix(os.Getenv(klInnerEnv), "rotate:")
	if !ok {
		t.Skipf("inner half of TestKeyLockerUnderKlemu/rotate (%s=rotate:FN:BLOCKS:N)", klInnerEnv)
	}
	var fnIdx, blocks, n int
	f := strings.Split(spec, ":")
	if len(f) != 3 {
		t.Fatalf("bad %s=%q", klInnerEnv, os.Getenv(klInnerEnv))
	}
	for i, p := range []*int{&fnIdx, &blocks, &n} {
		v, err := strconv.Atoi(f[i])
		if err != nil {
			t.Fatalf("bad %s=%q: %v", klInnerEnv, os.Getenv(klInnerEnv), err)
		}
		*p = v
	}
	fn := klECBFuncs[fnIdx]
	klRequire(t, fn.wide)
	key := klRand(t, fn.keyLen)
	h := klHandle(t, key, 0)
	src := klRand(t, 16*blocks)
	want := klWant(t, key, fn.encrypt, src)
	buf := klFilled(16*blocks + 16)
	gotOK := fn.f(h, buf[:16*blocks], src)

	per := klInstrBlocks(fn.wide, blocks)
	wantOK := len(per) <= n
	good := 0
	for i := 0; i < n && i < len(per); i++ {
		good += per[i]
	}
	what := fmt.Sprintf("%s over %d blocks, IWKey rotated after %d instructions", fn.name, blocks, n)
	if gotOK != wantOK {
		t.Fatalf("%s: returned %v, want %v", what, gotOK, wantOK)
	}
	if !bytes.Equal(buf[:16*good], want[:16*good]) {
		t.Errorf("%s: the %d blocks before the failure are not the crypto/aes result", what, good)
	}
	klCheckTail(t, what+": failing batch", buf[16*good:])
	t.Logf("%s: ok=%v, %d blocks stored, %d bytes untouched", what, gotOK, good, len(buf)-16*good)
}

// TestKLZeroIWKeyInner: with the all-zero IWKey the handles EncodeKey128/256
// store are exactly the reference wrap of internal/handle (so the key went
// from key[0:16] to X0 and key[16:32] to X1, and the handle from X0-X3 to
// h), and the all-zero AES-128 key gives the KLS spec vector.
func TestKLZeroIWKeyInner(t *testing.T) {
	if os.Getenv(klInnerEnv) != "zero-iwkey" {
		t.Skipf("inner half of TestKeyLockerUnderKlemu/zero-iwkey (%s=zero-iwkey)", klInnerEnv)
	}
	klRequire(t, false)
	var zero [16]byte
	var h Handle
	EncodeKey128(&zero, 0, &h)
	want, _ := hex.DecodeString("00000000000000000000000000000000" +
		"dc95c078a2408989ad48a21492842087" + "08c374848c228233c2b34f332bd2e9d3")
	if !bytes.Equal(h[:48], want) {
		t.Errorf("ENCODEKEY128 of the zero key under the zero IWKey:\n got %x\nwant %x (KLS spec vector)", h[:48], want)
	}
	var iw handle.IWKey
	supported := klRestrictionsSupported()
	for _, keyLen := range []int{16, 32} {
		for _, r := range []uint32{0, 1, 2, 4, 6} {
			if r&supported != r {
				continue
			}
			key := klRand(t, keyLen)
			h := klHandle(t, key, r)
			ref, err := handle.Wrap(&iw, r, key)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(h[:len(ref)], ref) {
				t.Errorf("AES-%d restrictions %d: handle\n got %x\nwant %x (handle.Wrap)", keyLen*8, r, h[:len(ref)], ref)
			}
			if len(ref) == 48 && !bytes.Equal(h[48:], make([]byte, 16)) {
				t.Errorf("AES-128: h[48:64] = %x, want zero", h[48:])
			}
		}
	}
}

// TestKLInfoInner: ENCODEKEY's destination register (IWKey.NoBackup in bit
// 0, IWKey.KeySource in bits 4:1) reaches the caller as info.
func TestKLInfoInner(t *testing.T) {
	v, ok := strings.CutPrefix(os.Getenv(klInnerEnv), "info:")
	if !ok {
		t.Skipf("inner half of TestKeyLockerUnderKlemu/info (%s=info:V)", klInnerEnv)
	}
	want, err := strconv.ParseUint(v, 0, 32)
	if err != nil {
		t.Fatal(err)
	}
	klRequire(t, false)
	var k [32]byte
	var h Handle
	if got := EncodeKey128((*[16]byte)(k[:16]), 0, &h); got != uint32(want) {
		t.Errorf("EncodeKey128 info = %#x, want %#x", got, want)
	}
	if got := EncodeKey256(&k, 0, &h); got != uint32(want) {
		t.Errorf("EncodeKey256 info = %#x, want %#x", got, want)
	}
}
