package aeskl

import (
	"bytes"
	"crypto/aes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/xts"

	"github.com/go-keylocker/keylocker/internal/klemu/klemutest"
)

// sameKey fails unless c encrypts a block as crypto/aes does with key.
func sameKey(t *testing.T, c *Cipher, key []byte) {
	t.Helper()
	ref, _ := aes.NewCipher(key)
	want, got := make([]byte, 16), make([]byte, 16)
	ref.Encrypt(want, randomBlock)
	c.Encrypt(got, randomBlock)
	if !bytes.Equal(got, want) {
		t.Errorf("the Cipher does not hold the key that was read")
	}
}

// sameXTSKey fails unless x encrypts a sector as x/crypto/xts does.
func sameXTSKey(t *testing.T, x *XTS, key []byte) {
	t.Helper()
	ref, _ := xts.NewCipher(aes.NewCipher, key)
	src := bytes.Repeat(randomBlock, 3)
	want, got := make([]byte, len(src)), make([]byte, len(src))
	ref.Encrypt(want, src, 3)
	if err := x.Encrypt(got, src, 3); err != nil || !bytes.Equal(got, want) {
		t.Errorf("the XTS does not hold the key that was read (%v)", err)
	}
}

// failReader fails the test if anything reads it.
type failReader struct{ t *testing.T }

func (f failReader) Read([]byte) (int, error) {
	f.t.Error("the reader was read for a key size that is refused")
	return 0, io.EOF
}

// TestKeySources: NewFromReader, NewFromFile, NewFromFD and their XTS
// forms make the cipher of the bytes they read (against crypto/aes and
// x/crypto/xts), read exactly the key (what follows stays in the source),
// refuse bad sizes before reading, and fail without a Cipher on a short
// source.
func TestKeySources(t *testing.T) {
	if klemutest.Inner() {
		t.Skip("the run outside the emulator covers this (the memory scan of the key sources runs under it)")
	}
	key, xkey := randBytes(32), randBytes(64)
	r := bytes.NewReader(append(append(append([]byte(nil), key...), xkey...), "rest"...))
	c, err := NewFromReader(r, 32)
	if err != nil {
		t.Fatal(err)
	}
	sameKey(t, c, key)
	x, err := NewXTSFromReader(r, 64)
	if err != nil {
		t.Fatal(err)
	}
	sameXTSKey(t, x, xkey)
	if rest, _ := io.ReadAll(r); string(rest) != "rest" {
		t.Errorf("the readers read past the key: %q left", rest)
	}
	for _, n := range []int{0, 8, 20, 64} {
		if _, err := NewFromReader(failReader{t}, n); !errors.As(err, new(KeySizeError)) {
			t.Errorf("NewFromReader(%d): %v", n, err)
		}
	}
	if _, err := NewXTSFromReader(failReader{t}, 40); err == nil {
		t.Error("NewXTSFromReader(40): no error")
	}
	if c, err := NewFromReader(bytes.NewReader(key[:20]), 32); err == nil || c != nil || !strings.Contains(err.Error(), "after 20 of the key's 32 bytes") {
		t.Errorf("a short reader: %v", err)
	}
	if c, err := NewFromReader(iotestErr{}, 16); err == nil || c != nil {
		t.Errorf("a failing reader: %v", err)
	}

	file := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(file, append(append([]byte(nil), xkey...), "more"...), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err := NewFromFile(file, 16); err != nil {
		t.Fatal(err)
	} else {
		sameKey(t, c, xkey[:16])
	}
	if x, err := NewXTSFromFile(file, 64); err != nil {
		t.Fatal(err)
	} else {
		sameXTSKey(t, x, xkey)
	}
	if _, err := NewFromFile(filepath.Join(t.TempDir(), "none"), 16); err == nil {
		t.Error("a missing key file: no error")
	}
	fdSource(t, key, xkey)
}

type iotestErr struct{}

func (iotestErr) Read([]byte) (int, error) { return 0, errors.New("broken source") }
