package aeskl

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"testing"

	"golang.org/x/crypto/xts"
)

// The misuse parity table: every public function, on every implementation
// (Key Locker under klemu), with each kind of bad input, against what
// crypto/aes, crypto/cipher and x/crypto/xts do with the same input: the
// same panic or not, the same error or not, and every byte of the buffers
// afterwards the same (nothing written by a refused call; the same output,
// or the same clearing, otherwise). Where aeskl deliberately differs, or the
// function has no counterpart, the row states aeskl's outcome and a comment
// says why; a row that claims a difference the reference does not show
// fails, so the table stays true.

// The outcome classes.
const (
	pOK    = "ok"
	pPanic = "panic"
	pError = "error"
)

// xtsAPI is the part of XTS that x/crypto/xts has too.
type xtsAPI interface {
	Encrypt(dst, src []byte, sector uint64) error
	Decrypt(dst, src []byte, sector uint64) error
}

// refXTS is x/crypto/xts behind xtsAPI (it reports misuse by panicking).
type refXTS struct{ c *xts.Cipher }

func (r refXTS) Encrypt(dst, src []byte, s uint64) error { r.c.Encrypt(dst, src, s); return nil }
func (r refXTS) Decrypt(dst, src []byte, s uint64) error { r.c.Decrypt(dst, src, s); return nil }

// parityEnv is one side of a comparison: the reference or aeskl.
type parityEnv struct {
	b     cipher.Block
	x     xtsAPI
	newC  func(key []byte) (cipher.Block, error) // aes.NewCipher, or New with the variant's options
	newX  func(key []byte) error                 // xts.NewCipher(aes.NewCipher), or NewXTS
	close func()                                 // aeskl's Close of b and x; the reference has none
	c     *Cipher                                // aeskl only: nil on the reference side
	xx    *XTS
}

type parityRow struct {
	name string
	op   func(e *parityEnv, a []byte) error
	// noRef: aeskl-only function, no counterpart in the references.
	noRef bool
	// want is aeskl's outcome where it differs from the reference (or
	// there is none); "" means the reference's outcome.
	want string
	// keySize: the reference's aes.KeySizeError must be found by errors.As
	// in aeskl's error too, with the same value.
	keySize bool
}

func TestMisuseParity(t *testing.T) {
	forEachOnce(t, 16, func(t *testing.T, v variant) {
		rows := parityRows(v)
		for _, r := range rows {
			key, xkey := randBytes(16), randBytes(32)
			arena := randBytes(256)
			got := runParity(newAesklEnv(t, v, key, xkey), r.op, arena)
			want := r.want
			if !r.noRef {
				ref := runParity(newRefEnv(key, xkey), r.op, arena)
				if want == "" {
					want = ref.class
					if got.class == want && !bytes.Equal(got.arena, ref.arena) {
						t.Errorf("%s: both %s, but the buffers afterwards differ at byte %d", r.name, want, changedOutside(got.arena, ref.arena, 0, 0))
					}
				} else if ref.class == want {
					t.Errorf("%s: the table says aeskl differs from the reference, but both are %s: update the row", r.name, want)
				}
				var rk aes.KeySizeError
				if r.keySize && errors.As(ref.err, &rk) {
					var k aes.KeySizeError
					if !errors.As(got.err, &k) || k != rk {
						t.Errorf("%s: error %v; errors.As does not find the reference's aes.KeySizeError(%d)", r.name, got.err, int(rk))
					}
				}
			}
			if got.class != want {
				t.Errorf("%s: %s (%v), want %s", r.name, got.class, got.detail(), want)
			}
			if got.class != pOK && !r.clears() && !bytes.Equal(got.arena, arena) {
				t.Errorf("%s: refused (%s) after writing to byte %d", r.name, got.class, changedOutside(got.arena, arena, 0, 0))
			}
		}
		if len(rows) < 150 {
			t.Fatalf("only %d rows", len(rows))
		}
	})
}

// clears reports whether the row's refusal clears its output (a failed GCM
// Open), which the comparison with the reference checks byte for byte.
func (r parityRow) clears() bool { return r.want == "" && !r.noRef }

type parityResult struct {
	class string
	err   error
	p     any
	arena []byte
}

func (r parityResult) detail() any {
	if r.p != nil {
		return r.p
	}
	return r.err
}

func runParity(e *parityEnv, op func(*parityEnv, []byte) error, arena []byte) (r parityResult) {
	r.arena = bytes.Clone(arena)
	r.p = panics(func() { r.err = op(e, r.arena) })
	switch {
	case r.p != nil:
		r.class = pPanic
	case r.err != nil:
		r.class = pError
	default:
		r.class = pOK
	}
	return r
}

func newRefEnv(key, xkey []byte) *parityEnv {
	b, _ := aes.NewCipher(key)
	x, _ := xts.NewCipher(aes.NewCipher, xkey)
	return &parityEnv{
		b:    b,
		x:    refXTS{x},
		newC: aes.NewCipher,
		newX: func(k []byte) error {
			_, err := xts.NewCipher(aes.NewCipher, k)
			return err
		},
		close: func() {},
	}
}

func newAesklEnv(t *testing.T, v variant, key, xkey []byte) *parityEnv {
	c := mustNew(t, v, key)
	x, err := NewXTS(xkey, v.opts...)
	if err != nil {
		t.Fatal(err)
	}
	return &parityEnv{
		b: c,
		x: x,
		newC: func(k []byte) (cipher.Block, error) {
			c, err := New(k, v.opts...)
			if err != nil {
				return nil, err
			}
			return c, nil
		},
		newX: func(k []byte) error {
			_, err := NewXTS(k, v.opts...)
			return err
		},
		close: func() { c.Close(); x.Close() },
		c:     c,
		xx:    x,
	}
}

// gcmOf returns the AEAD of e's block with the standard sizes.
func gcmOf(e *parityEnv) cipher.AEAD {
	g, err := cipher.NewGCM(e.b)
	if err != nil {
		panic("test setup: " + err.Error())
	}
	return g
}

func parityRows(v variant) []parityRow {
	var rows []parityRow
	add := func(r parityRow) { rows = append(rows, r) }
	kl := v.impl == KeyLocker || v.impl == KeyLockerWide

	// Key sizes 0..65: NewCipher and New against aes.NewCipher (with an
	// error errors.As finds as the same aes.KeySizeError), NewXTS against
	// xts.NewCipher(aes.NewCipher, key).
	for n := 0; n <= 65; n++ {
		add(parityRow{name: fmt.Sprintf("NewCipher(%d-byte key)", n), keySize: true, op: func(e *parityEnv, a []byte) error {
			var err error
			if e.c != nil {
				_, err = NewCipher(make([]byte, n))
			} else {
				_, err = aes.NewCipher(make([]byte, n))
			}
			return err
		}})
		r := parityRow{name: fmt.Sprintf("New(%d-byte key, the implementation)", n), keySize: true, op: func(e *parityEnv, a []byte) error {
			_, err := e.newC(make([]byte, n))
			return err
		}}
		if kl && n == 24 {
			r.want = pError // Key Locker has no AES-192 instructions (WithImplementation forces it)
			r.keySize = false
		}
		add(r)
		r = parityRow{name: fmt.Sprintf("NewXTS(%d-byte key)", n), op: func(e *parityEnv, a []byte) error {
			return e.newX(make([]byte, n))
		}}
		if kl && n == 48 {
			r.want = pError // AES-192 halves: no Key Locker instructions for them
		}
		add(r)
	}

	// Block: Encrypt and Decrypt.
	type pair struct {
		name     string
		dst, src func(a []byte) []byte
	}
	blockArgs := []pair{
		{"nil dst", func([]byte) []byte { return nil }, func(a []byte) []byte { return a[64:80] }},
		{"nil src", func(a []byte) []byte { return a[0:16] }, func([]byte) []byte { return nil }},
		{"15-byte src", func(a []byte) []byte { return a[0:16] }, func(a []byte) []byte { return a[64:79] }},
		{"15-byte dst", func(a []byte) []byte { return a[0:15] }, func(a []byte) []byte { return a[64:80] }},
		{"17-byte src (one block is used)", func(a []byte) []byte { return a[0:16] }, func(a []byte) []byte { return a[64:81] }},
		{"32-byte dst (one block is written)", func(a []byte) []byte { return a[0:32] }, func(a []byte) []byte { return a[64:80] }},
		{"exact overlap", func(a []byte) []byte { return a[0:16] }, func(a []byte) []byte { return a[0:16] }},
		{"inexact overlap, dst ahead", func(a []byte) []byte { return a[1:17] }, func(a []byte) []byte { return a[0:16] }},
		{"inexact overlap, dst behind", func(a []byte) []byte { return a[0:16] }, func(a []byte) []byte { return a[8:24] }},
	}
	for _, dec := range []bool{false, true} {
		name := "Encrypt"
		if dec {
			name = "Decrypt"
		}
		for _, p := range blockArgs {
			add(parityRow{name: name + ", " + p.name, op: func(e *parityEnv, a []byte) error {
				if dec {
					e.b.Decrypt(p.dst(a), p.src(a))
				} else {
					e.b.Encrypt(p.dst(a), p.src(a))
				}
				return nil
			}})
		}
		// ECB over many blocks has no counterpart in crypto/aes: aeskl
		// returns errors (documented on EncryptBlocks), never panics.
		for _, p := range []struct {
			pair
			want string
		}{
			{pair{"nil, nil", func([]byte) []byte { return nil }, func([]byte) []byte { return nil }}, pOK},
			{pair{"17-byte src", func(a []byte) []byte { return a[0:32] }, func(a []byte) []byte { return a[64:81] }}, pError},
			{pair{"15-byte src", func(a []byte) []byte { return a[0:32] }, func(a []byte) []byte { return a[64:79] }}, pError},
			{pair{"dst shorter than src", func(a []byte) []byte { return a[0:16] }, func(a []byte) []byte { return a[64:96] }}, pError},
			{pair{"nil dst", func([]byte) []byte { return nil }, func(a []byte) []byte { return a[64:96] }}, pError},
			{pair{"exact overlap", func(a []byte) []byte { return a[0:48] }, func(a []byte) []byte { return a[0:48] }}, pOK},
			{pair{"inexact overlap", func(a []byte) []byte { return a[16:64] }, func(a []byte) []byte { return a[0:48] }}, pError},
			{pair{"longer dst", func(a []byte) []byte { return a[0:64] }, func(a []byte) []byte { return a[64:96] }}, pOK},
		} {
			add(parityRow{name: name + "Blocks, " + p.name, noRef: true, want: p.want, op: func(e *parityEnv, a []byte) error {
				if dec {
					return e.c.DecryptBlocks(p.dst(a), p.src(a))
				}
				return e.c.EncryptBlocks(p.dst(a), p.src(a))
			}})
		}
	}

	// IVs: CTR and CBC constructors, and CBC's SetIV.
	for _, n := range []int{-1, 0, 1, 15, 17, 32} {
		iv := func(a []byte) []byte {
			if n < 0 {
				return nil
			}
			return a[200 : 200+n]
		}
		add(parityRow{name: fmt.Sprintf("NewCTR, %d-byte IV", n), op: func(e *parityEnv, a []byte) error { cipher.NewCTR(e.b, iv(a)); return nil }})
		add(parityRow{name: fmt.Sprintf("NewCBCEncrypter, %d-byte IV", n), op: func(e *parityEnv, a []byte) error { cipher.NewCBCEncrypter(e.b, iv(a)); return nil }})
		add(parityRow{name: fmt.Sprintf("NewCBCDecrypter, %d-byte IV", n), op: func(e *parityEnv, a []byte) error { cipher.NewCBCDecrypter(e.b, iv(a)); return nil }})
		add(parityRow{name: fmt.Sprintf("CBC SetIV, %d-byte IV", n), op: func(e *parityEnv, a []byte) error {
			m := cipher.NewCBCEncrypter(e.b, a[200:216])
			m.(interface{ SetIV([]byte) }).SetIV(iv(a))
			m.CryptBlocks(a[0:32], a[64:96])
			return nil
		}})
	}

	// Stream and BlockMode buffers.
	streamArgs := []pair{
		{"nil, nil", func([]byte) []byte { return nil }, func([]byte) []byte { return nil }},
		{"nil dst", func([]byte) []byte { return nil }, func(a []byte) []byte { return a[64:70] }},
		{"dst one byte shorter", func(a []byte) []byte { return a[0:20] }, func(a []byte) []byte { return a[64:85] }},
		{"odd length", func(a []byte) []byte { return a[0:21] }, func(a []byte) []byte { return a[64:85] }},
		{"longer dst", func(a []byte) []byte { return a[0:40] }, func(a []byte) []byte { return a[64:85] }},
		{"exact overlap", func(a []byte) []byte { return a[3:40] }, func(a []byte) []byte { return a[3:40] }},
		{"inexact overlap", func(a []byte) []byte { return a[4:41] }, func(a []byte) []byte { return a[3:40] }},
	}
	for _, p := range streamArgs {
		add(parityRow{name: "CTR XORKeyStream, " + p.name, op: func(e *parityEnv, a []byte) error {
			s := cipher.NewCTR(e.b, a[200:216])
			s.XORKeyStream(a[100:105], a[120:125]) // a partial block first
			s.XORKeyStream(p.dst(a), p.src(a))
			return nil
		}})
	}
	modeArgs := []pair{
		{"nil, nil", func([]byte) []byte { return nil }, func([]byte) []byte { return nil }},
		{"nil dst", func([]byte) []byte { return nil }, func(a []byte) []byte { return a[64:80] }},
		{"15 bytes", func(a []byte) []byte { return a[0:16] }, func(a []byte) []byte { return a[64:79] }},
		{"17 bytes", func(a []byte) []byte { return a[0:32] }, func(a []byte) []byte { return a[64:81] }},
		{"dst shorter than src", func(a []byte) []byte { return a[0:16] }, func(a []byte) []byte { return a[64:96] }},
		{"dst one byte shorter", func(a []byte) []byte { return a[0:31] }, func(a []byte) []byte { return a[64:96] }},
		{"longer dst", func(a []byte) []byte { return a[0:40] }, func(a []byte) []byte { return a[64:96] }},
		{"exact overlap", func(a []byte) []byte { return a[0:48] }, func(a []byte) []byte { return a[0:48] }},
		{"inexact overlap", func(a []byte) []byte { return a[16:64] }, func(a []byte) []byte { return a[0:48] }},
	}
	for _, dec := range []bool{false, true} {
		name := "CBC encrypter"
		if dec {
			name = "CBC decrypter"
		}
		for _, p := range modeArgs {
			add(parityRow{name: name + " CryptBlocks, " + p.name, op: func(e *parityEnv, a []byte) error {
				m := cipher.NewCBCEncrypter(e.b, a[200:216])
				if dec {
					m = cipher.NewCBCDecrypter(e.b, a[200:216])
				}
				m.CryptBlocks(a[100:116], a[120:136]) // chaining state first
				m.CryptBlocks(p.dst(a), p.src(a))
				return nil
			}})
		}
	}

	// GCM: nonce and tag sizes, the buffers of Seal and Open, tampering.
	for _, n := range []int{-1, 0, 1, 12, 13, 64} {
		add(parityRow{name: fmt.Sprintf("NewGCMWithNonceSize(%d)", n), op: func(e *parityEnv, a []byte) error {
			_, err := cipher.NewGCMWithNonceSize(e.b, n)
			return err
		}})
	}
	for _, n := range []int{-1, 0, 11, 12, 16, 17} {
		add(parityRow{name: fmt.Sprintf("NewGCMWithTagSize(%d)", n), op: func(e *parityEnv, a []byte) error {
			_, err := cipher.NewGCMWithTagSize(e.b, n)
			return err
		}})
	}
	// The arena for GCM: dst at 0, plaintext at 64 (20 bytes), AD at 96
	// (8 bytes), nonce at 112, sealed message at 128 (36 bytes).
	seal := func(e *parityEnv, a []byte) []byte { return gcmOf(e).Seal(a[128:128], a[112:124], a[64:84], a[96:104]) }
	for _, n := range []int{0, 1, 11, 13, 16} {
		add(parityRow{name: fmt.Sprintf("GCM Seal, %d-byte nonce", n), op: func(e *parityEnv, a []byte) error {
			gcmOf(e).Seal(a[0:0], a[112:112+n], a[64:84], a[96:104])
			return nil
		}})
		add(parityRow{name: fmt.Sprintf("GCM Open, %d-byte nonce", n), op: func(e *parityEnv, a []byte) error {
			ct := seal(e, a)
			_, err := gcmOf(e).Open(a[0:0], a[112:112+n], ct, a[96:104])
			return err
		}})
	}
	for _, r := range []struct {
		name string
		op   func(g cipher.AEAD, a, ct []byte) error
	}{
		{"Seal to nil", func(g cipher.AEAD, a, _ []byte) error { g.Seal(nil, a[112:124], a[64:84], a[96:104]); return nil }},
		{"Seal, nil plaintext and AD", func(g cipher.AEAD, a, _ []byte) error { g.Seal(a[0:0], a[112:124], nil, nil); return nil }},
		{"Seal in place", func(g cipher.AEAD, a, _ []byte) error { g.Seal(a[64:64], a[112:124], a[64:84], a[96:104]); return nil }},
		{"Seal, output overlapping the plaintext inexactly", func(g cipher.AEAD, a, _ []byte) error {
			g.Seal(a[63:63], a[112:124], a[64:84], a[96:104])
			return nil
		}},
		{"Seal, output over the AD", func(g cipher.AEAD, a, _ []byte) error { g.Seal(a[90:90], a[112:124], a[64:84], a[96:104]); return nil }},
		{"Open", func(g cipher.AEAD, a, ct []byte) error {
			_, err := g.Open(a[0:0], a[112:124], ct, a[96:104])
			return err
		}},
		{"Open in place", func(g cipher.AEAD, a, ct []byte) error {
			_, err := g.Open(ct[:0], a[112:124], ct, a[96:104])
			return err
		}},
		{"Open, output overlapping the ciphertext inexactly", func(g cipher.AEAD, a, ct []byte) error {
			_, err := g.Open(a[129:129], a[112:124], ct, a[96:104])
			return err
		}},
		{"Open, output over the tag", func(g cipher.AEAD, a, ct []byte) error {
			_, err := g.Open(a[148:148], a[112:124], ct, a[96:104])
			return err
		}},
		{"Open, output over the AD", func(g cipher.AEAD, a, ct []byte) error {
			_, err := g.Open(a[90:90], a[112:124], ct, a[96:104])
			return err
		}},
		{"Open, nil ciphertext", func(g cipher.AEAD, a, _ []byte) error { _, err := g.Open(a[0:0], a[112:124], nil, nil); return err }},
		{"Open, ciphertext of 15 bytes", func(g cipher.AEAD, a, ct []byte) error {
			_, err := g.Open(a[0:0], a[112:124], ct[:15], nil)
			return err
		}},
		{"Open, tag only (wrong)", func(g cipher.AEAD, a, ct []byte) error {
			_, err := g.Open(a[0:0], a[112:124], ct[20:], nil)
			return err
		}},
		{"Open, tampered tag", func(g cipher.AEAD, a, ct []byte) error {
			ct[35] ^= 1
			_, err := g.Open(a[0:0], a[112:124], ct, a[96:104])
			return err
		}},
		{"Open, tampered ciphertext", func(g cipher.AEAD, a, ct []byte) error {
			ct[3] ^= 1
			_, err := g.Open(a[0:0], a[112:124], ct, a[96:104])
			return err
		}},
		{"Open, tampered ciphertext, in place", func(g cipher.AEAD, a, ct []byte) error {
			ct[3] ^= 1
			_, err := g.Open(ct[:0], a[112:124], ct, a[96:104])
			return err
		}},
		{"Open, tampered AD", func(g cipher.AEAD, a, ct []byte) error {
			a[96] ^= 1
			_, err := g.Open(a[0:0], a[112:124], ct, a[96:104])
			return err
		}},
		{"Open, truncated", func(g cipher.AEAD, a, ct []byte) error {
			_, err := g.Open(a[0:0], a[112:124], ct[:35], a[96:104])
			return err
		}},
	} {
		add(parityRow{name: "GCM " + r.name, op: func(e *parityEnv, a []byte) error {
			return r.op(gcmOf(e), a, seal(e, a))
		}})
	}

	// XTS against x/crypto/xts, which takes whole blocks and reports
	// misuse by panicking.
	xtsArgs := []struct {
		pair
		want string // aeskl's outcome where it differs
	}{
		// x/crypto/xts accepts an empty sector; aeskl needs a block (the
		// IEEE 1619 minimum) and returns an error, as documented.
		{pair{"nil, nil", func([]byte) []byte { return nil }, func([]byte) []byte { return nil }}, pError},
		{pair{"15 bytes", func(a []byte) []byte { return a[0:15] }, func(a []byte) []byte { return a[64:79] }}, pError},
		// Ciphertext stealing: aeskl encrypts any length from 16 bytes;
		// x/crypto/xts panics on a partial block.
		{pair{"17 bytes", func(a []byte) []byte { return a[0:17] }, func(a []byte) []byte { return a[64:81] }}, pOK},
		{pair{"100 bytes", func(a []byte) []byte { return a[0:100] }, func(a []byte) []byte { return a[100:200] }}, pOK},
		{pair{"16 bytes", func(a []byte) []byte { return a[0:16] }, func(a []byte) []byte { return a[64:80] }}, ""},
		{pair{"dst shorter than src", func(a []byte) []byte { return a[0:16] }, func(a []byte) []byte { return a[64:96] }}, ""},
		{pair{"nil dst", func([]byte) []byte { return nil }, func(a []byte) []byte { return a[64:96] }}, ""},
		{pair{"longer dst", func(a []byte) []byte { return a[0:48] }, func(a []byte) []byte { return a[64:96] }}, ""},
		{pair{"exact overlap", func(a []byte) []byte { return a[0:64] }, func(a []byte) []byte { return a[0:64] }}, ""},
		{pair{"inexact overlap", func(a []byte) []byte { return a[16:80] }, func(a []byte) []byte { return a[0:64] }}, ""},
	}
	for _, dec := range []bool{false, true} {
		name := "XTS Encrypt"
		if dec {
			name = "XTS Decrypt"
		}
		for _, p := range xtsArgs {
			add(parityRow{name: name + ", " + p.name, want: p.want, op: func(e *parityEnv, a []byte) error {
				if dec {
					return e.x.Decrypt(p.dst(a), p.src(a), 1<<63+5)
				}
				return e.x.Encrypt(p.dst(a), p.src(a), 1<<63+5)
			}})
			// EncryptTweak and DecryptTweak (no counterpart: x/crypto/xts
			// takes a sector number) check their buffers as Encrypt does.
			want := p.want
			if want == "" {
				want = pOK
				if p.name == "dst shorter than src" || p.name == "nil dst" || p.name == "inexact overlap" {
					want = pPanic
				}
			}
			add(parityRow{name: name + "Tweak, " + p.name, noRef: true, want: want, op: func(e *parityEnv, a []byte) error {
				if dec {
					return e.xx.DecryptTweak(p.dst(a), p.src(a), [16]byte{1, 2, 3})
				}
				return e.xx.EncryptTweak(p.dst(a), p.src(a), [16]byte{1, 2, 3})
			}})
		}
		// Sectors: no counterpart (a run of x/crypto/xts sectors).
		for _, s := range []struct {
			name     string
			dst, src [2]int
			size     int
			want     string
		}{
			{"an empty run", [2]int{0, 0}, [2]int{64, 64}, 32, pOK},
			{"two 32-byte sectors", [2]int{0, 64}, [2]int{64, 128}, 32, pOK},
			{"exact overlap", [2]int{0, 64}, [2]int{0, 64}, 32, pOK},
			{"a partial sector", [2]int{0, 64}, [2]int{64, 112}, 32, pError},
			{"sector size 0", [2]int{0, 64}, [2]int{64, 128}, 0, pError},
			{"sector size -16", [2]int{0, 64}, [2]int{64, 128}, -16, pError},
			{"sector size 8", [2]int{0, 64}, [2]int{64, 128}, 8, pError},
			{"sector size 24", [2]int{0, 48}, [2]int{64, 112}, 24, pError},
			{"dst shorter than src", [2]int{0, 32}, [2]int{64, 128}, 32, pPanic},
			{"inexact overlap", [2]int{16, 80}, [2]int{0, 64}, 32, pPanic},
		} {
			add(parityRow{name: name + "Sectors, " + s.name, noRef: true, want: s.want, op: func(e *parityEnv, a []byte) error {
				dst, src := a[s.dst[0]:s.dst[1]], a[s.src[0]:s.src[1]]
				if dec {
					return e.xx.DecryptSectors(dst, src, ^uint64(0), s.size)
				}
				return e.xx.EncryptSectors(dst, src, ^uint64(0), s.size)
			}})
		}
	}

	// Use after Close: crypto/aes has no Close, so there is nothing to
	// compare with; aeskl wipes the handle and every later use panics, the
	// mode objects made before Close included. Closing twice is harmless.
	closed := []struct {
		name string
		op   func(e *parityEnv, a []byte)
	}{
		{"Encrypt", func(e *parityEnv, a []byte) { e.b.Encrypt(a[0:16], a[64:80]) }},
		{"Decrypt", func(e *parityEnv, a []byte) { e.b.Decrypt(a[0:16], a[64:80]) }},
		{"EncryptBlocks", func(e *parityEnv, a []byte) { e.c.EncryptBlocks(a[0:32], a[64:96]) }},
		{"DecryptBlocks", func(e *parityEnv, a []byte) { e.c.DecryptBlocks(a[0:32], a[64:96]) }},
		{"Implementation", func(e *parityEnv, a []byte) { e.c.Implementation() }},
		{"NewCTR", func(e *parityEnv, a []byte) { e.c.NewCTR(a[200:216]) }},
		{"NewCBCEncrypter", func(e *parityEnv, a []byte) { e.c.NewCBCEncrypter(a[200:216]) }},
		{"NewCBCDecrypter", func(e *parityEnv, a []byte) { e.c.NewCBCDecrypter(a[200:216]) }},
		{"NewGCM", func(e *parityEnv, a []byte) { e.c.NewGCM(12, 16) }},
		{"XTS Encrypt", func(e *parityEnv, a []byte) { e.xx.Encrypt(a[0:32], a[64:96], 0) }},
		{"XTS DecryptTweak", func(e *parityEnv, a []byte) { e.xx.DecryptTweak(a[0:32], a[64:96], [16]byte{}) }},
		{"XTS EncryptSectors", func(e *parityEnv, a []byte) { e.xx.EncryptSectors(a[0:32], a[64:96], 0, 32) }},
		{"XTS Implementation", func(e *parityEnv, a []byte) { e.xx.Implementation() }},
	}
	for _, c := range closed {
		add(parityRow{name: c.name + " after Close", noRef: true, want: pPanic, op: func(e *parityEnv, a []byte) error {
			e.close()
			c.op(e, a)
			return nil
		}})
	}
	made := []struct {
		name string
		op   func(e *parityEnv, a []byte)
	}{
		{"CTR XORKeyStream", func(e *parityEnv, a []byte) {
			s := cipher.NewCTR(e.b, a[200:216])
			e.close()
			s.XORKeyStream(a[0:20], a[64:84])
		}},
		{"CBC CryptBlocks", func(e *parityEnv, a []byte) {
			m := cipher.NewCBCDecrypter(e.b, a[200:216])
			e.close()
			m.CryptBlocks(a[0:32], a[64:96])
		}},
		{"GCM Seal", func(e *parityEnv, a []byte) {
			g := gcmOf(e)
			e.close()
			g.Seal(a[0:0], a[112:124], a[64:84], nil)
		}},
		{"GCM Open", func(e *parityEnv, a []byte) {
			g := gcmOf(e)
			ct := g.Seal(nil, a[112:124], a[64:84], nil)
			e.close()
			g.Open(a[0:0], a[112:124], ct, nil)
		}},
	}
	for _, m := range made {
		add(parityRow{name: m.name + " of a mode made before Close", noRef: true, want: pPanic, op: func(e *parityEnv, a []byte) error {
			m.op(e, a)
			return nil
		}})
	}
	add(parityRow{name: "Close twice", noRef: true, want: pOK, op: func(e *parityEnv, a []byte) error {
		e.c.Close()
		e.c.Close()
		e.xx.Close()
		e.xx.Close()
		return nil
	}})

	// Options and names (aeskl only).
	for _, o := range []struct {
		name string
		opts []Option
	}{
		{"the CPL0-only restriction bit", []Option{WithRestrictions(1)}},
		{"an unknown restriction bit", []Option{WithRestrictions(1 << 5)}},
		{"NoEncrypt|NoDecrypt", []Option{WithRestrictions(NoEncrypt | NoDecrypt)}},
		{"Implementation(99)", []Option{WithImplementation(99)}},
	} {
		add(parityRow{name: "New with " + o.name, noRef: true, want: pError, op: func(e *parityEnv, a []byte) error {
			_, err := New(a[0:16], append(append([]Option(nil), v.opts...), o.opts...)...)
			return err
		}})
	}
	add(parityRow{name: `ParseImplementation("")`, noRef: true, want: pError, op: func(e *parityEnv, a []byte) error {
		_, err := ParseImplementation("")
		return err
	}})
	return rows
}
