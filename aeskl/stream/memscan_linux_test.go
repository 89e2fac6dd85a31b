package stream

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/go-keylocker/keylocker/aeskl"
	"github.com/go-keylocker/keylocker/internal/memscan"
)

// hygieneAD is the associated data of the streams in the hygiene tests.
const hygieneAD = "hygiene"

// TestKeysNotInMemory proves the package's memory promise the way an
// attacker with a memory disclosure would check it: a child process gets
// a main key on a pipe, makes a Key, wipes its copy, writes a stream to a
// file and reads it back (Reader and ReaderAt, small reads and reads of
// 2 MiB on two goroutines), then goes idle with the
// Key alive. The parent reads the stream's salt from the file, computes
// what the key derivation handled (the main key, the pseudorandom key
// and its HMAC pads, the derived AES key and its round keys) and searches
// the child's memory for each. The control child does the same with
// crypto/hkdf and crypto/aes, as Tink does, and must be found.
func TestKeysNotInMemory(t *testing.T) {
	if c, err := aeskl.New(make([]byte, 32)); err != nil || c.Implementation() == aeskl.Generic {
		t.Skip("the generic aeskl implementation makes no promise about its key schedule's copies (README)")
	}
	for _, mode := range []string{"stream", "stdlib"} {
		t.Run(mode, func(t *testing.T) {
			mk := randBytes(32)
			file := filepath.Join(t.TempDir(), "ct")
			pid, release := memscan.RunChild(t, "TestHelperStreamHygiene", mk,
				"STREAM_HYGIENE_MODE="+mode, "STREAM_HYGIENE_FILE="+file)
			defer release()
			ct, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			salt := ct[1:33]
			prk := hmacSum(salt, mk)
			derived, err := hkdf.Key(sha256.New, mk, salt, hygieneAD, 32)
			if err != nil {
				t.Fatal(err)
			}
			names := []string{"main key", "PRK", "PRK^ipad", "PRK^opad"}
			needles := [][]byte{mk, prk, xorBytes(prk, 0x36), xorBytes(prk, 0x5c)}
			for _, n := range memscan.NeedleSet(derived) {
				names = append(names, "derived key: "+n.Name)
				needles = append(needles, n.Bytes)
			}
			res, err := memscan.ScanDetailed(pid, needles)
			release()
			if err != nil {
				t.Fatal(err)
			}
			if res.Bytes < 1<<20 {
				t.Fatalf("only %d bytes scanned: the scan cannot be trusted", res.Bytes)
			}
			found := map[string]int{}
			for _, h := range res.Hits {
				found[names[h.Needle]]++
			}
			t.Logf("scanned %d MiB in %d mappings: %d hits %v", res.Bytes>>20, res.Mappings, len(res.Hits), found)
			if mode == "stdlib" {
				if len(res.Hits) == 0 {
					t.Fatal("the control (crypto/hkdf and a live crypto/aes GCM) was not found: the scan is blind")
				}
				return
			}
			for _, h := range res.Hits {
				t.Errorf("%s found at %#x (%s)", names[h.Needle], h.Addr, h.Mapping)
			}
		})
	}
}

func hmacSum(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

func xorBytes(b []byte, c byte) []byte {
	out := make([]byte, len(b))
	for i := range b {
		out[i] = b[i] ^ c
	}
	return out
}

// TestHelperStreamHygiene is the child of TestKeysNotInMemory.
func TestHelperStreamHygiene(t *testing.T) {
	if !memscan.IsChild("TestHelperStreamHygiene") {
		t.Skip("helper process for TestKeysNotInMemory")
	}
	mk := make([]byte, memscan.KeyLen())
	if err := memscan.ReadKey(mk); err != nil {
		t.Fatal(err)
	}
	pt := bytes.Repeat([]byte("hygiene "), 400000) // 3.2 MB: reads of 2 MiB take the parallel paths
	file := os.Getenv("STREAM_HYGIENE_FILE")
	var keep any
	switch os.Getenv("STREAM_HYGIENE_MODE") {
	case "stream":
		k, err := NewKey(mk, AES256GCMHKDF4KB)
		clear(mk)
		if err != nil {
			t.Fatal(err)
		}
		keep = k
		ct := encrypt(t, k, pt, []byte(hygieneAD), 1000)
		if err := os.WriteFile(file, ct, 0o600); err != nil {
			t.Fatal(err)
		}
		// Small reads, and reads of 2 MiB, which a Reader over a
		// bytes.Reader and a ReaderAt split among goroutines (GOMAXPROCS
		// at least 2 here).
		runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0)))
		for range 3 {
			for _, rs := range []int{5000, 2 << 20} {
				got, err := decrypt(t, k, ct, []byte(hygieneAD), rs)
				if err != nil || !bytes.Equal(got, pt) {
					t.Fatal("round trip failed", err)
				}
			}
			ra, err := k.NewReaderAt(bytes.NewReader(ct), int64(len(ct)), []byte(hygieneAD))
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 2<<20)
			for _, n := range []int{10000, len(buf)} {
				if _, err := ra.ReadAt(buf[:n], 12345); err != nil {
					t.Fatal(err)
				}
			}
			ra.Close()
		}
	case "stdlib":
		var hdr [40]byte
		hdr[0] = 40
		copy(hdr[1:], bytes.Repeat([]byte{7}, 39))
		dk, err := hkdf.Key(sha256.New, mk, hdr[1:33], hygieneAD, 32)
		clear(mk)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := aes.NewCipher(dk)
		clear(dk)
		g, _ := cipher.NewGCM(b)
		keep = g
		if err := os.WriteFile(file, append(hdr[:], g.Seal(nil, make([]byte, 12), pt, nil)...), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	io.Discard.Write(pt)
	memscan.Settle()
	memscan.Ready()
	memscan.WaitRelease()
	runtime.KeepAlive(keep)
}
