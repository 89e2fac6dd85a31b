package tracer

import (
	"errors"
	"os"
	"os/exec"
	"testing"

	"github.com/go-keylocker/keylocker/internal/klemu/cpuid"
)

// Every Go binary has internal/cpu.cpuid: --cpuid=patch must find it, even
// in a binary without an ELF symbol table (go test strips its binaries).
func TestCPUIDSites(t *testing.T) {
	sites, entry, err := cpuidSites(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(sites) == 0 || entry == 0 {
		t.Fatalf("no CPUID site found in %s (entry %#x)", os.Args[0], entry)
	}
	t.Logf("%d sites: %#x", len(sites), sites)
}

func TestProcIDs(t *testing.T) {
	g, pp := procIDs(os.Getpid())
	if g != os.Getpid() || pp != os.Getppid() {
		t.Errorf("procIDs = %d %d, want %d %d", g, pp, os.Getpid(), os.Getppid())
	}
}

func runSh(t *testing.T, mode Mode, script string) (int, error) {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	tr, err := New(Config{Profile: cpuid.Full, CPUID: mode})
	if err != nil {
		t.Fatal(err)
	}
	ws, err := tr.Run(sh, []string{"sh", "-c", script}, os.Environ())
	if err != nil {
		return 0, err
	}
	if ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return ws.ExitStatus(), nil
}

// The tracer runs a program tree (fork + exec) and returns its status.
func TestRunExitStatus(t *testing.T) {
	code, err := runSh(t, ModePatch, "sh -c 'exit 3'; exit $?")
	var u *Unavailable
	if errors.As(err, &u) {
		t.Skipf("SKIP: %v", err)
	}
	if err != nil || code != 3 {
		t.Fatalf("exit %d, %v; want 3", code, err)
	}
	code, err = runSh(t, ModePatch, "kill -TERM $$")
	if err != nil || code != 128+15 {
		t.Fatalf("killed: %d, %v; want 143", code, err)
	}
}

// ModeFault reports Unavailable where CPUID faulting is refused, and runs
// otherwise.
func TestFaultMode(t *testing.T) {
	code, err := runSh(t, ModeFault, "exit 0")
	var u *Unavailable
	switch {
	case errors.As(err, &u):
		t.Logf("CPUID faulting unavailable here, as reported: %v", err)
		if probeFaulting() == nil {
			t.Error("Unavailable although CPUID faulting works")
		}
	case err != nil:
		t.Fatal(err)
	case code != 0:
		t.Fatalf("exit %d", code)
	}
}

// The exec-stop system call injection that arms CPUID faulting, checked
// with a harmless arch_prctl(ARCH_GET_CPUID) (returns 1: CPUID enabled) at
// the first exec (PTRACE_TRACEME stop) and at a PTRACE_EVENT_EXEC stop: the
// program must run on undisturbed.
func TestExecStopInjection(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	tr, err := New(Config{Profile: cpuid.Full, CPUID: ModePatch})
	if err != nil {
		t.Fatal(err)
	}
	var got []uint64
	tr.testAfterArm = func(pid int) {
		ret, err := tr.injectSyscall(pid, sysArchPrctl, 0x1011 /* ARCH_GET_CPUID */, 0)
		if err != nil {
			t.Errorf("pid %d: %v", pid, err)
		}
		got = append(got, ret)
	}
	ws, err := tr.Run(sh, []string{"sh", "-c", "exec " + sh + " -c 'exit 5'"}, os.Environ())
	var u *Unavailable
	if errors.As(err, &u) {
		t.Skipf("SKIP: %v", err)
	}
	if err != nil || !ws.Exited() || ws.ExitStatus() != 5 {
		t.Fatalf("status %v, %v; want exit 5", ws, err)
	}
	if len(got) != 2 || got[0] != 1 || got[1] != 1 {
		t.Errorf("ARCH_GET_CPUID at the exec stops returned %v, want [1 1]", got)
	}
}

// The program's environment gets KLEMU_ACTIVE, KLEMU_PROFILE and KLEMU_CPUID,
// replacing inherited values.
func TestEnvironment(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	tr, err := New(Config{Profile: cpuid.NoWide, CPUID: ModePatch})
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "KLEMU_PROFILE=absent", "KLEMU_ACTIVE=")
	script := `[ "$KLEMU_ACTIVE" = 1 ] && [ "$KLEMU_PROFILE" = no-wide ] && [ "$KLEMU_CPUID" = patch ]`
	ws, err := tr.Run(sh, []string{"sh", "-c", script}, env)
	var u *Unavailable
	if errors.As(err, &u) {
		t.Skipf("SKIP: %v", err)
	}
	if err != nil || ws.ExitStatus() != 0 {
		t.Fatalf("environment not as documented: %v %v", ws, err)
	}
}
