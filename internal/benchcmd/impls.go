package benchcmd

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"

	"github.com/go-keylocker/keylocker/aeskl"
	"golang.org/x/crypto/xts"
)

// The peers aeskl is measured against. CryptoAES runs every mode but XTS
// (the standard library has none); XCryptoXTS is XTS from
// golang.org/x/crypto/xts over crypto/aes. They are the baselines of the
// ratios: XCryptoXTS for xts, CryptoAES for the other modes.
const (
	CryptoAES  = "crypto/aes"
	XCryptoXTS = "x/crypto/xts"
)

// KnownImpls lists every implementation name --impl accepts: the peers,
// then aeskl's implementations (fastest-protected first).
func KnownImpls() []string {
	names := []string{CryptoAES, XCryptoXTS}
	for _, i := range aeskl.Implementations {
		names = append(names, i.String())
	}
	return names
}

// baseline returns the implementation a mode's ratios are computed
// against.
func baseline(mode string) string {
	if mode == "xts" {
		return XCryptoXTS
	}
	return CryptoAES
}

// isPeer reports whether name is one of the peers, not an aeskl
// implementation.
func isPeer(name string) bool { return name == CryptoAES || name == XCryptoXTS }

// runsMode reports whether implementation name has the mode at all.
func runsMode(name, mode string) bool {
	switch name {
	case CryptoAES:
		return mode != "xts"
	case XCryptoXTS:
		return mode == "xts"
	}
	return true
}

// unavailable returns why implementation name cannot run here with keys of
// bits, or "" if it can.
func unavailable(name string, bits int) string {
	if isPeer(name) {
		return ""
	}
	impl, err := aeskl.ParseImplementation(name)
	if err != nil {
		return err.Error()
	}
	c, err := aeskl.New(make([]byte, bits/8), aeskl.WithImplementation(impl))
	if err != nil {
		return err.Error()
	}
	c.Close()
	return ""
}

// A worker is one thread's instance of a case: its own cipher, mode state
// and buffers. run performs the operation once over size bytes; out holds
// what the last run wrote.
type worker struct {
	run   func() error
	out   []byte
	close func()
}

// Fixed IV and nonce: the measured work does not depend on them.
var (
	benchIV    = []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	benchNonce = benchIV[:12]
)

// newWorker sets up op for implementation name with key (for xts: the
// data key; the tweak key is tweakKey) over size bytes of in (a copy is
// made; in place where the mode allows it, as disk and stream code runs).
func newWorker(name string, op Op, key, tweakKey, in []byte) (*worker, error) {
	buf := append([]byte(nil), in...)
	size := len(buf)
	w := &worker{out: buf, close: func() {}}
	if op.Mode == "xts" {
		xkey := append(append([]byte(nil), key...), tweakKey...)
		defer clear(xkey)
		switch name {
		case XCryptoXTS:
			x, err := xts.NewCipher(aes.NewCipher, xkey)
			if err != nil {
				return nil, err
			}
			if op.Direction == "encrypt" {
				w.run = func() error { x.Encrypt(buf, buf, 1); return nil }
			} else {
				w.run = func() error { x.Decrypt(buf, buf, 1); return nil }
			}
			return w, nil
		case CryptoAES:
			return nil, errors.New("crypto/aes has no XTS (x/crypto/xts is its peer)")
		}
		impl, err := aeskl.ParseImplementation(name)
		if err != nil {
			return nil, err
		}
		x, err := aeskl.NewXTS(xkey, aeskl.WithImplementation(impl))
		if err != nil {
			return nil, err
		}
		w.close = x.Close
		if op.Direction == "encrypt" {
			w.run = func() error { return x.Encrypt(buf, buf, 1) }
		} else {
			w.run = func() error { return x.Decrypt(buf, buf, 1) }
		}
		return w, nil
	}

	var block cipher.Block
	var ecbEnc, ecbDec func() error
	switch name {
	case CryptoAES:
		b, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		block = b
		// crypto/aes has no ECB over many blocks: Block.Encrypt per block.
		ecbEnc = func() error {
			for i := 0; i < size; i += aes.BlockSize {
				b.Encrypt(buf[i:], buf[i:])
			}
			return nil
		}
		ecbDec = func() error {
			for i := 0; i < size; i += aes.BlockSize {
				b.Decrypt(buf[i:], buf[i:])
			}
			return nil
		}
	case XCryptoXTS:
		return nil, errors.New("x/crypto/xts runs only XTS")
	default:
		impl, err := aeskl.ParseImplementation(name)
		if err != nil {
			return nil, err
		}
		c, err := aeskl.New(key, aeskl.WithImplementation(impl))
		if err != nil {
			return nil, err
		}
		block, w.close = c, c.Close
		ecbEnc = func() error { return c.EncryptBlocks(buf, buf) }
		ecbDec = func() error { return c.DecryptBlocks(buf, buf) }
	}
	switch op.Name {
	case "ecb-encrypt":
		w.run = ecbEnc
	case "ecb-decrypt":
		w.run = ecbDec
	case "ctr":
		s := cipher.NewCTR(block, benchIV)
		w.run = func() error { s.XORKeyStream(buf, buf); return nil }
	case "cbc-encrypt":
		m := cipher.NewCBCEncrypter(block, benchIV)
		w.run = func() error { m.CryptBlocks(buf, buf); return nil }
	case "cbc-decrypt":
		m := cipher.NewCBCDecrypter(block, benchIV)
		w.run = func() error { m.CryptBlocks(buf, buf); return nil }
	case "gcm-seal", "gcm-open":
		g, err := cipher.NewGCM(block)
		if err != nil {
			w.close()
			return nil, err
		}
		out := make([]byte, 0, size+g.Overhead())
		if op.Name == "gcm-seal" {
			w.run = func() error { w.out = g.Seal(out[:0], benchNonce, buf, nil); return nil }
			break
		}
		sealed := g.Seal(nil, benchNonce, buf, nil)
		w.run = func() error {
			var err error
			w.out, err = g.Open(out[:0], benchNonce, sealed, nil)
			return err
		}
	default:
		w.close()
		return nil, fmt.Errorf("unknown operation %q", op.Name)
	}
	return w, nil
}
