package memscan

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Environment variables set for a child started by RunChild.
const (
	EnvChild  = "MEMSCAN_CHILD"  // the helper test's name
	EnvKeyLen = "MEMSCAN_KEYLEN" // the key length in bytes
)

const readyLine = "memscan: child ready"

// RunChild starts this test binary again (os.Args[0]) running only the test
// helperTestName, with EnvChild and EnvKeyLen set plus env ("NAME=value"),
// writes key to the child's standard input and waits until the child calls
// Ready. It returns the child's pid, to be passed to Scan, and release,
// which lets the child finish (closes its stdin), waits for it and fails the
// test if the child failed. release is also run at cleanup.
//
// It skips the test (loudly, with the reason) off Linux and when the
// child's /proc/PID/mem cannot be read (ptrace restrictions: Yama
// ptrace_scope >= 2, a container without CAP_SYS_PTRACE, ...).
//
// The child side, in the same test file:
//
//	func TestHelperX(t *testing.T) {
//		if !memscan.IsChild("TestHelperX") {
//			t.Skip("helper process for TestX")
//		}
//		key := make([]byte, memscan.KeyLen())
//		if err := memscan.ReadKey(key); err != nil {
//			t.Fatal(err)
//		}
//		... use the key, then clear(key) ...
//		memscan.Settle()
//		memscan.Ready()
//		memscan.WaitRelease()
//	}
func RunChild(t testing.TB, helperTestName string, key []byte, env ...string) (pid int, release func()) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skipf("memscan: SKIPPED: scanning a child's memory needs Linux /proc (GOOS=%s)", runtime.GOOS)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+helperTestName+"$", "-test.count=1", "-test.timeout=2m")
	cmd.Env = append(os.Environ(), EnvChild+"="+helperTestName, EnvKeyLen+"="+strconv.Itoa(len(key)))
	cmd.Env = append(cmd.Env, env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("memscan: starting child: %v", err)
	}
	var (
		once    sync.Once
		outBuf  lockedBuffer
		outDone = make(chan struct{})
	)
	release = func() {
		once.Do(func() {
			stdin.Close()
			done := make(chan error, 1)
			go func() { <-outDone; done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("memscan: child %s failed: %v\nstdout:\n%s\nstderr:\n%s", helperTestName, err, outBuf.String(), stderr.String())
				}
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
				t.Errorf("memscan: child %s did not exit after release; killed", helperTestName)
			}
		})
	}
	t.Cleanup(release)

	// Read the child's stdout: wait for the ready line, keep the rest.
	ready := make(chan bool, 1)
	go func() {
		defer close(outDone)
		br := bufio.NewReader(stdout)
		signalled := false
		for {
			line, err := br.ReadString('\n')
			if strings.TrimSpace(line) == readyLine && !signalled {
				signalled = true
				ready <- true
			} else {
				outBuf.WriteString(line)
			}
			if err != nil {
				if !signalled {
					ready <- false
				}
				return
			}
		}
	}()

	if _, err := stdin.Write(key); err != nil {
		t.Fatalf("memscan: writing the key to the child: %v", err)
	}
	select {
	case ok := <-ready:
		if !ok {
			release()
			t.Fatalf("memscan: child %s exited before Ready\nstdout:\n%s\nstderr:\n%s", helperTestName, outBuf.String(), stderr.String())
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("memscan: child %s not ready after 30s\nstdout:\n%s\nstderr:\n%s", helperTestName, outBuf.String(), stderr.String())
	}
	pid = cmd.Process.Pid
	if err := probe(pid); err != nil {
		release()
		t.Skipf("memscan: SKIPPED: cannot read the child's memory (/proc/%d/mem): %v; this test needs ptrace access to its child (Yama ptrace_scope <= 1, or CAP_SYS_PTRACE)", pid, err)
	}
	return pid, release
}

// IsChild reports whether this process is a child started by RunChild for
// the helper test name.
func IsChild(name string) bool { return os.Getenv(EnvChild) == name }

// KeyLen is the key length the parent will send (0 outside a child).
func KeyLen() int {
	n, _ := strconv.Atoi(os.Getenv(EnvKeyLen))
	return n
}

// ReadKey fills buf from standard input with os.Stdin.Read, which reads
// straight into buf (no bufio, no intermediate buffer in this process).
func ReadKey(buf []byte) error {
	for n := 0; n < len(buf); {
		m, err := os.Stdin.Read(buf[n:])
		n += m
		if err != nil && n < len(buf) {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("memscan: reading the key: %w", err)
		}
	}
	return nil
}

// Settle runs the garbage collector twice so that unreachable objects are
// freed (freed memory is not zeroed: a key in a dead object is still found,
// as it should be).
func Settle() {
	runtime.GC()
	runtime.GC()
}

// Ready tells the parent that the child is ready to be scanned (and, where
// Yama restricts ptrace to ancestors, lets the parent's gcore attach).
func Ready() {
	allowParentTrace()
	os.Stdout.WriteString(readyLine + "\n")
}

// WaitRelease blocks until the parent calls release (stdin reaches EOF).
func WaitRelease() {
	var b [1]byte
	for {
		if _, err := os.Stdin.Read(b[:]); err != nil {
			return
		}
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) WriteString(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(s)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// ScanChild runs helperTestName in a child process (RunChild, with key),
// searches all of its memory for needles (ScanDetailed), releases it and
// returns the hits. It fails t if the scan cannot run or reads less than
// 1 MiB: such a scan proves nothing.
func ScanChild(t testing.TB, helperTestName string, key []byte, needles [][]byte) []Hit {
	t.Helper()
	pid, release := RunChild(t, helperTestName, key)
	res, err := ScanDetailed(pid, needles)
	release()
	if err != nil {
		t.Fatal(err)
	}
	if res.Bytes < 1<<20 {
		t.Fatalf("memscan: only %d bytes scanned: the scan proves nothing", res.Bytes)
	}
	return res.Hits
}
