package fallback

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

const envHelper = "FALLBACK_TEST_HELPER"

// runHelper runs this test binary again with only TestHelperRegion, in mode
// mode, and returns its stdout.
func runHelper(t *testing.T, mode string) []byte {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperRegion$", "-test.count=1")
	cmd.Env = append(os.Environ(), envHelper+"="+mode)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper %s: %v\nstdout:\n%s\nstderr:\n%s", mode, err, out, stderr.String())
	}
	return out
}

type helperReport struct {
	Before, After MemoryStatus
	Err           string
	Forked        string // "wiped", "kept" or the reason it did not run
}

func parseReport(t *testing.T, out []byte) helperReport {
	t.Helper()
	for _, line := range strings.Split(string(out), "\n") {
		if s, ok := strings.CutPrefix(line, "REPORT "); ok {
			var r helperReport
			if err := json.Unmarshal([]byte(s), &r); err != nil {
				t.Fatal(err)
			}
			return r
		}
	}
	t.Fatalf("no report in helper output:\n%s", out)
	return helperReport{}
}

// Status before creation reports nothing; with mlock refused (RLIMIT_MEMLOCK
// 0 and CAP_IPC_LOCK dropped) the region still works and Status says why it
// is not locked.
func TestStatusMlockRefused(t *testing.T) {
	r := parseReport(t, runHelper(t, "nomlock"))
	t.Logf("before: %+v", r.Before)
	t.Logf("after:  %+v", r.After)
	if r.Err != "" {
		t.Fatalf("WrapKey failed: %s", r.Err)
	}
	b := r.Before
	if b.Locked || b.DontDump || b.WipeOnFork || b.GuardPages || b.ReadOnly || len(b.Notes) != 1 || !strings.Contains(b.Notes[0], "not been created") {
		t.Errorf("Status before creation: %+v", b)
	}
	a := r.After
	if a.Locked {
		t.Skip("mlock succeeded despite RLIMIT_MEMLOCK=0 without CAP_IPC_LOCK (unexpected kernel policy)")
	}
	joined := strings.Join(a.Notes, "\n")
	if !strings.Contains(joined, "mlock refused") || !strings.Contains(joined, "RLIMIT_MEMLOCK=0 bytes") || !strings.Contains(joined, "swap") {
		t.Errorf("notes do not explain the mlock failure: %q", a.Notes)
	}
	if !a.GuardPages || !a.ReadOnly || !a.DontDump {
		t.Errorf("other protections lost: %+v", a)
	}
}

// A child created by fork (without exec) sees the region as zeros and
// WrapKey returns ErrWiped there.
func TestForkWipesRegion(t *testing.T) {
	r := parseReport(t, runHelper(t, "fork"))
	if r.Err != "" {
		t.Fatal(r.Err)
	}
	if !r.After.WipeOnFork {
		t.Skipf("no MADV_WIPEONFORK here: %v", r.After.Notes)
	}
	if r.Forked != "wiped" {
		t.Fatalf("fork child: %s", r.Forked)
	}
}

func TestHelperRegion(t *testing.T) {
	mode := os.Getenv(envHelper)
	if mode == "" {
		t.Skip("helper process for the region tests")
	}
	var rep helperReport
	rep.Before = Status()
	switch mode {
	case "nomlock":
		// RLIMIT_MEMLOCK is per process; capabilities are per thread, so
		// the thread that drops CAP_IPC_LOCK must be the one calling mlock.
		runtime.LockOSThread()
		if err := unix.Setrlimit(unix.RLIMIT_MEMLOCK, &unix.Rlimit{}); err != nil {
			t.Fatal(err)
		}
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err == nil {
			data[0].Effective &^= 1 << unix.CAP_IPC_LOCK
			unix.Capset(&hdr, &data[0])
		}
	}
	if _, err := WrapKey(); err != nil {
		rep.Err = err.Error()
	}
	rep.After = Status()
	if mode == "fork" && rep.Err == "" {
		rep.Forked = forkCheck()
	}
	b, _ := json.Marshal(rep)
	fmt.Printf("REPORT %s\n", b)
}

// forkCheck forks (clone with SIGCHLD only, i.e. fork(2)); the child calls
// WrapKey and exits at once with raw syscalls (no runtime calls, no
// allocation: only the forking thread exists in it).
func forkCheck() string {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	burnStack() // make sure the child does not need to grow its stack
	pid, _, errno := unix.RawSyscall6(unix.SYS_CLONE, uintptr(unix.SIGCHLD), 0, 0, 0, 0, 0)
	if errno != 0 {
		return "fork failed: " + errno.Error()
	}
	if pid == 0 {
		code := uintptr(1)
		if _, err := WrapKey(); err == ErrWiped {
			code = 0
		}
		unix.RawSyscall(unix.SYS_EXIT_GROUP, code, 0, 0)
	}
	var ws unix.WaitStatus
	if _, err := unix.Wait4(int(pid), &ws, 0, nil); err != nil {
		return "wait: " + err.Error()
	}
	switch {
	case ws.Exited() && ws.ExitStatus() == 0:
		return "wiped"
	case ws.Exited():
		return "kept: WrapKey in the fork child did not return ErrWiped"
	}
	return fmt.Sprintf("fork child died: %v", ws)
}
