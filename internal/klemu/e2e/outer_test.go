//go:build linux && amd64

package e2e

// The outer half: TestUnderKlemu re-executes this test binary under klemu
// (klemutest.RunSelf) with various flags and checks the inner tests pass;
// TestBreakages runs them under deliberately broken emulators and checks
// they fail.

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-keylocker/keylocker/internal/klemu/klemutest"
)

// mainSuite is the set of inner tests run under the default profile.
const mainSuite = "^TestKL(CPUID|CPUIDJIT|EncodeKey|AES|RestrictionsTamper|Addressing|YMMUpper|Concurrent|Signals|Subprocess|ExecFromThread|Fork|Faults|Crash)$"

func skipInner(t *testing.T) {
	if klemutest.Inner() {
		t.Skip("outer test: not run under klemu")
	}
}

func TestUnderKlemu(t *testing.T) {
	skipInner(t)
	klemutest.Available(t)
	t.Run("full", func(t *testing.T) {
		out := klemutest.RunSelf(t, nil, mainSuite)
		klemutest.MustPass(t, out, "TestKLCPUID", "TestKLEncodeKey", "TestKLAES", "TestKLRestrictionsTamper", "TestKLAddressing",
			"TestKLYMMUpper", "TestKLConcurrent", "TestKLSignals", "TestKLSubprocess", "TestKLExecFromThread", "TestKLFork", "TestKLFaults", "TestKLCrash")
	})
	for _, p := range []string{"no-wide", "disabled", "absent"} {
		t.Run("profile-"+p, func(t *testing.T) {
			pattern := "^TestKL(CPUID|Fork|Crash)$"
			if p == "no-wide" {
				pattern = "^TestKL(CPUID|Fork|Crash|AES|EncodeKey)$"
			}
			out := klemutest.RunSelf(t, []string{"--profile=" + p}, pattern)
			klemutest.MustPass(t, out, "TestKLCPUID", "TestKLFork", "TestKLCrash")
		})
	}
	t.Run("nobackup-keysource", func(t *testing.T) {
		t.Setenv("KLEMU_E2E_DEST", "3")
		out := klemutest.RunSelf(t, []string{"--nobackup", "--keysource=1"}, "^TestKLEncodeKey$")
		klemutest.MustPass(t, out, "TestKLEncodeKey")
	})
	t.Run("spec-vector", func(t *testing.T) {
		t.Setenv("KLEMU_E2E_ZERO", "1")
		out := klemutest.RunSelf(t, []string{"--iwkey=zero"}, "^TestKLSpecVector$")
		klemutest.MustPass(t, out, "TestKLSpecVector")
	})
	t.Run("rotate-after", func(t *testing.T) {
		t.Setenv("KLEMU_E2E_ROTATE", "5")
		out := klemutest.RunSelf(t, []string{"--rotate-after=5", "--stats"}, "^TestKLRotation$")
		klemutest.MustPass(t, out, "TestKLRotation")
		st, err := klemutest.ParseStats(out)
		if err != nil {
			t.Fatal(err)
		}
		if st["rotations"] != 4 || st["aesenc128kl"] != 20 || st["zf"] != 10 {
			t.Errorf("stats: rotations %d aesenc128kl %d zf %d, want 4 20 10", st["rotations"], st["aesenc128kl"], st["zf"])
		}
	})
	t.Run("sigusr2", func(t *testing.T) {
		t.Setenv("KLEMU_E2E_SIGUSR2", "1")
		out := klemutest.RunSelf(t, nil, "^TestKLRotateSIGUSR2$")
		klemutest.MustPass(t, out, "TestKLRotateSIGUSR2")
	})
	t.Run("stats", func(t *testing.T) {
		t.Setenv("KLEMU_E2E_STATS", "1")
		file := filepath.Join(t.TempDir(), "stats")
		out := klemutest.RunSelf(t, []string{"--stats=" + file}, "^TestKLStatsWorkload$")
		klemutest.MustPass(t, out, "TestKLStatsWorkload")
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		line := regexp.MustCompile(`^klemu-stats [a-z0-9.x]+ [0-9]+$`)
		var names []string
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if !line.MatchString(l) {
				t.Errorf("bad stats line %q", l)
			}
			names = append(names, strings.Fields(l)[1])
		}
		for i := 1; i < len(names); i++ {
			if names[i-1] >= names[i] {
				t.Errorf("stats not sorted: %q before %q", names[i-1], names[i])
			}
		}
		st, err := klemutest.ParseStats(b)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{"encodekey128": 2, "encodekey256": 1, "aesenc128kl": 4, "aesdec128kl": 3,
			"aesenc256kl": 3, "aesdec256kl": 3, "aesencwide128kl": 3, "aesdecwide128kl": 3,
			"aesencwide256kl": 3, "aesdecwide256kl": 3, "zf": 1, "rotations": 0}
		for k, v := range want {
			if n, ok := st[k]; !ok || n != v {
				t.Errorf("stats %s = %d (present %v), want %d", k, n, ok, v)
			}
		}
		if st["cpuid.0x19"] < 1 || st["cpuid.0x0"] < 1 {
			t.Errorf("CPUID leaves not counted: %v", st)
		}
	})
	t.Run("exit-status", func(t *testing.T) {
		cmd := klemutest.SelfCommand(t, nil, "^TestKLExit$")
		cmd.Env = append(cmd.Env, "KLEMU_E2E_EXIT=7")
		if out, err := cmd.CombinedOutput(); cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 7 {
			t.Errorf("exit status: %v, want 7\n%s", err, out)
		}
		cmd = klemutest.SelfCommand(t, nil, "^TestKLExit$")
		cmd.Env = append(cmd.Env, "KLEMU_E2E_EXIT=segv")
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || !ee.Sys().(syscall.WaitStatus).Signaled() || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGSEGV {
			t.Errorf("klemu did not re-raise SIGSEGV: %v\n%s", err, out)
		}
	})
	t.Run("signals", func(t *testing.T) {
		cmd := klemutest.SelfCommand(t, nil, "^TestKLWaitSignals$")
		cmd.Env = append(cmd.Env, "KLEMU_E2E_SIGNALS=1")
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var log []string
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			l := sc.Text()
			log = append(log, l)
			if n, ok := strings.CutPrefix(l, "waiting "); ok {
				sig := map[string]syscall.Signal{"2": syscall.SIGINT, "15": syscall.SIGTERM, "1": syscall.SIGHUP, "3": syscall.SIGQUIT}[n]
				time.Sleep(10 * time.Millisecond)
				cmd.Process.Signal(sig) // to klemu, which forwards it
			}
		}
		err = cmd.Wait()
		all := strings.Join(log, "\n")
		if err != nil || !strings.Contains(all, "all signals received") {
			t.Errorf("signals to klemu not forwarded: %v\n%s", err, all)
		}
	})
	t.Run("other-race-mode", func(t *testing.T) {
		// The suite runs in the mode of this binary; build it in the other
		// (-race or not) and run it too. Cached after the first build
		// (about 25 s cold on 2 cores).
		if testing.Short() {
			t.Skip("builds the e2e test binary a second time; not with -short")
		}
		// go test puts $GOROOT/bin first on the PATH of test binaries.
		goTool, err := exec.LookPath("go")
		if err != nil {
			t.Fatalf("no go command to build the other mode with: %v", err)
		}
		bin := filepath.Join(t.TempDir(), "e2e.test")
		args := []string{"test", "-c", "-o", bin}
		mode := "-race"
		if raceEnabled {
			mode = "without -race"
		} else {
			args = append(args, "-race")
		}
		args = append(args, "github.com/go-keylocker/keylocker/internal/klemu/e2e")
		if out, err := exec.Command(goTool, args...).CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		cmd := klemutest.Command(t, nil, bin, klemutest.SelfArgs(t, mainSuite)...)
		cmd.Env = append(os.Environ(), "KLEMU_INNER=1", "GORACE=atexit_sleep_ms=0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("suite %s under klemu: %v\n%s", mode, err, out)
		}
		klemutest.MustPass(t, out, "TestKLCPUID", "TestKLAES", "TestKLAddressing", "TestKLConcurrent", "TestKLSignals", "TestKLFork", "TestKLCrash")
		t.Logf("suite passed %s too", mode)
	})
	t.Run("cost", func(t *testing.T) {
		t.Setenv("KLEMU_E2E_COST", "1")
		out := klemutest.RunSelf(t, nil, "^TestKLCost$")
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, "klemu-cost") {
				t.Log(l)
			}
		}
	})
}

// TestBreakages runs the suite under deliberately broken emulators
// (KLEMU_BREAK) and checks that the tests catch each breakage. It takes a
// few seconds: skipped with -short.
func TestBreakages(t *testing.T) {
	skipInner(t)
	if testing.Short() {
		t.Skip("runs the suite 4 times; not with -short")
	}
	klemutest.Available(t)
	for _, tc := range []struct {
		mode    string
		pattern string
		fails   []string
	}{
		{"riprel", "^TestKL(AES|Addressing)$", []string{"TestKLAddressing"}},
		{"flags", "^TestKL(AES|EncodeKey)$", []string{"TestKLAES", "TestKLEncodeKey"}},
		{"xmm456", "^TestKL(AES|EncodeKey)$", []string{"TestKLAES", "TestKLEncodeKey"}},
		{"nocpuid", "^TestKLCPUID$", []string{"TestKLCPUID"}},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			cmd := klemutest.SelfCommand(t, nil, tc.pattern)
			cmd.Env = append(cmd.Env, "KLEMU_BREAK="+tc.mode)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("KLEMU_BREAK=%s: the suite passed on a broken emulator:\n%s", tc.mode, out)
			}
			for _, n := range tc.fails {
				if !strings.Contains(string(out), "--- FAIL: "+n+" ") {
					t.Errorf("KLEMU_BREAK=%s: %s did not fail:\n%s", tc.mode, n, out)
				}
			}
		})
	}
}
