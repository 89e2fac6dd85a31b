package aeskl

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-keylocker/keylocker/internal/handle"
	"golang.org/x/crypto/xts"
)

// Close is safe against concurrent use: a call that overlaps it finishes
// with the correct result or panics with "use of a closed Cipher", every
// call that starts after it panics so, and no call ever returns a result
// made from a wiped handle. Run these under -race: Close touches the
// handle only with atomic stores, the generic implementation copies it
// with atomic loads, so any other sharing is a race report.

const closedPanic = "aeskl: use of a closed Cipher"

// TestCloseWipeRejected pins what the lock-free Close rests on: a kernel
// that reads a handle while Close wipes it sees some words zero, and must
// either refuse it or compute exactly what the whole handle gives (a word
// that was zero already, as most of the metadata is, changes nothing);
// never anything else. The call then panics as closed. Here the words are
// zeroed as Close does, first without the closed flag (the moment a kernel
// could see them): every prefix Close could have wiped, and each single
// word; words that hold the tag or the wrapped key must be refused. With
// the flag, the closed panic.
func TestCloseWipeRejected(t *testing.T) {
	for _, keyLen := range []int{16, 32} {
		forEachOnce(t, keyLen, func(t *testing.T, v variant) {
			key := randBytes(keyLen)
			std, err := aes.NewCipher(key)
			if err != nil {
				t.Fatal(err)
			}
			src := randBytes(64)
			want := make([]byte, len(src))
			for i := 0; i < len(src); i += 16 {
				std.Encrypt(want[i:], src[i:])
			}
			used := handle.Size128 / 8 // words of the handle the kernels read
			if keyLen == 32 {
				used = handle.Size256 / 8
			}
			var wipes [][]int
			for n := 1; n <= used; n++ {
				prefix := make([]int, n)
				for i := range prefix {
					prefix[i] = i
				}
				wipes = append(wipes, prefix, []int{n - 1})
			}
			for _, words := range wipes {
				c := mustNew(t, v, key)
				for _, i := range words {
					c.hw[i].Store(0)
				}
				dst := make([]byte, len(src))
				err := c.EncryptBlocks(dst, src)
				secret := slices.ContainsFunc(words, func(i int) bool { return i >= 2 }) // tag or wrapped key
				switch {
				case err == nil && !secret && bytes.Equal(dst, want):
				case errors.Is(err, ErrInvalidHandle) && bytes.Equal(dst, make([]byte, len(dst))):
				default:
					t.Errorf("words %v wiped: EncryptBlocks %v, output %x (the whole handle gives %x)", words, err, dst, want)
				}
				c.closed.Store(true)
				expectPanic(t, closedPanic, func() { c.EncryptBlocks(dst, src) })
				expectPanic(t, closedPanic, func() { c.Encrypt(dst, src) })
			}
			// A Cipher closed the ordinary way.
			c := mustNew(t, v, key)
			c.Close()
			if handleOf(c) != (handle.Handle{}) {
				t.Fatal("Close did not wipe the handle")
			}
			expectPanic(t, closedPanic, func() { c.Implementation() })
			expectPanic(t, closedPanic, func() { c.DecryptBlocks(make([]byte, 16), make([]byte, 16)) })
		})
	}
}

// handleOf returns a copy of c's handle.
func handleOf(c *Cipher) (h handle.Handle) {
	for i := range c.hw {
		binary.NativeEndian.PutUint64(h[8*i:], c.hw[i].Load())
	}
	return h
}

// flipHandleBit flips bit number bit (bit%8 of byte bit/8) of c's handle.
func flipHandleBit(c *Cipher, bit int) {
	w := &c.hw[bit/64]
	var b [8]byte
	binary.NativeEndian.PutUint64(b[:], w.Load())
	b[bit/8%8] ^= 1 << (bit % 8)
	w.Store(binary.NativeEndian.Uint64(b[:]))
}

// closeOp is one public operation with its expected result.
type closeOp struct {
	name string
	xts  bool          // an XTS method (XTS.Close closes it), else the Cipher's
	run  func() []byte // the result to compare with want
	want []byte
}

// TestCloseConcurrent uses a Cipher, its modes and an XTS from several
// goroutines while Close (twice, at once) and XTS.Close run: every call
// either returns the right result or panics with the closed message, a
// goroutine that saw a closed panic sees only closed panics afterwards, and
// no call fails with ErrInvalidHandle or a wrong result.
func TestCloseConcurrent(t *testing.T) {
	forEachOnce(t, 16, func(t *testing.T, v variant) {
		rounds := 3
		if emulated(v) {
			rounds = 1 // every Key Locker instruction traps under the emulator
		}
		for round := 0; round < rounds; round++ {
			closeConcurrently(t, v)
		}
	})
}

func closeConcurrently(t *testing.T, v variant) {
	key, xkey := randBytes(16), randBytes(32)
	ref, _ := aes.NewCipher(key)
	refXTS, _ := xts.NewCipher(aes.NewCipher, xkey)
	c := mustNew(t, v, key)
	x, err := NewXTS(xkey, v.opts...)
	if err != nil {
		t.Fatal(err)
	}
	g, err := cipher.NewGCM(c)
	if err != nil {
		t.Fatal(err)
	}
	refG, _ := cipher.NewGCM(ref)
	iv, nonce := randBytes(16), randBytes(12)
	src := randBytes(16 * 9)
	sealed := refG.Seal(nil, nonce, src, iv)

	ops := func() []closeOp {
		var o []closeOp
		add := func(name string, want []byte, run func() []byte) {
			o = append(o, closeOp{name, strings.HasPrefix(name, "XTS"), run, want})
		}
		one := make([]byte, 16)
		ref.Encrypt(one, src)
		add("Encrypt", one, func() []byte { d := make([]byte, 16); c.Encrypt(d, src); return d })
		add("Decrypt", src[:16], func() []byte { d := make([]byte, 16); c.Decrypt(d, one); return d })
		want := make([]byte, len(src))
		for i := 0; i < len(src); i += 16 {
			ref.Encrypt(want[i:], src[i:])
		}
		add("EncryptBlocks", want, func() []byte {
			d := make([]byte, len(src))
			if err := c.EncryptBlocks(d, src); err != nil {
				return []byte(err.Error())
			}
			return d
		})
		want = make([]byte, len(src))
		cipher.NewCTR(ref, iv).XORKeyStream(want, src)
		add("CTR", want, func() []byte {
			d := make([]byte, len(src))
			s := cipher.NewCTR(c, iv)
			s.XORKeyStream(d[:7], src[:7])
			s.XORKeyStream(d[7:], src[7:])
			return d
		})
		want = make([]byte, len(src))
		cipher.NewCBCEncrypter(ref, iv).CryptBlocks(want, src)
		add("CBC", want, func() []byte {
			d := make([]byte, len(src))
			cipher.NewCBCEncrypter(c, iv).CryptBlocks(d, src)
			return d
		})
		add("GCM Seal", sealed, func() []byte { return g.Seal(nil, nonce, src, iv) })
		add("GCM Open", src, func() []byte {
			p, err := g.Open(nil, nonce, sealed, iv)
			if err != nil {
				return []byte(err.Error())
			}
			return p
		})
		want = make([]byte, len(src))
		refXTS.Encrypt(want, src, 77)
		add("XTS", want, func() []byte {
			d := make([]byte, len(src))
			if err := x.Encrypt(d, src, 77); err != nil {
				return []byte(err.Error())
			}
			return d
		})
		want = make([]byte, len(src))
		for i := 0; i < 3; i++ {
			refXTS.Encrypt(want[48*i:48*(i+1)], src[48*i:48*(i+1)], 5+uint64(i))
		}
		add("XTS sectors", want, func() []byte {
			d := make([]byte, len(src))
			if err := x.EncryptSectors(d, src, 5, 48); err != nil {
				return []byte(err.Error())
			}
			return d
		})
		add("Implementation", []byte(v.impl.String()), func() []byte { return []byte(c.Implementation().String()) })
		return o
	}()

	// call runs op and reports whether it panicked with the closed message;
	// any other panic or a wrong result is an error.
	call := func(op closeOp) (closed bool, err error) {
		defer func() {
			if r := recover(); r != nil {
				if s, ok := r.(string); ok && s == closedPanic {
					closed = true
					return
				}
				if e, ok := r.(error); ok && errors.Is(e, ErrInvalidHandle) {
					err = fmt.Errorf("%s: a call saw a wiped handle: %v", op.name, r)
					return
				}
				err = fmt.Errorf("%s: panic %v", op.name, r)
			}
		}()
		if got := op.run(); !bytes.Equal(got, op.want) {
			return false, fmt.Errorf("%s: wrong result %q", op.name, got)
		}
		return false, nil
	}

	const workers = 4
	var (
		closing  atomic.Bool
		started  sync.WaitGroup
		finished sync.WaitGroup
		errs     = make(chan error, workers+1)
		okN      atomic.Int64 // calls that succeeded
		closedN  atomic.Int64 // calls that panicked as closed
	)
	started.Add(workers)
	finished.Add(workers)
	for w := 0; w < workers; w++ {
		go func() {
			defer finished.Done()
			sawClosed := map[bool]bool{} // by op.xts
			for i := 0; ; i++ {
				op := ops[(i+w)%len(ops)]
				closed, err := call(op)
				if i == 0 {
					started.Done()
				}
				switch {
				case err != nil:
					errs <- err
					return
				case closed && !closing.Load():
					errs <- fmt.Errorf("%s: closed panic before Close was called", op.name)
					return
				case !closed && sawClosed[op.xts]:
					errs <- fmt.Errorf("%s: succeeded after a call saw its object closed", op.name)
					return
				case closed:
					closedN.Add(1)
					sawClosed[op.xts] = true
				default:
					okN.Add(1)
				}
				if sawClosed[false] && sawClosed[true] {
					return
				}
			}
		}()
	}
	started.Wait() // every worker has finished at least one call
	closing.Store(true)
	var closers sync.WaitGroup
	closers.Add(3)
	go func() { defer closers.Done(); c.Close() }()
	go func() { defer closers.Done(); c.Close() }()
	go func() { defer closers.Done(); x.Close() }()
	closers.Wait()
	finished.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if okN.Load() == 0 || closedN.Load() == 0 {
		t.Errorf("%d calls succeeded and %d saw the Cipher closed: the test did not exercise both", okN.Load(), closedN.Load())
	}
	if handleOf(c) != (handle.Handle{}) || handleOf(x.data) != (handle.Handle{}) || handleOf(x.tweak) != (handle.Handle{}) {
		t.Error("Close did not wipe every handle")
	}
	for _, op := range ops {
		if closed, err := call(op); err != nil || !closed {
			t.Errorf("%s after Close: closed=%v err=%v, want the closed panic", op.name, closed, err)
		}
	}
	x.Close() // again: harmless
	c.Close()
}
