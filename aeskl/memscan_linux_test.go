package aeskl

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/go-keylocker/keylocker/internal/memscan"
)

// TestKeyNotInMemory proves the central promise: after New(key) and some
// work, with the caller's copy of the key wiped and two GCs, neither the key
// nor any of its round keys (encryption and decryption schedules, in byte
// order and word-swapped) is anywhere in the readable memory of the
// process. The key is handed to a child process through a pipe and the
// parent (which never puts the needles into the child) scans the child's
// /proc/PID/mem. The control case keeps a crypto/aes Block alive and must be
// found, which proves that the scan sees such memory.
func TestKeyNotInMemory(t *testing.T) {
	type tc struct {
		name   string
		impl   Implementation // 0: crypto/aes control
		path   int
		keyLen int
	}
	var cases []tc
	for _, n := range []int{16, 24, 32} {
		cases = append(cases, tc{name: fmt.Sprintf("crypto-aes/%d", 8*n), keyLen: n})
		for _, v := range variants() {
			var c config
			c.sealedPath = -1
			for _, o := range v.opts {
				o(&c)
			}
			cases = append(cases, tc{name: fmt.Sprintf("%s/%d", v.name, 8*n), impl: v.impl, path: c.sealedPath, keyLen: n})
		}
	}
	s := detect()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.impl != 0 {
				if why := unavailable(s, c.impl, c.keyLen, 0); why != "" {
					if (c.impl == KeyLocker || c.impl == KeyLockerWide) && c.keyLen != 24 {
						t.Skipf("%v cannot run here (%s); TestUnderKlemu runs it under the emulator", c.impl, why)
					}
					t.Skipf("%v cannot run here: %s", c.impl, why)
				}
				if c.impl == AESNISealed && !sealedPathUsable(s, c.path) {
					t.Skipf("this CPU cannot run the %s path", sealedPathNames[c.path])
				}
				if c.impl == Generic {
					// Its key schedule lives in Go stack frames that it wipes, but
					// the runtime may have copied them (a growing stack leaves its
					// old copy behind): the raw key or a round key turned up in the
					// child's heap in about one run out of seven under -race.
					t.Skip("generic makes no promise about copies the Go runtime makes (see SECURITY.md)")
				}
			}
			key := randBytes(c.keyLen)
			pid, release := memscan.RunChild(t, "TestHelperKeyHygiene", key,
				"AESKL_HYGIENE_IMPL="+strconv.Itoa(int(c.impl)), "AESKL_HYGIENE_PATH="+strconv.Itoa(c.path))
			needles := memscan.NeedleSet(key)
			res, err := memscan.ScanDetailed(pid, memscan.Needles(key))
			release()
			if err != nil {
				t.Fatal(err)
			}
			if res.Bytes < 1<<20 {
				t.Fatalf("only %d bytes scanned: the scan cannot be trusted", res.Bytes)
			}
			t.Logf("scanned %d MiB in %d mappings: %d hits", res.Bytes>>20, res.Mappings, len(res.Hits))
			if c.impl == 0 {
				if len(res.Hits) == 0 {
					t.Fatal("the control (a live crypto/aes Block) was not found: the scan is blind")
				}
				return
			}
			for _, h := range res.Hits {
				t.Errorf("%s found at %#x (%s)", needles[h.Needle].Name, h.Addr, h.Mapping)
			}
		})
	}
	t.Run("sources", func(t *testing.T) { keySourcesNotInMemory(t, s) })
}

// TestHelperKeyHygiene is the child of TestKeyNotInMemory.
func TestHelperKeyHygiene(t *testing.T) {
	if !memscan.IsChild("TestHelperKeyHygiene") {
		t.Skip("helper process for TestKeyNotInMemory")
	}
	impl, _ := strconv.Atoi(os.Getenv("AESKL_HYGIENE_IMPL"))
	path, _ := strconv.Atoi(os.Getenv("AESKL_HYGIENE_PATH"))
	var b cipher.Block
	var x *XTS
	var err error
	if src := os.Getenv("AESKL_HYGIENE_SOURCE"); src != "" {
		// The key comes from a key source, never through this process's
		// own buffers (see keySourcesNotInMemory).
		b, x, err = sourceCiphers(src, []Option{WithImplementation(Implementation(impl)), withSealedPath(path)})
		if err != nil {
			t.Fatal(err)
		}
		hygieneWork(t, b, x)
		return
	}
	key := make([]byte, memscan.KeyLen())
	if err := memscan.ReadKey(key); err != nil {
		t.Fatal(err)
	}
	if impl == 0 {
		b, err = aes.NewCipher(key)
	} else {
		opts := []Option{WithImplementation(Implementation(impl)), withSealedPath(path)}
		if b, err = New(key, opts...); err == nil {
			xkey := make([]byte, 2*len(key))
			copy(xkey, key)
			copy(xkey[len(key):], key)
			x, err = NewXTS(xkey, opts...)
			clear(xkey)
		}
	}
	clear(key)
	if err != nil {
		t.Fatal(err)
	}
	hygieneWork(t, b, x)
}

// hygieneWork runs every mode on b and x, then lets the parent scan.
func hygieneWork(t *testing.T, b cipher.Block, x *XTS) {
	buf := make([]byte, 16*100)
	for i := 0; i < 3; i++ {
		for j := 0; j < len(buf); j += 16 {
			b.Encrypt(buf[j:], buf[j:])
			b.Decrypt(buf[j:], buf[j:])
		}
		if c, ok := b.(*Cipher); ok {
			if c.EncryptBlocks(buf, buf) != nil || c.DecryptBlocks(buf, buf) != nil {
				t.Fatal("round trip failed")
			}
		}
		// Every mode's kernels too.
		iv := make([]byte, 16)
		cipher.NewCTR(b, iv).XORKeyStream(buf, buf)
		cipher.NewCBCEncrypter(b, iv).CryptBlocks(buf, buf)
		cipher.NewCBCDecrypter(b, iv).CryptBlocks(buf, buf)
		g, err := cipher.NewGCM(b)
		if err != nil {
			t.Fatal(err)
		}
		sealed := g.Seal(nil, iv[:12], buf, nil)
		if _, err := g.Open(sealed[:0], iv[:12], sealed, nil); err != nil {
			t.Fatal(err)
		}
		if x != nil && (x.Encrypt(buf[:1000], buf[:1000], 7) != nil || x.Decrypt(buf[:1000], buf[:1000], 7) != nil) {
			t.Fatal("XTS round trip failed")
		}
	}
	memscan.Settle()
	memscan.Ready()
	memscan.WaitRelease()
	runtime.KeepAlive(b)
	runtime.KeepAlive(x)
}
