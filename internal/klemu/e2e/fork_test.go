//go:build linux && amd64

package e2e

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"syscall"
	"testing"
	"time"
)

// TestKLFork: a process made by fork WITHOUT exec shares its parent's text
// copy-on-write, so under --cpuid=patch it runs the parent's patched CPUID
// sites (UD2) and klemu must answer them there too (under CPUID faulting,
// which fork inherits, this holds trivially). klemu knows the sites of such
// a child in two ways (internal/klemu/tracer/patch_linux_amd64.go): onFork
// copies the parent's table at PTRACE_EVENT_FORK/VFORK, and isPatched falls
// back to the table of the child's parent process (PPid) when it has none.
// Each way is the only one that works for one of the clones below, so
// removing either fails this test:
//
//   - fork: clone(SIGCHLD), PTRACE_EVENT_FORK; onFork, else the PPid fallback.
//   - clone-parent: clone(CLONE_PARENT|SIGCHLD), PTRACE_EVENT_FORK; the
//     child's PPid is klemu's, so only onFork works.
//   - clone-nosignal: clone with exit signal 0, a process (not a thread) that
//     the kernel reports as PTRACE_EVENT_CLONE: onFork (for a clone event
//     whose child is its own thread group), else the PPid fallback.
//   - clone-parent-nosignal: CLONE_PARENT with exit signal 0: a clone event
//     whose PPid is klemu's: only onFork on clone events works.
//
// The child runs its CPUID only after the parent returned from clone, that
// is after klemu has handled the clone event: the order is fixed, not a race.
func TestKLFork(t *testing.T) {
	requireInner(t)
	_, _, c7, _ := cpuidRaw(7, 0)
	a, b, c, d := cpuidRaw(0x19, 0)
	want := [5]uint32{c7, a, b, c, d}
	if kl := c7&(1<<23) != 0; kl != (profile() != "absent") {
		t.Fatalf("profile %s: the parent sees leaf 7 ECX[23] = %v", profile(), kl)
	}
	const cloneParent = 0x8000 // CLONE_PARENT
	for _, tc := range []struct {
		name     string
		flags    uintptr
		waitable bool // a child of this process (not with CLONE_PARENT)
	}{
		{"fork", uintptr(syscall.SIGCHLD), true},
		{"clone-parent", cloneParent | uintptr(syscall.SIGCHLD), false},
		{"clone-nosignal", 0, true},
		{"clone-parent-nosignal", cloneParent, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := forkLeaves(tc.flags, tc.waitable)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("forked child: leaf 7 ECX, leaf 19H EAX EBX ECX EDX = %#x, the parent sees %#x", got, want)
			}
		})
	}
}

// forkLeaves runs forkProbe with flags and returns what the child wrote.
func forkLeaves(flags uintptr, waitable bool) (got [5]uint32, err error) {
	var out, sync [2]int
	if err := syscall.Pipe2(out[:], syscall.O_CLOEXEC); err != nil {
		return got, err
	}
	if err := syscall.Pipe2(sync[:], syscall.O_CLOEXEC); err != nil {
		syscall.Close(out[0])
		syscall.Close(out[1])
		return got, err
	}
	syscall.ForkLock.Lock() // as ForkExec: no fd leaks into the child half-made
	pid, errno := forkProbe(flags, out[1], sync[0])
	syscall.ForkLock.Unlock()
	syscall.Close(out[1])
	syscall.Close(sync[0])
	if errno != 0 {
		syscall.Close(out[0])
		syscall.Close(sync[1])
		return got, fmt.Errorf("clone(%#x): %v", flags, syscall.Errno(errno))
	}
	// This thread is back from clone, so klemu has seen the clone event:
	// let the child run its CPUID.
	_, werr := syscall.Write(sync[1], []byte{1})
	syscall.Close(sync[1])
	if err := syscall.SetNonblock(out[0], true); err != nil {
		syscall.Close(out[0])
		syscall.Kill(pid, syscall.SIGKILL)
		return got, err
	}
	r := os.NewFile(uintptr(out[0]), "fork-probe")
	defer r.Close()
	r.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, rerr := io.ReadAll(r) // until the child exits
	if werr != nil || rerr != nil {
		syscall.Kill(pid, syscall.SIGKILL) // do not wait for a wedged child
	}
	status := "not waited for: CLONE_PARENT made it klemu's child"
	if waitable {
		var ws syscall.WaitStatus
		if _, err := syscall.Wait4(pid, &ws, syscall.WALL, nil); err != nil {
			return got, fmt.Errorf("wait4 %d: %v", pid, err)
		}
		switch {
		case ws.Exited():
			status = fmt.Sprintf("exit status %d", ws.ExitStatus())
		case ws.Signaled():
			status = "killed by " + ws.Signal().String()
		}
		if ws != 0 {
			err = fmt.Errorf("forked child %s", status)
		}
	}
	if werr != nil || rerr != nil || len(b) != 20 {
		return got, fmt.Errorf("forked child %d wrote %d bytes, want 20 (%s; SIGILL: klemu did not answer its patched CPUID): write %v, read %v",
			pid, len(b), status, werr, rerr)
	}
	for i := range got {
		got[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return got, err
}
