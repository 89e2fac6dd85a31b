package cliutil

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-keylocker/keylocker/internal/cliutil/ptytest"
	"golang.org/x/sys/unix"
)

// TestMain runs the prompt of TestPromptSignalHandled when the test binary
// is started as its child.
func TestMain(m *testing.M) {
	if os.Getenv("CLIUTIL_PROMPT_CHILD") != "" {
		promptChild()
		return
	}
	os.Exit(m.Run())
}

// promptChild asks for a passphrase with a SIGHUP handler of its own that
// does not end the process, and says what PromptSecret returned.
func promptChild() {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	s, err := PromptSecret("Passphrase: ", 64, false)
	if s != nil {
		s.Close()
	}
	fmt.Printf("RESULT: %v\n", err)
	select {
	case <-hup:
		fmt.Println("HANDLER: got SIGHUP")
	case <-time.After(5 * time.Second):
		fmt.Println("HANDLER: no SIGHUP")
	}
}

// TestPromptSignalHandled: a SIGHUP at a real terminal's prompt, in a
// process whose own handler does not end it, ends the prompt at once with
// ErrInterrupted and the terminal echoing again; the signal reaches the
// process's handler too. The read under way ends only if /dev/tty stays
// in the runtime's poller (non-blocking), where closing it ends the read.
func TestPromptSignalHandled(t *testing.T) {
	m, s := ptytest.Open(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CLIUTIL_PROMPT_CHILD=1", "GORACE=atexit_sleep_ms=0")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = s, s, s
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	var (
		mu  sync.Mutex
		out bytes.Buffer
	)
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := m.Read(b)
			mu.Lock()
			out.Write(b[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	output := func() string {
		mu.Lock()
		defer mu.Unlock()
		return out.String()
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	echo := func() bool {
		tio, err := unix.IoctlGetTermios(int(s.Fd()), unix.TCGETS)
		if err != nil {
			t.Fatal(err)
		}
		return tio.Lflag&unix.ECHO != 0
	}
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(output(), "Passphrase: ") || echo(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no prompt with echo off after a minute: %q", output())
		}
	}
	cmd.Process.Signal(syscall.SIGHUP)
	for deadline := time.Now().Add(3 * time.Second); !strings.Contains(output(), "RESULT: "); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the prompt has not returned 3 s after SIGHUP (echo on: %v): %q", echo(), output())
		}
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("the child: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the child did not end: %q", output())
	}
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(output(), "HANDLER: "); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			break
		}
	}
	if got := output(); !strings.Contains(got, "RESULT: "+ErrInterrupted.Error()+"\r\n") || !strings.Contains(got, "HANDLER: got SIGHUP") {
		t.Errorf("want the prompt to return ErrInterrupted and the handler to get SIGHUP; terminal: %q", got)
	}
	if !echo() {
		t.Error("the terminal does not echo after the prompt")
	}
}
