package aeskl

import (
	"bytes"
	"crypto/aes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-keylocker/keylocker/internal/klemu/klemutest"
)

// TestUnderKlemu runs this package's tests again under the Key Locker
// emulator, so that the README's single test command executes every Key
// Locker path on machines without Key Locker (all of ours). Each subtest is
// one emulator configuration.
func TestUnderKlemu(t *testing.T) {
	if klemutest.Inner() {
		t.Skip("already running under klemu")
	}
	if !hasAsm {
		t.Skipf("the Key Locker code is amd64 assembly and this build (%s) has none", buildDesc())
	}
	t.Run("full", func(t *testing.T) {
		// Every test of the package, with every implementation available.
		out := klemutest.RunSelf(t, []string{"--profile=full"}, ".")
		klemutest.MustPass(t, out, "TestProfileInner", "TestBulkAgainstCryptoAES/128/keylocker-wide",
			"TestBulkAgainstCryptoAES/256/keylocker", "TestRestrictions/256/keylocker-wide",
			"TestTamperedHandle/128/keylocker", "TestConcurrent/keylocker-wide", "TestQuick/256/keylocker-wide",
			"TestKeyNotInMemory/keylocker-wide/128", "TestKeyNotInMemory/keylocker/256",
			"TestKeyNotInMemoryBusy/keylocker-wide", "TestKeyNotInMemoryBusy/keylocker", "TestKeyNotInMemoryBusy/crypto-aes-control",
			"TestKernelConformance/keylocker-wide", "TestKernelConformance/keylocker", "TestKernelCounterWrap/keylocker-wide",
			"TestKernelCounterWrap/keylocker", "TestKernelRejects/keylocker-wide", "TestKernelRejects/keylocker",
			"TestKernelXTSSectors/keylocker-wide", "TestKernelXTSSectors/keylocker", "TestXTSSectorsAgainstXCrypto/keylocker-wide",
			"TestGuardPages/keylocker-wide", "TestGuardPages/keylocker",
			"TestDropInConformance/keylocker-wide", "TestDropInConformance/keylocker", "TestMisuseParity/keylocker-wide",
			"TestMisuseParity/keylocker", "TestCloseConcurrent/keylocker-wide", "TestCloseConcurrent/keylocker",
			"TestCloseWipeRejected/keylocker-wide", "TestHandleGoneAfterClose/keylocker-wide", "TestGCMOpenMessages/128/keylocker-wide", "TestGCMSealMessages/256/keylocker-wide", "TestGCMMessagesRejected/keylocker",
			"TestGCMOpenMessages/256/keylocker", "FuzzECB", "FuzzCTR", "FuzzCBC", "FuzzGCM", "FuzzXTS", "FuzzHandle",
			"TestNewRandom/128/keylocker-wide", "TestNewRandom/256/keylocker", "TestNewRandom/xts/keylocker-wide",
			"TestKeyNotInMemory/sources/reader", "TestKeyNotInMemory/sources/keyring", "TestKeyNotInMemory/sources/bufio-reader-control")
	})
	t.Run("random", func(t *testing.T) {
		// The random routines with the deterministic test source: the
		// exact keys and the memory scan that searches for them.
		if !testRNGBuild {
			t.Skip("needs -tags aeskl_testrng (.ci/run runs it); the full profile above runs NewRandom on Key Locker with RDSEED and RDRAND")
		}
		out := klemutest.RunSelf(t, []string{"--profile=full"}, "^(TestRandomTestSource|TestKeyNotInMemoryBusy)$")
		klemutest.MustPass(t, out, "TestRandomTestSource/128/keylocker-wide", "TestRandomTestSource/256/keylocker",
			"TestRandomTestSource/xts/keylocker-wide", "TestKeyNotInMemoryBusy/keylocker-wide")
	})
	for _, p := range []string{"no-wide", "disabled", "absent"} {
		t.Run(p, func(t *testing.T) {
			out := klemutest.RunSelf(t, []string{"--profile=" + p}, "^(TestProfileInner|TestKnownAnswers|TestRestrictions|TestKernelConformance)$")
			klemutest.MustPass(t, out, "TestProfileInner")
			if p == "no-wide" {
				klemutest.MustPass(t, out, "TestRestrictions/128/keylocker", "TestKernelConformance/keylocker")
			}
		})
	}
	t.Run("keysource", func(t *testing.T) {
		t.Setenv("AESKL_TEST_IWKEY_POLICY", "keysource=1,nobackup")
		klemutest.MustPass(t, klemutest.RunSelf(t, []string{"--keysource=1", "--nobackup"}, "^TestProfileInner$"), "TestProfileInner")
	})
	t.Run("rotate", func(t *testing.T) {
		t.Setenv("AESKL_TEST_ROTATE", "2")
		klemutest.MustPass(t, klemutest.RunSelf(t, []string{"--rotate-after=2"}, "^TestRotationInner$"), "TestRotationInner")
	})
	t.Run("stats", func(t *testing.T) {
		checkStats(t, "AESKL_TEST_STATS", "TestStatsInner", statsWant())
	})
}

// checkStats runs the inner test named by inner under klemu --stats (with
// env set) and compares the instruction counts with want.
func checkStats(t *testing.T, env, inner string, want map[string]int) {
	file := filepath.Join(t.TempDir(), "stats")
	t.Setenv(env, "1")
	klemutest.MustPass(t, klemutest.RunSelf(t, []string{"--stats=" + file}, "^"+inner+"$"), inner)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	got, err := klemutest.ParseStats(b)
	if err != nil {
		t.Fatal(err)
	}
	for name, n := range want {
		if got[name] != n {
			t.Errorf("%s: %d instructions, want %d\n%s", name, got[name], n, b)
		}
	}
}

func requireInner(t *testing.T, env string) string {
	v := os.Getenv(env)
	if !klemutest.Inner() || v == "" {
		t.Skip("runs only inside TestUnderKlemu")
	}
	return v
}

// TestProfileInner checks what Detect reports and New chooses under each
// klemu profile.
func TestProfileInner(t *testing.T) {
	profile := requireInner(t, "KLEMU_PROFILE")
	s := Detect()
	t.Logf("profile %s:\n%s", profile, s)
	want := map[string][3]Implementation{
		"full":     {KeyLockerWide, AESNISealed, KeyLockerWide},
		"no-wide":  {KeyLocker, AESNISealed, KeyLocker},
		"disabled": {AESNISealed, AESNISealed, AESNISealed},
		"absent":   {AESNISealed, AESNISealed, AESNISealed},
	}[profile]
	got := [3]Implementation{s.Implementation128, s.Implementation192, s.Implementation256}
	if got != want {
		t.Errorf("chosen implementations %v, want %v", got, want)
	}
	for i, n := range []int{16, 24, 32} {
		c, err := New(make([]byte, n))
		if err != nil {
			t.Fatal(err)
		}
		if c.Implementation() != want[i] {
			t.Errorf("New(%d bytes) chose %v, want %v", n, c.Implementation(), want[i])
		}
	}
	reasons := strings.Join(s.Reasons, "\n")
	mustSay := map[string]string{
		"no-wide":  "no WIDE instructions",
		"disabled": "the OS has not enabled it (CPUID.19H:EBX.AESKLE=0); mainline Linux never does",
		"absent":   "CPUID.07H:ECX[23]=0",
		"full":     "AES-192 has no Key Locker instructions",
	}[profile]
	if !strings.Contains(reasons, mustSay) {
		t.Errorf("reasons do not say %q:\n%s", mustSay, reasons)
	}
	switch profile {
	case "full", "no-wide":
		if !s.KeyLocker || !s.AESKLE || !s.IWKeyPolicyKnown || !s.RestrictNoEncrypt || !s.RestrictNoDecrypt {
			t.Errorf("Detect: %+v", s)
		}
		if s.WideKL != (profile == "full") {
			t.Errorf("WideKL = %v", s.WideKL)
		}
		wantKS, wantNB := 0, false
		if os.Getenv("AESKL_TEST_IWKEY_POLICY") == "keysource=1,nobackup" {
			wantKS, wantNB = 1, true
		}
		if s.IWKeyKeySource != wantKS || s.IWKeyNoBackup != wantNB {
			t.Errorf("IWKey policy keysource=%d nobackup=%v, want %d %v", s.IWKeyKeySource, s.IWKeyNoBackup, wantKS, wantNB)
		}
		// klemu's full profile has the IWKey backup; its IWKey comes from
		// --keysource and --nobackup.
		wantMode := map[bool]WrappingKeyMode{false: WrapBackupOnly, true: WrapLostAtPowerTransition}[wantNB]
		if s.Hypervisor {
			wantMode = WrapHypervisor // klemu passes the host's CPUID.1:ECX[31] through
		}
		if s.WrappingKey.Mode != wantMode || !strings.Contains(s.String(), "wrapping-key mode:  "+string(wantMode)) {
			t.Errorf("wrapping-key mode %s, want %s", s.WrappingKey.Mode, wantMode)
		}
	case "disabled":
		if s.WrappingKey.Mode != WrapProcess {
			t.Errorf("wrapping-key mode %s without AESKLE", s.WrappingKey.Mode)
		}
		if !s.KeyLocker || s.AESKLE {
			t.Errorf("Detect: KeyLocker=%v AESKLE=%v", s.KeyLocker, s.AESKLE)
		}
		if _, err := New(make([]byte, 16), WithImplementation(KeyLocker)); err == nil {
			t.Error("WithImplementation(KeyLocker) accepted with AESKLE=0")
		}
	case "absent":
		if s.KeyLocker || s.AESKLE {
			t.Errorf("Detect: KeyLocker=%v AESKLE=%v", s.KeyLocker, s.AESKLE)
		}
	}
}

// TestRotationInner runs under klemu --rotate-after=2: the IWKey is
// replaced after two AES instructions, as when the OS loses it across
// suspend/resume. The third instruction must be refused and no plaintext
// (nor partial ciphertext) may reach dst.
func TestRotationInner(t *testing.T) {
	requireInner(t, "AESKL_TEST_ROTATE")
	key := make([]byte, 16)
	ref, _ := aes.NewCipher(key)
	c, err := New(key, WithImplementation(KeyLockerWide))
	if err != nil {
		t.Fatal(err)
	}
	src := bytes.Repeat([]byte("plaintext block!"), 24) // 3 WIDE instructions
	dst := bytes.Clone(src)
	err = c.EncryptBlocks(dst, dst)
	if !errors.Is(err, ErrInvalidHandle) || errors.Is(err, ErrRestricted) {
		t.Fatalf("EncryptBlocks across a rotation: %v, want ErrInvalidHandle and not ErrRestricted", err)
	}
	if !bytes.Equal(dst, make([]byte, len(dst))) {
		t.Fatalf("dst not zeroed after a refused handle: %x", dst[:32])
	}
	// The handle stays dead, single blocks included.
	one := bytes.Clone(src[:16])
	expectPanic(t, ErrInvalidHandle, func() { c.Encrypt(one, one) })
	if !bytes.Equal(one, make([]byte, 16)) {
		t.Fatalf("Encrypt output not zeroed")
	}
	// A new handle under the new IWKey works.
	c2, err := New(key, WithImplementation(KeyLockerWide))
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 16)
	ref.Encrypt(want, src)
	c2.Encrypt(one, src)
	if !bytes.Equal(one, want) {
		t.Fatalf("new handle after rotation: %x, want %x", one, want)
	}
}

// Instruction mix for TestStatsInner: ECB over n blocks is n/8 WIDE and
// n%8 single instructions, no more.
const (
	statsN128 = 21
	statsN256 = 13
)

func statsWant() map[string]int {
	return map[string]int{
		// Detect's policy probe + two New calls.
		"encodekey128":    3,
		"encodekey256":    1,
		"aesencwide128kl": statsN128 / 8,
		"aesdecwide128kl": statsN128 / 8,
		"aesenc128kl":     statsN128%8 + statsN128, // wide tail + the single-form Cipher
		"aesdec128kl":     statsN128 % 8,
		"aesencwide256kl": statsN256 / 8,
		"aesdecwide256kl": statsN256 / 8,
		"aesenc256kl":     statsN256 % 8,
		"aesdec256kl":     statsN256 % 8,
		"zf":              0,
	}
}

func TestStatsInner(t *testing.T) {
	requireInner(t, "AESKL_TEST_STATS")
	run := func(impl Implementation, keyLen, n int, dec bool) {
		c, err := New(make([]byte, keyLen), WithImplementation(impl))
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 16*n)
		if err := c.EncryptBlocks(buf, buf); err != nil {
			t.Fatal(err)
		}
		if dec {
			if err := c.DecryptBlocks(buf, buf); err != nil || !bytes.Equal(buf, make([]byte, len(buf))) {
				t.Fatal("round trip failed", err)
			}
		}
	}
	Detect()
	run(KeyLockerWide, 16, statsN128, true)
	run(KeyLocker, 16, statsN128, false)
	run(KeyLockerWide, 32, statsN256, true)
}
