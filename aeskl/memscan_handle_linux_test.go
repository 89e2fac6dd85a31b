package aeskl

import (
	"bytes"
	"crypto/cipher"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/go-keylocker/keylocker/internal/klemu/klemutest"
	"github.com/go-keylocker/keylocker/internal/memscan"
)

// handleMask is XORed into the handles the child writes for the parent, so
// that the file's bytes in the child's memory are not the needles.
const handleMask = 0x5a

// TestHandleGoneAfterClose checks that Close leaves no copy of a handle in
// the process, the way an attacker would look: a child makes a Cipher and an
// XTS, uses them from 8 goroutines (every mode, single blocks, the garbage
// collector running), closes them, goes idle, and the parent searches all of
// its memory for the tag and wrapped key of each handle (bytes 16 to 47).
// The Key Locker and sealed kernels read the handle in place, so no call
// leaves a copy in a goroutine's stack (a stack that grows or shrinks
// during a call would leave one behind in freed memory).
//
// Control: the same child without Close must be found (the scan sees the
// Cipher's own handle words), so a scan that finds nothing proves something.
func TestHandleGoneAfterClose(t *testing.T) {
	forEach(t, 16, func(t *testing.T, v variant) {
		if v.impl == Generic {
			t.Skip("SKIPPED: the generic implementation reads the handle in Go from a copy on the stack and keeps the key's schedule in Go memory: it makes no memory promise (SECURITY.md)")
		}
		for _, closeIt := range []bool{true, false} {
			name := "close"
			if !closeIt {
				name = "control-no-close"
			}
			t.Run(name, func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "handles")
				pid, release := memscan.RunChild(t, "TestHelperHandleGone", randBytes(16),
					"AESKL_HANDLE_VARIANT="+v.name,
					"AESKL_HANDLE_CLOSE="+strconv.FormatBool(closeIt),
					"AESKL_HANDLE_OUT="+out)
				defer release()
				masked, err := os.ReadFile(out)
				if err != nil || len(masked) != 3*64 {
					t.Fatalf("the child's handles: %d bytes, %v", len(masked), err)
				}
				var needles [][]byte
				for i := range 3 {
					n := bytes.Clone(masked[64*i+16 : 64*i+48])
					for j := range n {
						n[j] ^= handleMask
					}
					needles = append(needles, n)
				}
				res, err := memscan.ScanDetailed(pid, needles)
				if err != nil {
					t.Skipf("memscan: SKIPPED: %v", err)
				}
				found := make([]int, len(needles))
				for _, h := range res.Hits {
					found[h.Needle]++
				}
				t.Logf("%d mappings, %d MiB searched; hits per handle (cipher, xts data, xts tweak): %v", res.Mappings, res.Bytes>>20, found)
				for _, h := range res.Hits[:min(len(res.Hits), 3)] {
					t.Logf("handle %d at %#x in %s", h.Needle, h.Addr, h.Mapping)
				}
				for i, n := range found {
					switch {
					case closeIt && n > 0:
						t.Errorf("handle %d: %d copies after Close", i, n)
					case !closeIt && n == 0:
						t.Errorf("control: handle %d of a Cipher that is still open not found: the scan does not see the Cipher", i)
					}
				}
			})
		}
	})
}

// TestHelperHandleGone is the child of TestHandleGoneAfterClose.
func TestHelperHandleGone(t *testing.T) {
	if !memscan.IsChild("TestHelperHandleGone") {
		t.Skip("helper process for TestHandleGoneAfterClose")
	}
	key := make([]byte, memscan.KeyLen())
	if err := memscan.ReadKey(key); err != nil {
		t.Fatal(err)
	}
	var opts []Option
	for _, v := range variants() {
		if v.name == os.Getenv("AESKL_HANDLE_VARIANT") {
			opts = v.opts
		}
	}
	if opts == nil {
		t.Fatalf("no variant %q", os.Getenv("AESKL_HANDLE_VARIANT"))
	}
	rounds, size := 200, 4096
	if klemutest.Inner() {
		rounds, size = 3, 512 // every Key Locker instruction is a ptrace round trip
	}
	c, err := New(key, opts...)
	if err != nil {
		t.Fatal(err)
	}
	xkey := append(bytes.Clone(key), randBytes(16)...)
	x, err := NewXTS(xkey, opts...)
	clear(xkey)
	clear(key)
	if err != nil {
		t.Fatal(err)
	}
	// The handles, masked, straight from the words (no unmasked copy).
	masked := make([]byte, 0, 3*64)
	for _, h := range []*Cipher{c, x.data, x.tweak} {
		for i := range h.hw {
			var b [8]byte // 8 bytes of the handle: no needle fits in them
			binary.NativeEndian.PutUint64(b[:], h.hw[i].Load())
			for _, x := range b {
				masked = append(masked, x^handleMask)
			}
		}
	}
	if err := os.WriteFile(os.Getenv("AESKL_HANDLE_OUT"), masked, 0o600); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, size)
			one := make([]byte, 16)
			gcm, err := cipher.NewGCM(c)
			if err != nil {
				t.Error(err)
				return
			}
			nonce := make([]byte, 12)
			for i := range rounds {
				c.Encrypt(one, one)
				c.Decrypt(one, one)
				c.EncryptBlocks(buf, buf)
				c.DecryptBlocks(buf, buf)
				cipher.NewCTR(c, one).XORKeyStream(buf, buf)
				cipher.NewCBCEncrypter(c, one).CryptBlocks(buf, buf)
				cipher.NewCBCDecrypter(c, one).CryptBlocks(buf, buf)
				ct := gcm.Seal(nil, nonce, buf[:100+i%100], buf[:13])
				if _, err := gcm.Open(nil, nonce, ct, buf[:13]); err != nil {
					t.Error(err)
				}
				x.EncryptSectors(buf, buf, uint64(i), 512)
				x.DecryptSectors(buf, buf, uint64(i), 512)
				x.Encrypt(buf[:100], buf[:100], uint64(g))
				x.Decrypt(buf[:100], buf[:100], uint64(g))
				if i%50 == 0 {
					runtime.GC()
				}
			}
		}()
	}
	wg.Wait()
	if os.Getenv("AESKL_HANDLE_CLOSE") == "true" {
		c.Close()
		x.Close()
	}
	memscan.Settle()
	memscan.Ready()
	memscan.WaitRelease()
	// The control's Cipher and XTS stay reachable through the scan: dead,
	// the garbage collector could free them in Settle and their memory be
	// reused before the scan, and the control would miss handles it should
	// find.
	runtime.KeepAlive(c)
	runtime.KeepAlive(x)
}
