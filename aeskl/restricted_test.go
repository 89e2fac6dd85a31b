package aeskl

import (
	"bytes"
	"crypto/cipher"
	"errors"
	"fmt"
	"testing"
)

// TestErrRestricted: on every implementation, every operation in the
// direction a handle's restriction forbids fails with ErrRestricted (which
// errors.Is also reports as ErrInvalidHandle) and a zeroed output, while a
// tampered handle fails with ErrInvalidHandle and not ErrRestricted, also in
// the direction the restriction allows.
func TestErrRestricted(t *testing.T) {
	restricted := func(t *testing.T, what string, err error) {
		t.Helper()
		if !errors.Is(err, ErrRestricted) || !errors.Is(err, ErrInvalidHandle) {
			t.Errorf("%s: %v, want ErrRestricted (and ErrInvalidHandle)", what, err)
		}
	}
	panics := func(f func()) (err error) {
		defer func() {
			r := recover()
			if r == nil {
				err = errors.New("no panic")
				return
			}
			err, _ = r.(error)
			if err == nil {
				err = fmt.Errorf("panic %v", r)
			}
		}()
		f()
		return nil
	}
	zero := func(t *testing.T, what string, b []byte) {
		t.Helper()
		if !bytes.Equal(b, make([]byte, len(b))) {
			t.Errorf("%s: output not zeroed: %x", what, b)
		}
	}
	forEach(t, 32, func(t *testing.T, v variant) {
		key := randBytes(32)
		src := randBytes(64)
		out := func() []byte { return bytes.Repeat([]byte{0xEE}, 64) }

		noEnc := mustNew(t, v, key, WithRestrictions(NoEncrypt))
		d := out()
		restricted(t, "Encrypt", panics(func() { noEnc.Encrypt(d, src) }))
		zero(t, "Encrypt", d[:16])
		d = out()
		restricted(t, "EncryptBlocks", noEnc.EncryptBlocks(d, src))
		zero(t, "EncryptBlocks", d)
		d = out()
		restricted(t, "CTR", panics(func() { cipher.NewCTR(noEnc, src[:16]).XORKeyStream(d, src) }))
		zero(t, "CTR", d)
		d = out()
		restricted(t, "CBC encryption", panics(func() { cipher.NewCBCEncrypter(noEnc, src[:16]).CryptBlocks(d, src) }))
		zero(t, "CBC encryption", d)
		_, err := cipher.NewGCM(noEnc)
		restricted(t, "NewGCM", err)
		if err := noEnc.DecryptBlocks(out(), src); err != nil {
			t.Errorf("a NoEncrypt handle does not decrypt: %v", err)
		}

		noDec := mustNew(t, v, key, WithRestrictions(NoDecrypt))
		d = out()
		restricted(t, "Decrypt", panics(func() { noDec.Decrypt(d, src) }))
		zero(t, "Decrypt", d[:16])
		d = out()
		restricted(t, "DecryptBlocks", noDec.DecryptBlocks(d, src))
		zero(t, "DecryptBlocks", d)
		d = out()
		restricted(t, "CBC decryption", panics(func() { cipher.NewCBCDecrypter(noDec, src[:16]).CryptBlocks(d, src) }))
		zero(t, "CBC decryption", d)
		x, err := NewXTS(append(bytes.Clone(key), key...), append(v.opts, WithRestrictions(NoDecrypt))...)
		if err != nil {
			t.Fatal(err)
		}
		d = out()
		restricted(t, "XTS decryption", x.Decrypt(d, src[:40], 1))
		zero(t, "XTS decryption", d[:40])
		d = out()
		restricted(t, "XTS sectors decryption", x.DecryptSectors(d, src, 1, 32))
		zero(t, "XTS sectors decryption", d)
		if err := x.EncryptSectors(out(), src, 1, 32); err != nil {
			t.Errorf("a NoDecrypt XTS does not encrypt: %v", err)
		}

		// A tampered handle in the allowed direction: not "restricted".
		flipHandleBit(noDec, 40*8)
		err = noDec.EncryptBlocks(out(), src)
		if !errors.Is(err, ErrInvalidHandle) || errors.Is(err, ErrRestricted) {
			t.Errorf("a tampered NoDecrypt handle encrypting: %v, want ErrInvalidHandle, not ErrRestricted", err)
		}
	})
}
