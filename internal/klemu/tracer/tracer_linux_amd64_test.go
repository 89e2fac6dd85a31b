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
