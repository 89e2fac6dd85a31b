// Package klemutest runs tests under klemu, the Key Locker emulator: it
// builds cmd/klemu once per process, probes whether emulation can run here
// and re-executes the current test binary (or any program) under it.
//
// A package that wants its Key Locker tests run under the emulator writes
//
//	func TestKeyLockerUnderKlemu(t *testing.T) {
//		if klemutest.Inner() {
//			t.Skip("already under klemu")
//		}
//		klemutest.RunSelf(t, nil, "^TestKL")
//	}
//
// and makes its TestKL* tests skip unless klemutest.Inner() or the CPU has
// Key Locker.
//
// CPUID interception: klemutest probes klemu with --cpuid=fault (CPUID
// faulting) and runs with it where it works. Where the machine lacks it
// (AMD without CpuidUserDis, most hypervisors), klemutest runs klemu with
// --cpuid=patch (the executable's *cpuid* helpers are patched) and says so
// in the test log. KLEMUTEST_CPUID=fault|patch forces a mode (fault: skip
// where CPUID faulting is unavailable).
package klemutest

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// ExitUnavailable is klemu's exit status when emulation cannot run here.
const ExitUnavailable = 120

// Inner reports whether this process runs under klemu.
func Inner() bool { return os.Getenv("KLEMU_ACTIVE") != "" }

const pkgPath = "github.com/go-keylocker/keylocker/cmd/klemu"

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
	buildFail bool // a compile error: fail rather than skip

	probeOnce  sync.Once
	probeFlags []string // flags every run gets (the CPUID mode)
	probeNote  string   // logged by Available
	probeSkip  string   // non-empty: emulation unavailable
	probeFail  string   // non-empty: klemu itself failed (a bug: the tests fail)
)

var compileError = regexp.MustCompile(`(?m)\.go:\d+(:\d+)?: `)

// goTool is the go command: go test puts $GOROOT/bin first on the PATH of
// the test binaries it runs.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go"
}

// Binary builds cmd/klemu once per process and returns its path. It skips
// tb off linux/amd64 or if the build fails for a reason other than a
// compile error (which fails tb).
func Binary(tb testing.TB) string {
	tb.Helper()
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		tb.Skipf("klemu runs only on linux/amd64 (this is %s/%s)", runtime.GOOS, runtime.GOARCH)
	}
	buildOnce.Do(func() {
		dir := filepath.Join(os.TempDir(), fmt.Sprintf("klemutest-%d", os.Getuid()))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			buildErr = err
			return
		}
		tmp, err := os.CreateTemp(dir, "klemu-*.tmp")
		if err != nil {
			buildErr = err
			return
		}
		tmp.Close()
		defer os.Remove(tmp.Name())
		cmd := exec.Command(goTool(), "build", "-o", tmp.Name(), pkgPath)
		// klemu itself is never built with -race (it would only be slower).
		var goflags []string
		for _, f := range strings.Fields(os.Getenv("GOFLAGS")) {
			if f != "-race" && f != "--race" && f != "-race=true" {
				goflags = append(goflags, f)
			}
		}
		cmd.Env = append(os.Environ(), "GOFLAGS="+strings.Join(goflags, " "))
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build %s: %v\n%s", pkgPath, err, out)
			buildFail = compileError.Match(out)
			return
		}
		// Named by content: concurrent test processes (of other checkouts,
		// too) never run each other's klemu, and an unchanged klemu is
		// shared. Binaries unused for a day are removed.
		b, err := os.ReadFile(tmp.Name())
		if err != nil {
			buildErr = err
			return
		}
		sum := sha256.Sum256(b)
		final := filepath.Join(dir, "klemu-"+hex.EncodeToString(sum[:8]))
		if err := os.Rename(tmp.Name(), final); err != nil {
			buildErr = err
			return
		}
		now := time.Now()
		os.Chtimes(final, now, now)
		if old, _ := filepath.Glob(filepath.Join(dir, "klemu-*")); len(old) > 0 {
			for _, o := range old {
				if fi, err := os.Stat(o); err == nil && now.Sub(fi.ModTime()) > 24*time.Hour {
					os.Remove(o)
				}
			}
		}
		buildPath = final
	})
	if buildErr != nil {
		if buildFail {
			tb.Fatalf("klemutest: %v", buildErr)
		}
		tb.Skipf("klemutest: cannot build klemu: %v", buildErr)
	}
	return buildPath
}

// probe runs klemu on itself (-h exits 0 at once) with the given flags.
func probe(bin string, flags ...string) (int, string) {
	args := append(append([]string{}, flags...), bin, "-h")
	cmd := exec.Command(bin, args...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &ee):
		return ee.ExitCode(), string(out)
	}
	return -1, err.Error()
}

func firstLine(s string, prefix string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return strings.TrimSpace(s)
}

// Available returns klemu's path if emulation runs here, and skips tb
// loudly with klemu's own "unavailable:" message otherwise.
func Available(tb testing.TB) string {
	tb.Helper()
	bin := probed(tb)
	if probeNote != "" {
		tb.Log(probeNote)
	}
	return bin
}

func probed(tb testing.TB) string {
	tb.Helper()
	bin := Binary(tb)
	probeOnce.Do(func() {
		force := os.Getenv("KLEMUTEST_CPUID")
		if force == "" || force == "fault" {
			probeFlags = []string{"--cpuid=fault"}
			code, out := probe(bin, probeFlags...)
			switch {
			case code == 0:
				return
			case code != ExitUnavailable:
				// klemu crashed or refused its flags: a bug, never a skip.
				probeFail = fmt.Sprintf("klemu probe failed (exit %d): %s", code, out)
				return
			case force == "fault":
				probeSkip = firstLine(out, "klemu: unavailable:")
				return
			}
			probeNote = firstLine(out, "klemu: unavailable:") +
				"\nklemutest: falling back to --cpuid=patch (CPUID answered in the executable's *cpuid* helpers only)"
		}
		probeFlags = []string{"--cpuid=patch"}
		switch code, out := probe(bin, probeFlags...); code {
		case 0:
		case ExitUnavailable:
			probeSkip = firstLine(out, "klemu: unavailable:")
		default:
			probeFail = fmt.Sprintf("klemu --cpuid=patch probe failed (exit %d): %s", code, out)
		}
	})
	if probeFail != "" {
		tb.Fatalf("klemutest: %s", probeFail)
	}
	if probeSkip != "" {
		tb.Skipf("SKIP (emulation unavailable here): %s", probeSkip)
	}
	return bin
}

// Flags returns the flags klemutest adds to every klemu run (the CPUID mode
// chosen by Available).
func Flags(tb testing.TB) []string {
	probed(tb)
	return append([]string{}, probeFlags...)
}

// Command returns a command running prog under klemu with klemuFlags (after
// the flags of Flags). It skips tb where emulation is unavailable.
func Command(tb testing.TB, klemuFlags []string, prog string, args ...string) *exec.Cmd {
	tb.Helper()
	bin := Available(tb)
	a := append(append([]string{}, probeFlags...), klemuFlags...)
	a = append(a, prog)
	a = append(a, args...)
	return exec.Command(bin, a...)
}

// SelfArgs returns the arguments that re-run the current test binary with
// -test.run=runPattern -test.v (and -test.short, -test.timeout as fitting).
func SelfArgs(t testing.TB, runPattern string) []string {
	args := []string{"-test.run=" + runPattern, "-test.v", "-test.count=1"}
	if testing.Short() {
		args = append(args, "-test.short")
	}
	if tt, ok := t.(*testing.T); ok {
		if d, ok := tt.Deadline(); ok {
			if rem := time.Until(d); rem > 2*time.Second {
				args = append(args, "-test.timeout="+(rem-time.Second).String())
			}
		}
	}
	return args
}

// SelfCommand returns the command RunSelf runs, for callers that expect
// failure or want to inspect the exit status.
func SelfCommand(t testing.TB, klemuFlags []string, runPattern string) *exec.Cmd {
	t.Helper()
	cmd := Command(t, klemuFlags, os.Args[0], SelfArgs(t, runPattern)...)
	// A -race binary sleeps 1 s at exit by default (atexit_sleep_ms).
	gorace := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
	cmd.Env = append(os.Environ(), "KLEMU_INNER=1", "GORACE="+gorace)
	return cmd
}

// RunSelf runs the current test binary under klemu with klemuFlags and
// -test.run=runPattern -test.v, env KLEMU_INNER=1. It fails t with the
// child's output if the child fails or runs no test, and returns the output
// (stdout and stderr). It skips t where emulation is unavailable, and when
// called from inside klemu (no nesting).
func RunSelf(t *testing.T, klemuFlags []string, runPattern string) []byte {
	t.Helper()
	if Inner() {
		t.Skip("klemutest.RunSelf: already running under klemu")
	}
	cmd := SelfCommand(t, klemuFlags, runPattern)
	start := time.Now()
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Start()
	if err == nil {
		// The inner binary has its own -test.timeout; this bounds a wedged
		// klemu too (killing klemu kills its tracees: PTRACE_O_EXITKILL).
		if d, ok := t.Deadline(); ok {
			timer := time.AfterFunc(time.Until(d)-500*time.Millisecond, func() { cmd.Process.Kill() })
			defer timer.Stop()
		}
		err = cmd.Wait()
	}
	out := buf.Bytes()
	if err != nil {
		t.Fatalf("%s: %v (after %v)\n%s", strings.Join(cmd.Args, " "), err, time.Since(start).Round(time.Millisecond), out)
	}
	if bytes.Contains(out, []byte("testing: warning: no tests to run")) || !bytes.Contains(out, []byte("--- PASS")) &&
		!bytes.Contains(out, []byte("--- SKIP")) {
		t.Fatalf("%s: no test matched %q\n%s", strings.Join(cmd.Args, " "), runPattern, out)
	}
	if testing.Verbose() {
		t.Logf("%s (%v):\n%s", strings.Join(cmd.Args, " "), time.Since(start).Round(time.Millisecond), out)
	}
	return out
}

// ParseStats parses klemu --stats output ("klemu-stats <name> <count>"
// lines; other lines are ignored).
func ParseStats(b []byte) (map[string]int, error) {
	m := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] != "klemu-stats" {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("klemutest: bad stats line %q", sc.Text())
		}
		n, err := strconv.Atoi(f[2])
		if err != nil {
			return nil, fmt.Errorf("klemutest: bad stats line %q: %v", sc.Text(), err)
		}
		m[f[1]] = n
	}
	if len(m) == 0 {
		return nil, errors.New("klemutest: no klemu-stats lines")
	}
	return m, nil
}

// MustPass fails t unless out (RunSelf's output, run with -test.v) shows
// each named test as passed: a test that skipped inside the emulator would
// otherwise leave the outer test green.
func MustPass(t testing.TB, out []byte, tests ...string) {
	t.Helper()
	for _, name := range tests {
		if !bytes.Contains(out, []byte("--- PASS: "+name+" ")) {
			t.Errorf("%s did not pass under klemu:\n%s", name, out)
		}
	}
}
