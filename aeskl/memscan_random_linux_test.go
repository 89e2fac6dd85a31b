package aeskl

import (
	"bytes"
	"crypto/aes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/xts"

	"github.com/go-keylocker/keylocker/internal/memscan"
	"github.com/go-keylocker/keylocker/internal/testrng"
)

// randomKeys is what the busy memory scan's parent knows about the random
// keys of a child built with the aeskl_testrng tag: the test source's seed
// and the entropy it passes, and the keys that follow from them.
type randomKeys struct {
	seed      uint64
	entropy   []byte // 32 bytes, for the NewRandom Cipher
	out       string // where the child writes its ciphertexts
	cipherKey []byte // NewRandom(32): words 0-3 XOR entropy
	xtsKey    []byte // NewXTSRandom(64): words 4-11
}

func newRandomKeys(t *testing.T) *randomKeys {
	var s [8]byte
	rand.Read(s[:])
	rk := &randomKeys{seed: binary.LittleEndian.Uint64(s[:]), entropy: randBytes(32),
		out: filepath.Join(t.TempDir(), "random-ciphertexts")}
	all := testrng.Key(rk.seed, 96)
	rk.cipherKey = all[:32]
	subtle.XORBytes(rk.cipherKey, rk.cipherKey, rk.entropy)
	rk.xtsKey = all[32:]
	return rk
}

func (rk *randomKeys) env() []string {
	return []string{fmt.Sprintf("AESKL_BUSY_RNG=%x:%x", rk.seed, rk.entropy), "AESKL_BUSY_RNG_OUT=" + rk.out}
}

// randomSector is what the busy child encrypts with its NewXTSRandom XTS.
var randomSector = bytes.Repeat([]byte("one fixed block!"), 2)

// check compares the child's ciphertexts with crypto/aes and x/crypto/xts
// under the keys the parent computed: the needles are the child's keys.
func (rk *randomKeys) check(t *testing.T) {
	t.Helper()
	got, err := os.ReadFile(rk.out)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 16+len(randomSector))
	ref, _ := aes.NewCipher(rk.cipherKey)
	ref.Encrypt(want, randomBlock)
	rx, _ := xts.NewCipher(aes.NewCipher, rk.xtsKey)
	rx.Encrypt(want[16:], randomSector, 5)
	if !bytes.Equal(got, want) {
		t.Fatalf("the child's random ciphers do not use the keys the parent searches for:\n got %x\nwant %x", got, want)
	}
}

func (rk *randomKeys) needles() []memscan.Needle {
	var out []memscan.Needle
	for _, k := range []struct {
		name string
		key  []byte
	}{{"NewRandom key", rk.cipherKey}, {"NewXTSRandom data key", rk.xtsKey[:32]}, {"NewXTSRandom tweak key", rk.xtsKey[32:]}} {
		for _, n := range memscan.NeedleSet(k.key) {
			out = append(out, memscan.Needle{Bytes: n.Bytes, Name: k.name + ": " + n.Name})
		}
	}
	return out
}

// busyRandom is the child's side: with the aeskl_testrng tag and the
// parent's seed, a Cipher from NewRandom(32) with the entropy and an XTS
// from NewXTSRandom(64), and their ciphertexts written for the parent.
// Without them, nil.
func busyRandom(impl Implementation, path int) (*Cipher, *XTS, error) {
	v := os.Getenv("AESKL_BUSY_RNG")
	if !testRNGBuild || v == "" {
		return nil, nil, nil
	}
	seedHex, entHex, _ := strings.Cut(v, ":")
	seed, err := strconv.ParseUint(seedHex, 16, 64)
	if err != nil {
		return nil, nil, err
	}
	ent, err := hex.DecodeString(entHex)
	if err != nil {
		return nil, nil, err
	}
	testrng.Source = testrng.State{X: seed}
	opts := []Option{WithImplementation(impl), withSealedPath(path)}
	c, err := NewRandom(32, append(opts, WithEntropy(ent))...)
	if err != nil {
		return nil, nil, err
	}
	x, err := NewXTSRandom(64, opts...)
	if err != nil {
		return nil, nil, err
	}
	out := make([]byte, 16+len(randomSector))
	c.Encrypt(out, randomBlock)
	if err := x.Encrypt(out[16:], randomSector, 5); err != nil {
		return nil, nil, err
	}
	return c, x, os.WriteFile(os.Getenv("AESKL_BUSY_RNG_OUT"), out, 0o600)
}
