package aeskl

import (
	"bytes"
	"crypto/cipher"
	"errors"
	"testing"

	"github.com/go-keylocker/keylocker/internal/klemu/klemutest"
)

// TestModesUnderKlemu checks the modes' Key Locker instruction mix and
// their behaviour when the IWKey is lost mid-stream, under the emulator.
func TestModesUnderKlemu(t *testing.T) {
	if klemutest.Inner() {
		t.Skip("already running under klemu")
	}
	if !hasAsm {
		t.Skipf("the Key Locker code is amd64 assembly and this build (%s) has none", buildDesc())
	}
	t.Run("stats", func(t *testing.T) {
		checkStats(t, "AESKL_TEST_MODE_STATS", "TestModeStatsInner", modeStatsWant)
	})
	for _, mode := range []string{"ctr", "cbc-encrypt", "cbc-decrypt", "gcm-seal", "gcm-open", "xts", "xts-sectors"} {
		t.Run("rotate-"+mode, func(t *testing.T) {
			t.Setenv("AESKL_TEST_ROTATE_MODE", mode)
			klemutest.MustPass(t, klemutest.RunSelf(t, []string{"--rotate-after=2"}, "^TestModeRotationInner$"), "TestModeRotationInner")
		})
	}
}

// One WIDE instruction per 8 blocks for XTS (sectors too), CTR, GCM and CBC decryption;
// CBC encryption is one single-block instruction per block.
var modeStatsWant = map[string]int{
	// Detect's probe, New, NewXTS (two handles).
	"encodekey128": 4,
	// XTS 21 blocks: 1 tweak + 2 WIDE + 5 single. CTR 21: 2 + 5.
	// NewGCM's H: 1. GCM Seal 20 blocks: 1 tag mask + 2 WIDE + 4 single.
	// CBC encryption 3 blocks: 3. XTS sectors: 3 sectors of 512 bytes,
	// each 1 tweak + 4 WIDE, and 2 sectors of 48 bytes, each 1 tweak + 3
	// single.
	"aesenc128kl":     1 + 5 + 5 + 1 + 1 + 4 + 3 + 3 + 2*(1+3),
	"aesencwide128kl": 2 + 2 + 2 + 3*4,
	// CBC decryption 21 blocks: 2 WIDE + 5 single.
	"aesdecwide128kl": 2,
	"aesdec128kl":     5,
	"aesenc256kl":     0,
	"aesencwide256kl": 0,
	"zf":              0,
}

func TestModeStatsInner(t *testing.T) {
	requireInner(t, "AESKL_TEST_MODE_STATS")
	Detect()
	key := make([]byte, 16)
	c, err := New(key, WithImplementation(KeyLockerWide))
	if err != nil {
		t.Fatal(err)
	}
	x, err := NewXTS(make([]byte, 32), WithImplementation(KeyLockerWide))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16*21)
	if err := x.Encrypt(buf, buf, 1); err != nil {
		t.Fatal(err)
	}
	cipher.NewCTR(c, make([]byte, 16)).XORKeyStream(buf, buf)
	g, err := cipher.NewGCM(c)
	if err != nil {
		t.Fatal(err)
	}
	g.Seal(nil, make([]byte, 12), buf[:16*20], nil)
	cipher.NewCBCEncrypter(c, make([]byte, 16)).CryptBlocks(buf[:48], buf[:48])
	cipher.NewCBCDecrypter(c, make([]byte, 16)).CryptBlocks(buf, buf)
	sectors := make([]byte, 3*512)
	if err := x.EncryptSectors(sectors, sectors, 9, 512); err != nil {
		t.Fatal(err)
	}
	if err := x.EncryptSectors(buf[:96], buf[:96], 9, 48); err != nil {
		t.Fatal(err)
	}
}

// TestModeRotationInner runs under klemu --rotate-after=2: the wrapping key
// changes after the second AES instruction, in the middle of a 24-block
// operation. The mode must report ErrInvalidHandle and dst must hold no
// plaintext and no partial output.
func TestModeRotationInner(t *testing.T) {
	mode := requireInner(t, "AESKL_TEST_ROTATE_MODE")
	key := bytes.Repeat([]byte{7}, 16)
	src := bytes.Repeat([]byte("plaintext block!"), 24)
	zero := make([]byte, len(src)+16)
	// A message sealed by the generic implementation (no Key Locker
	// instructions, so the rotation count is not disturbed).
	gc, _ := New(key, WithImplementation(Generic))
	gg, _ := cipher.NewGCM(gc)
	sealed := gg.Seal(nil, make([]byte, 12), src, nil)

	c, err := New(key, WithImplementation(KeyLockerWide))
	if err != nil {
		t.Fatal(err)
	}
	dst := bytes.Clone(src)
	switch mode {
	case "ctr":
		expectPanic(t, ErrInvalidHandle, func() { cipher.NewCTR(c, make([]byte, 16)).XORKeyStream(dst, src) })
	case "cbc-encrypt":
		expectPanic(t, ErrInvalidHandle, func() { cipher.NewCBCEncrypter(c, make([]byte, 16)).CryptBlocks(dst, src) })
	case "cbc-decrypt":
		expectPanic(t, ErrInvalidHandle, func() { cipher.NewCBCDecrypter(c, make([]byte, 16)).CryptBlocks(dst, dst) })
	case "gcm-seal":
		g, err := cipher.NewGCM(c)
		if err != nil {
			t.Fatal(err)
		}
		dst = make([]byte, 0, len(src)+16)
		expectPanic(t, ErrInvalidHandle, func() { g.Seal(dst, make([]byte, 12), src, nil) })
		dst = dst[:len(src)+16]
	case "gcm-open":
		g, err := cipher.NewGCM(c)
		if err != nil {
			t.Fatal(err)
		}
		dst = make([]byte, len(src))
		if _, err := g.Open(dst[:0], make([]byte, 12), sealed, nil); !errors.Is(err, ErrInvalidHandle) {
			t.Fatalf("GCM Open across a rotation: %v", err)
		}
	case "xts", "xts-sectors":
		x, err := NewXTS(bytes.Repeat([]byte{9}, 32), WithImplementation(KeyLockerWide))
		if err != nil {
			t.Fatal(err)
		}
		if mode == "xts" {
			err = x.Encrypt(dst, dst, 5)
		} else {
			err = x.EncryptSectors(dst, dst, 5, 128) // 8 blocks per sector: the 2nd sector fails
		}
		if !errors.Is(err, ErrInvalidHandle) {
			t.Fatalf("XTS across a rotation: %v", err)
		}
	default:
		t.Fatalf("unknown mode %q", mode)
	}
	if !bytes.Equal(dst, zero[:len(dst)]) {
		t.Fatalf("%s: dst not zeroed after the handle was rejected: %x", mode, dst[:32])
	}
}
