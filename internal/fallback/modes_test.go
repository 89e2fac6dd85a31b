package fallback

// The kernels' results (every kernel, key size and block count, in place,
// chained, counter wrap, rejected handles) are checked on every
// implementation by aeskl's conformance suite (kernel_conformance_test.go);
// this file checks what is particular to the generic code.

import (
	"crypto/rand"
	"fmt"
	"testing"

	"github.com/go-keylocker/keylocker/internal/handle"
)

func newHandle(t *testing.T, r *Region, key []byte) *handle.Handle {
	var h handle.Handle
	GenericEncodeKey(r, key, 0, &h)
	return &h
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func TestGenericModesNoAlloc(t *testing.T) {
	r, _ := testRegion(t)
	h := newHandle(t, r, randBytes(32))
	buf := make([]byte, 256)
	var st, st2 [16]byte
	for name, f := range map[string]func(){
		"CTR":    func() { GenericCTR(r, h, buf, buf, &st, 0) },
		"CBCEnc": func() { GenericCBCEncrypt(r, h, buf, buf, &st, 0) },
		"CBCDec": func() { GenericCBCDecrypt(r, h, buf, buf, &st, 0) },
		"XTS":    func() { GenericXTS(r, h, h, buf, buf, &st, 0) },
		"GCMCTR": func() { GenericGCMCTR(r, h, buf, buf, &st, &st2, ModeInc32) },
		"XTSSectors": func() {
			GenericXTSSectors(r, h, h, buf, buf, 7, 1, 64, 0)
		},
	} {
		if n := testing.AllocsPerRun(10, f); n != 0 {
			t.Errorf("%s allocates %v times", name, n)
		}
	}
}

func TestGenericModesPanics(t *testing.T) {
	r, _ := testRegion(t)
	h := newHandle(t, r, randBytes(16))
	var st, st2 [16]byte
	for name, f := range map[string]func(){
		"CTR partial": func() { GenericCTR(r, h, make([]byte, 32), make([]byte, 17), &st, 0) },
		"CBC short":   func() { GenericCBCEncrypt(r, h, make([]byte, 16), make([]byte, 32), &st, 0) },
		"CBCD short":  func() { GenericCBCDecrypt(r, h, make([]byte, 16), make([]byte, 32), &st, 0) },
		"XTS partial": func() { GenericXTS(r, h, nil, make([]byte, 32), make([]byte, 20), &st, 0) },
		"GCM short":   func() { GenericGCMCTR(r, h, make([]byte, 0), make([]byte, 16), &st, &st2, 0) },
		"XTSSectors size 0": func() {
			GenericXTSSectors(r, h, h, make([]byte, 64), make([]byte, 64), 0, 1, 0, 0)
		},
		"XTSSectors size 24": func() {
			GenericXTSSectors(r, h, h, make([]byte, 48), make([]byte, 48), 0, 1, 24, 0)
		},
		"XTSSectors not whole sectors": func() {
			GenericXTSSectors(r, h, h, make([]byte, 96), make([]byte, 96), 0, 1, 64, 0)
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

func benchHandle(b *testing.B, r *Region, ks int) *handle.Handle {
	var h handle.Handle
	GenericEncodeKey(r, randBytes(ks), 0, &h)
	return &h
}

func BenchmarkGenericModes(b *testing.B) {
	r, _ := testRegion(b)
	buf := make([]byte, 8192)
	for _, ks := range []int{16, 32} {
		h := benchHandle(b, r, ks)
		var st, st2 [16]byte
		for _, c := range []struct {
			name string
			f    func()
		}{
			{"CTR", func() { GenericCTR(r, h, buf, buf, &st, 0) }},
			{"CBCEncrypt", func() { GenericCBCEncrypt(r, h, buf, buf, &st, 0) }},
			{"CBCDecrypt", func() { GenericCBCDecrypt(r, h, buf, buf, &st, 0) }},
			{"XTS", func() { GenericXTS(r, h, h, buf, buf, &st, 0) }},
			{"GCMCTR", func() { GenericGCMCTR(r, h, buf, buf, &st, &st2, ModeInc32) }},
		} {
			b.Run(fmt.Sprintf("AES-%d/%s/8KiB", 8*ks, c.name), func(b *testing.B) {
				b.SetBytes(int64(len(buf)))
				for b.Loop() {
					c.f()
				}
			})
		}
	}
}
