//go:build amd64 && !purego

package sealed

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"unsafe"

	"github.com/go-keylocker/keylocker/internal/asm/asmtest"
	"github.com/go-keylocker/keylocker/internal/asm/ghash"
	"github.com/go-keylocker/keylocker/internal/guardtest"
	"github.com/go-keylocker/keylocker/internal/handle"
	"github.com/go-keylocker/keylocker/internal/kernel"
)

// TestGCMMessageLayout: GCMMessage's fields are where the kernel reads and
// writes them (internal/kernel's GCMMsg*).
func TestGCMMessageLayout(t *testing.T) {
	var m GCMMessage
	for _, f := range []struct {
		name      string
		got, want uintptr
	}{
		{"dst", unsafe.Offsetof(m.dst), kernel.GCMMsgDst},
		{"src", unsafe.Offsetof(m.src), kernel.GCMMsgSrc},
		{"n", unsafe.Offsetof(m.n), kernel.GCMMsgLen},
		{"J0", unsafe.Offsetof(m.J0), kernel.GCMMsgJ0},
		{"Acc", unsafe.Offsetof(m.Acc), kernel.GCMMsgAcc},
		{"Lens", unsafe.Offsetof(m.Lens), kernel.GCMMsgLens},
		{"size", unsafe.Sizeof(m), kernel.GCMMsgSize},
	} {
		if f.got != f.want {
			t.Errorf("%s at %d, the kernel uses %d", f.name, f.got, f.want)
		}
	}
}

// gcmMsgCase is one message of a SealedGCMMessages test and what it must
// produce.
type gcmMsgCase struct {
	dst, src []byte
	want     []byte   // the output
	tag      [16]byte // GHASH(acc0, ciphertext, lens) XOR E(J0)
	pad      int      // sentinel bytes after dst
}

// gcmMsgCases makes the messages of sizes with random J0 (some about to
// wrap), GHASH states and length blocks, and computes their results with
// crypto/aes and the xmm GHASH (gcmRef).
func gcmMsgCases(key []byte, hk *[16]byte, sizes []int, flags int, inPlace bool, r *rand.Rand) ([]GCMMessage, []gcmMsgCase) {
	msgs := make([]GCMMessage, len(sizes))
	cases := make([]gcmMsgCase, len(sizes))
	for i, size := range sizes {
		const pad = 65
		buf := bytes.Repeat([]byte{sealedSentinel}, size+pad)
		src := sealedRand(size)
		if inPlace {
			copy(buf, src)
			src = buf[:size]
		}
		m := &msgs[i]
		copy(m.J0[:], sealedRand(16))
		if r.IntN(3) == 0 {
			binary.BigEndian.PutUint32(m.J0[12:], 0xffffffff-uint32(r.IntN(40)))
		}
		if r.IntN(2) == 0 {
			copy(m.Acc[:], sealedRand(16))
		}
		copy(m.Lens[:], sealedRand(16))
		want, mask, acc := gcmRef(key, src, m.J0, m.Acc, hk, flags != 0)
		gcmAbsorb(hk, &acc, m.Lens[:])
		for j := range acc {
			acc[j] ^= mask[j]
		}
		m.SetData(buf[:size], src)
		cases[i] = gcmMsgCase{dst: buf, src: src, want: want, tag: acc, pad: pad}
	}
	return msgs, cases
}

// TestSealedGCMMessages checks SealedGCMMessages against crypto/aes and
// the xmm GHASH: every key size, both directions, separate and in place,
// batches of 1 to GCMMessagesMax messages of lengths from 0 to three
// batches (every tail length comes up), the counter wrapping in some:
// each output, nothing written past it, each tag, J0 and the length block
// kept.
func TestSealedGCMMessages(t *testing.T) {
	gcmRequireZmm(t)
	region, _ := sealedRegion(t, nil)
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{16, 24, 32} {
		key, h, hk, tbl := gcmKey(t, region, n)
		for try := range 60 {
			for _, flags := range []int{0, kernel.ModeDecrypt} {
				inPlace := try%2 == 1
				sizes := make([]int, 1+r.IntN(GCMMessagesMax))
				for i := range sizes {
					sizes[i] = r.IntN(3*GCMBatch + 1)
					if r.IntN(4) == 0 {
						sizes[i] = 4096 - 16 // a stream segment's ciphertext
					}
				}
				what := fmt.Sprintf("AES-%d flags %d in place %v sizes %v", 8*n, flags, inPlace, sizes)
				msgs, cases := gcmMsgCases(key, &hk, sizes, flags, inPlace, r)
				keep := append([]GCMMessage(nil), msgs...)
				if !SealedGCMMessages(region, h, msgs, &tbl, flags, PathVAES512) {
					t.Fatalf("%s: refused", what)
				}
				for i, c := range cases {
					size := len(c.want)
					if !bytes.Equal(c.dst[:size], c.want) {
						t.Fatalf("%s: message %d: output differs", what, i)
					}
					if !bytes.Equal(c.dst[size:], bytes.Repeat([]byte{sealedSentinel}, c.pad)) {
						t.Fatalf("%s: message %d: wrote past the output", what, i)
					}
					if msgs[i].Acc != c.tag {
						t.Fatalf("%s: message %d: wrong tag", what, i)
					}
					if msgs[i].J0 != keep[i].J0 || msgs[i].Lens != keep[i].Lens || msgs[i].n != keep[i].n {
						t.Fatalf("%s: message %d: J0, length block or length changed", what, i)
					}
				}
			}
		}
	}
}

// TestSealedGCMMessagesRejects: a changed handle, a no-encrypt handle or a
// path other than zmm: false, no output and no descriptor written; no
// messages with a good handle: true; SealedGCMMessages panics on another
// path and on more than GCMMessagesMax messages.
func TestSealedGCMMessagesRejects(t *testing.T) {
	gcmRequireZmm(t)
	region, _ := sealedRegion(t, nil)
	key := sealedRand(16)
	good := sealedWrap(t, region, key, 0)
	bad := *good
	bad[40] ^= 1
	noEnc := sealedWrap(t, region, key, handle.NoEncrypt)
	var tbl GHASHTable
	ghash.GHASHInit(new([16]byte), &tbl, PathVAES512)
	src := sealedRand(2*GCMBatch + 40)
	mk := func() ([]GCMMessage, []byte) {
		dst := bytes.Repeat([]byte{sealedSentinel}, len(src))
		msgs := make([]GCMMessage, 3)
		for i := range msgs {
			msgs[i].SetData(dst[i*100:], src[i*100:i*100+100+i*GCMBatch/2])
			msgs[i].Acc[0] = byte(i + 1)
		}
		return msgs, dst
	}
	for _, c := range []struct {
		what string
		h    *Handle
		path int
	}{{"changed handle", &bad, PathVAES512}, {"no-encrypt handle", noEnc, PathVAES512}, {"xmm path", good, PathAESNI}, {"ymm path", good, PathVAES256}, {"path 7", good, 7}} {
		for _, flags := range []int{0, kernel.ModeDecrypt} {
			msgs, dst := mk()
			keep := append([]GCMMessage(nil), msgs...)
			if sealedGCMMessages(region, c.h, &msgs[0], len(msgs), &tbl, flags, c.path) {
				t.Fatalf("%s: accepted", c.what)
			}
			if !bytes.Equal(dst, bytes.Repeat([]byte{sealedSentinel}, len(dst))) {
				t.Fatalf("%s: refused but wrote output", c.what)
			}
			for i := range msgs {
				if msgs[i] != keep[i] {
					t.Fatalf("%s: refused but changed descriptor %d", c.what, i)
				}
			}
		}
	}
	if !SealedGCMMessages(region, good, nil, &tbl, 0, PathVAES512) {
		t.Fatal("no messages: refused")
	}
	if SealedGCMMessages(region, &bad, nil, &tbl, 0, PathVAES512) {
		t.Fatal("no messages, changed handle: accepted")
	}
	for _, c := range []struct {
		what string
		n    int
		path int
	}{{"xmm path", 1, PathAESNI}, {"too many messages", GCMMessagesMax + 1, PathVAES512}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: did not panic", c.what)
				}
			}()
			SealedGCMMessages(region, good, make([]GCMMessage, c.n), &tbl, 0, c.path)
		}()
	}
	for _, c := range []struct {
		what     string
		dst, src []byte
	}{{"short dst", src[:10], src[:11]}, {"inexact overlap", src[1:20], src[:19]}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("SetData, %s: did not panic", c.what)
				}
			}()
			new(GCMMessage).SetData(c.dst, c.src)
		}()
	}
}

// TestSealedGCMMessagesGuardPages: the messages' masked tails touch
// nothing outside their src and dst, against an inaccessible page on
// either side.
func TestSealedGCMMessagesGuardPages(t *testing.T) {
	gcmRequireZmm(t)
	region, _ := sealedRegion(t, nil)
	key, h, hk, tbl := gcmKey(t, region, 16)
	for _, end := range []bool{true, false} {
		sizes := []int{1, 15, 17, 100, 511, GCMBatch + 1, 2*GCMBatch + 100}
		msgs := make([]GCMMessage, len(sizes))
		want := make([][]byte, len(sizes))
		dsts := make([][]byte, len(sizes))
		for i, size := range sizes {
			src := guardtest.Buffer(t, size, end)
			dst := guardtest.Buffer(t, size, end)
			copy(src, sealedRand(size))
			want[i], _, _ = gcmRef(key, src, msgs[i].J0, msgs[i].Acc, &hk, true)
			msgs[i].SetData(dst, src)
			dsts[i] = dst
		}
		if !SealedGCMMessages(region, h, msgs, &tbl, kernel.ModeDecrypt, PathVAES512) {
			t.Fatal("refused")
		}
		for i := range sizes {
			if !bytes.Equal(dsts[i], want[i]) {
				t.Fatalf("%d bytes at the end %v: wrong", sizes[i], end)
			}
		}
	}
}

// TestSealedGCMMessagesRegsClear: after sealedGCMMessages, for every key
// size and direction, with a good or a changed handle, Z0-Z31 are zero
// and neither the key nor a round key is left in the stack below the
// caller.
func TestSealedGCMMessagesRegsClear(t *testing.T) {
	gcmRequireZmm(t)
	asmtest.Escape(sealedGCMMessages)
	region, _ := sealedRegion(t, nil)
	var tbl GHASHTable
	ghash.GHASHInit(new([16]byte), &tbl, PathVAES512)
	for _, n := range []int{16, 24, 32} {
		key, _, h, _ := smKeys(t, region, n)
		bad := *h
		bad[20] ^= 1
		rks := sealedExpand(key)
		for _, flags := range []int{0, kernel.ModeDecrypt} {
			for _, hh := range []*Handle{h, &bad} {
				what := fmt.Sprintf("AES-%d flags %d good %v", 8*n, flags, hh == h)
				src := sealedRand(3*GCMBatch + 100)
				dst := make([]byte, len(src))
				msgs := make([]GCMMessage, 3)
				for i := range msgs {
					msgs[i].SetData(dst[i*GCMBatch:], src[i*GCMBatch:(i+1)*GCMBatch+i*50])
				}
				var out [48][64]byte
				w := []uint64{asmtest.Word(region), asmtest.Word(hh), asmtest.Word(&msgs[0]), uint64(len(msgs)), asmtest.Word(&tbl), uint64(flags), uint64(PathVAES512)}
				f := callZ(t, asmtest.CallABI0Z, "sealedGCMMessages", w, len(w)+1, &out)
				runtime.KeepAlive(region)
				runtime.KeepAlive(hh)
				runtime.KeepAlive(dst)
				runtime.KeepAlive(src)
				runtime.KeepAlive(msgs)
				if ok := f[len(w)]&0xFF != 0; ok != (hh == h) {
					t.Fatalf("%s: returned %v", what, ok)
				}
				gcmCheckClear(t, what, &out, hh == h, key, rks)
			}
		}
	}
}
