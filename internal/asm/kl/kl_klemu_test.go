//go:build amd64 && !purego

package kl

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-keylocker/keylocker/internal/klemu/klemutest"
)

// TestKeyLockerUnderKlemu reruns this test binary under klemu, so that a
// plain `go test ./internal/asm/kl/` runs the TestKL* tests on any linux/amd64
// machine where klemu can run (it skips, saying why, where it cannot).
func TestKeyLockerUnderKlemu(t *testing.T) {
	if klemutest.Inner() {
		t.Skip("already under klemu")
	}
	if aeskle, _ := klCPU(); aeskle {
		t.Log("this CPU has Key Locker: the TestKL* tests also ran natively")
	}

	t.Run("all", func(t *testing.T) {
		out := string(klemutest.RunSelf(t, nil, "^TestKL"))
		// Every functional test must have run under klemu, not skipped.
		// (The kernels' results are checked on every implementation by
		// aeskl's conformance suite, which runs these routines under klemu.)
		must := []string{"TestKLEncodeKey", "TestKLEncodeRandom", "TestKLEncodeKeyRegs", "TestKLKeyTypeMismatch",
			"TestKLRegsCleared", "TestKLDisasm", "TestKLCPUID"}
		must = append(must, klemuMustTestSource...)
		for _, name := range must {
			if !strings.Contains(out, "--- PASS: "+name+" ") {
				t.Errorf("%s did not pass under klemu", name)
			}
		}
		if t.Failed() {
			t.Log(out)
		}
	})

	// Without the WIDE forms (profile no-wide) the single forms still run
	// and the WIDE tests skip instead of dying of SIGILL.
	t.Run("no-wide", func(t *testing.T) {
		out := string(klemutest.RunSelf(t, []string{"--profile=no-wide"}, "^TestKL(EncodeKey|KeyTypeMismatch|RegsCleared)$"))
		for name, verdict := range map[string]string{"TestKLEncodeKey": "PASS", "TestKLKeyTypeMismatch": "SKIP", "TestKLRegsCleared": "SKIP"} {
			if !strings.Contains(out, "--- "+verdict+": "+name+" ") {
				t.Errorf("profile no-wide: want --- %s: %s", verdict, name)
			}
		}
	})

	// ECB over n blocks issues exactly n/8 WIDE and n%8 single instructions.
	t.Run("stats", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "stats")
		t.Setenv(klInnerEnv, "stats")
		klemutest.MustPass(t, klemutest.RunSelf(t, []string{"--stats=" + file}, "^TestKLStatsInner$"), "TestKLStatsInner")
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		st, err := klemutest.ParseStats(b)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{
			"encodekey128":    1,
			"aesencwide128kl": klStatsBlocks / 8,
			"aesenc128kl":     klStatsBlocks % 8,
			"zf":              0,
		}
		for _, m := range []string{"encodekey256", "aesdec128kl", "aesenc256kl", "aesdec256kl",
			"aesdecwide128kl", "aesencwide256kl", "aesdecwide256kl"} {
			want[m] = 0
		}
		for name, n := range want {
			got, ok := st[name]
			if !ok {
				t.Errorf("stats: no %q counter\n%s", name, b)
			} else if got != n {
				t.Errorf("stats: %s = %d, want %d", name, got, n)
			}
		}
	})

	// A failure in the middle of a call: the blocks before the failing
	// instruction are stored, the failing batch and the rest are not.
	t.Run("rotate", func(t *testing.T) {
		idx := map[string]int{}
		for i, fn := range klECBFuncs {
			idx[fn.name] = i
		}
		for _, c := range []struct {
			fn         string
			blocks, n  int
			wantStored int // for the log: what the inner test checks
		}{
			{"EncryptKLWide128", 21, 1, 8},  // second batch fails
			{"DecryptKLWide128", 16, 1, 8},  // second (last) batch fails
			{"DecryptKLWide256", 21, 2, 16}, // first tail block fails
			{"EncryptKLWide256", 21, 4, 18}, // third tail block fails
			{"DecryptKL128", 5, 3, 3},
			{"EncryptKL256", 5, 1, 1},
		} {
			name := fmt.Sprintf("%s/%d-blocks/after-%d", c.fn, c.blocks, c.n)
			t.Run(name, func(t *testing.T) {
				t.Setenv(klInnerEnv, fmt.Sprintf("rotate:%d:%d:%d", idx[c.fn], c.blocks, c.n))
				out := klemutest.RunSelf(t, []string{fmt.Sprintf("--rotate-after=%d", c.n)}, "^TestKLRotateInner$")
				klemutest.MustPass(t, out, "TestKLRotateInner")
				if want := fmt.Sprintf("%d blocks stored", c.wantStored); !strings.Contains(string(out), want) {
					t.Errorf("inner test did not report %q:\n%s", want, out)
				}
			})
		}
	})

	// Under the all-zero IWKey the handles are the reference wrap.
	t.Run("zero-iwkey", func(t *testing.T) {
		t.Setenv(klInnerEnv, "zero-iwkey")
		klemutest.MustPass(t, klemutest.RunSelf(t, []string{"--iwkey=zero"}, "^TestKLZeroIWKeyInner$"), "TestKLZeroIWKeyInner")
	})

	// info carries ENCODEKEY's destination register.
	t.Run("info", func(t *testing.T) {
		for _, c := range []struct {
			flags []string
			want  int
		}{
			{nil, 0},
			{[]string{"--nobackup"}, 1},
			{[]string{"--keysource=1"}, 2},
			{[]string{"--keysource=1", "--nobackup"}, 3},
		} {
			t.Setenv(klInnerEnv, fmt.Sprintf("info:%d", c.want))
			klemutest.MustPass(t, klemutest.RunSelf(t, c.flags, "^TestKLInfoInner$"), "TestKLInfoInner")
		}
	})
}
