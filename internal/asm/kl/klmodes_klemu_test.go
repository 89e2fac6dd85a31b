//go:build amd64 && !purego

package kl

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-keylocker/keylocker/internal/klemu/klemutest"
)

// TestModeKLUnderKlemu reruns this test binary under klemu with
// KLMODES_INNER set, so that a plain `go test ./internal/asm/kl/` runs the
// mode kernel tests on any linux/amd64 machine where klemu can run (it
// skips, saying why, where it cannot).
//
//	KLMODES_INNER=func                       the functional TestModeKL* tests
//	KLMODES_INNER=stats:CASE:BLOCKS          one kernel call (TestModeKLStatsInner)
//	KLMODES_INNER=rotate:CASE:BLOCKS:N       one kernel call under --rotate-after=N
//	                                         (TestModeKLRotateInner)
//
// CASE is klmCase.env(): KIND:KEYBITS:wide|single.
func TestModeKLUnderKlemu(t *testing.T) {
	if klemutest.Inner() {
		t.Skip("already under klemu")
	}

	t.Run("all", func(t *testing.T) {
		t.Setenv(klmInnerEnv, "func")
		out := string(klemutest.RunSelf(t, nil,
			"^TestModeKL(RegsCleared|NoWide)$"))
		must := []string{"TestModeKLRegsCleared", "TestModeKLNoWide"}
		for _, name := range must {
			if !strings.Contains(out, "--- PASS: "+name+" ") {
				t.Errorf("%s did not pass under klemu", name)
			}
		}
		if t.Failed() {
			t.Log(out)
		}
	})

	// Without WIDE_KL the kernels without kernel.ModeWide still run (a WIDE opcode
	// would be SIGILL here, failing the run).
	t.Run("no-wide", func(t *testing.T) {
		t.Setenv(klmInnerEnv, "func")
		out := klemutest.RunSelf(t, []string{"--profile=no-wide"}, "^TestModeKLNoWide$")
		klemutest.MustPass(t, out, "TestModeKLNoWide")
	})

	// One WIDE instruction per 8 blocks, the single form for the rest, one
	// extra single encryption for the XTS tweak and the GCM tag mask.
	t.Run("stats", func(t *testing.T) {
		for _, tc := range []struct {
			c      klmCase
			blocks int
			want   map[string]int
		}{
			{klmCase{klmXTSEnc, 16, true}, 21, map[string]int{"encodekey128": 2, "aesenc128kl": 1 + 5, "aesencwide128kl": 2}},
			{klmCase{klmXTSDec, 32, true}, 21, map[string]int{"encodekey256": 2, "aesenc256kl": 1, "aesdecwide256kl": 2, "aesdec256kl": 5}},
			{klmCase{klmXTSEnc, 16, false}, 21, map[string]int{"encodekey128": 2, "aesenc128kl": 1 + 21}},
			{klmCase{klmCTR, 16, true}, 21, map[string]int{"encodekey128": 1, "aesencwide128kl": 2, "aesenc128kl": 5}},
			{klmCase{klmCTR32, 32, true}, 21, map[string]int{"encodekey256": 1, "aesencwide256kl": 2, "aesenc256kl": 5}},
			{klmCase{klmCTR, 16, false}, 21, map[string]int{"encodekey128": 1, "aesenc128kl": 21}},
			{klmCase{klmCBCDec, 16, true}, 21, map[string]int{"encodekey128": 1, "aesdecwide128kl": 2, "aesdec128kl": 5}},
			{klmCase{klmCBCDec, 32, false}, 21, map[string]int{"encodekey256": 1, "aesdec256kl": 21}},
			{klmCase{klmCBCEnc, 16, true}, 21, map[string]int{"encodekey128": 1, "aesenc128kl": 21}},
			{klmCase{klmGCM, 16, true}, 20, map[string]int{"encodekey128": 1, "aesenc128kl": 1 + 4, "aesencwide128kl": 2}},
			{klmCase{klmGCM, 32, true}, 0, map[string]int{"encodekey256": 1, "aesenc256kl": 1}},
		} {
			t.Run(fmt.Sprintf("%v/%d-blocks", tc.c, tc.blocks), func(t *testing.T) {
				file := filepath.Join(t.TempDir(), "stats")
				t.Setenv(klmInnerEnv, fmt.Sprintf("stats:%s:%d", tc.c.env(), tc.blocks))
				klemutest.MustPass(t, klemutest.RunSelf(t, []string{"--stats=" + file}, "^TestModeKLStatsInner$"), "TestModeKLStatsInner")
				b, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				st, err := klemutest.ParseStats(b)
				if err != nil {
					t.Fatal(err)
				}
				want := map[string]int{"zf": 0}
				for _, m := range []string{"encodekey128", "encodekey256", "aesenc128kl", "aesdec128kl",
					"aesenc256kl", "aesdec256kl", "aesencwide128kl", "aesdecwide128kl", "aesencwide256kl", "aesdecwide256kl"} {
					want[m] = tc.want[m]
				}
				for name, n := range want {
					if got, ok := st[name]; !ok {
						t.Errorf("stats: no %q counter\n%s", name, b)
					} else if got != n {
						t.Errorf("stats: %s = %d, want %d", name, got, n)
					}
				}
			})
		}
	})

	// The IWKey changes in the middle of a call: the instructions before
	// succeed and their blocks are stored, the failing batch or block and
	// everything after it is not written, the call returns false.
	t.Run("rotate", func(t *testing.T) {
		for _, tc := range []struct {
			c          klmCase
			blocks, n  int
			wantStored int // for the log check: what the inner test computes
		}{
			{klmCase{klmCTR, 16, true}, 21, 1, 8},     // second batch fails
			{klmCase{klmCTR32, 32, true}, 21, 3, 17},  // second tail block fails
			{klmCase{klmCBCEnc, 16, true}, 5, 3, 3},   // fourth block fails
			{klmCase{klmCBCDec, 32, true}, 21, 2, 16}, // first tail block fails
			{klmCase{klmCBCDec, 16, true}, 16, 1, 8},  // second (last) batch fails
			{klmCase{klmXTSEnc, 16, true}, 21, 2, 8},  // tweak + first batch, second batch fails
			{klmCase{klmXTSDec, 32, false}, 5, 1, 0},  // tweak ok, first block fails
			{klmCase{klmGCM, 16, true}, 20, 1, 0},     // tag mask ok, first batch fails
			{klmCase{klmGCM, 32, true}, 20, 4, 17},    // tag, 2 batches, 1 block
		} {
			t.Run(fmt.Sprintf("%v/%d-blocks/after-%d", tc.c, tc.blocks, tc.n), func(t *testing.T) {
				t.Setenv(klmInnerEnv, fmt.Sprintf("rotate:%s:%d:%d", tc.c.env(), tc.blocks, tc.n))
				out := klemutest.RunSelf(t, []string{fmt.Sprintf("--rotate-after=%d", tc.n)}, "^TestModeKLRotateInner$")
				klemutest.MustPass(t, out, "TestModeKLRotateInner")
				if want := fmt.Sprintf("ok=false, %d blocks stored", tc.wantStored); !strings.Contains(string(out), want) {
					t.Errorf("inner test did not report %q:\n%s", want, out)
				}
			})
		}
	})
}

// klmInnerSpec parses KLMODES_INNER=PREFIX:CASE:INT...; it skips t unless
// the variable has that prefix.
func klmInnerSpec(t *testing.T, prefix string, ints int) (klmCase, []int) {
	spec, ok := strings.CutPrefix(os.Getenv(klmInnerEnv), prefix+":")
	if !ok || !klemutest.Inner() {
		t.Skipf("inner half of TestModeKLUnderKlemu/%s (%s=%s:...)", prefix, klmInnerEnv, prefix)
	}
	f := strings.Split(spec, ":")
	if len(f) != 3+ints {
		t.Fatalf("bad %s=%q", klmInnerEnv, os.Getenv(klmInnerEnv))
	}
	c := klmParseCase(t, strings.Join(f[:3], ":"))
	var v []int
	for _, s := range f[3:] {
		i, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("bad %s=%q: %v", klmInnerEnv, os.Getenv(klmInnerEnv), err)
		}
		v = append(v, i)
	}
	klRequire(t, c.wide)
	return c, v
}

// TestModeKLStatsInner makes the handles (1 ENCODEKEY, 2 for XTS) and one
// kernel call over BLOCKS blocks, and checks its result.
func TestModeKLStatsInner(t *testing.T) {
	c, v := klmInnerSpec(t, "stats", 1)
	k := &klmKeys{key: klRand(t, c.keyLen)}
	k.h = klHandle(t, k.key, 0)
	if c.kind.xts() {
		k.tkey = klRand(t, c.keyLen)
		k.ht = klHandle(t, k.tkey, 0)
	}
	src := klRand(t, 16*v[0])
	st, _ := klmState(t, c.kind)
	want, wantSt, wantAux := klmRef(t, c.kind, k, src, st, true)
	dst := make([]byte, len(src))
	got := st
	var aux [16]byte
	if !klmRun(c.kind, k, dst, src, &got, &aux, klmFlags(c.keyLen, c.wide), true) {
		t.Fatalf("%v: returned false", c)
	}
	if !bytes.Equal(dst, want) || got != wantSt || aux != wantAux {
		t.Fatalf("%v: wrong result", c)
	}
}

// klmPlan returns the number of blocks each Key Locker instruction of a
// call over n blocks stores, in order (0 for the XTS tweak and the GCM tag
// mask).
func klmPlan(c klmCase, n int) []int {
	var per []int
	if c.kind.xts() || c.kind == klmGCM {
		per = append(per, 0)
	}
	if c.wide && c.kind != klmCBCEnc {
		for ; n >= 8; n -= 8 {
			per = append(per, 8)
		}
	}
	for ; n > 0; n-- {
		per = append(per, 1)
	}
	return per
}

// TestModeKLRotateInner: under klemu --rotate-after=N the first N AES
// instructions succeed and the (N+1)th fails: every block before it is
// stored and correct, the failing batch or block and the rest is not
// written, the state is unchanged and the call returns false.
func TestModeKLRotateInner(t *testing.T) {
	c, v := klmInnerSpec(t, "rotate", 2)
	blocks, n := v[0], v[1]
	k := klmNewKeys(t, c.keyLen, 0, 0)
	src := klRand(t, 16*blocks)
	st, _ := klmState(t, c.kind)
	want, _, wantAux := klmRef(t, c.kind, k, src, st, true)
	buf := klFilled(16*blocks + 16)
	got := st
	aux := [16]byte(klFilled(16))
	ok := klmRun(c.kind, k, buf[:16*blocks], src, &got, &aux, klmFlags(c.keyLen, c.wide), true)

	per := klmPlan(c, blocks)
	wantOK := len(per) <= n
	good := 0
	for i := 0; i < n && i < len(per); i++ {
		good += per[i]
	}
	what := fmt.Sprintf("%v over %d blocks, IWKey rotated after %d instructions", c, blocks, n)
	if ok != wantOK {
		t.Fatalf("%s: returned %v, want %v", what, ok, wantOK)
	}
	if !bytes.Equal(buf[:16*good], want[:16*good]) {
		t.Errorf("%s: the %d blocks before the failure are not the reference result", what, good)
	}
	klCheckTail(t, what+": failing batch", buf[16*good:])
	if !ok && got != st {
		t.Errorf("%s: state changed on false", what)
	}
	if c.kind == klmGCM && aux != wantAux {
		t.Errorf("%s: tag mask %x, want %x (its instruction succeeded)", what, aux, wantAux)
	}
	t.Logf("%s: ok=%v, %d blocks stored", what, ok, good)
}
