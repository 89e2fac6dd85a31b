package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-keylocker/keylocker/internal/cliutil/ptytest"
	"golang.org/x/sys/unix"
)

// ptyCmd is the aeskl command run on a pseudo-terminal as its
// controlling terminal.
type ptyCmd struct {
	cmd    *exec.Cmd
	master *os.File
	slave  *os.File
	mu     sync.Mutex
	out    bytes.Buffer
	done   chan error
}

func startOnPTY(t *testing.T, args ...string) *ptyCmd {
	return startOnPTYOut(t, nil, args...)
}

// startOnPTYOut is startOnPTY with standard output to stdout instead of
// the terminal (nil: the terminal).
func startOnPTYOut(t *testing.T, stdout *os.File, args ...string) *ptyCmd {
	m, s := ptytest.Open(t)
	p := &ptyCmd{master: m, slave: s, done: make(chan error, 1)}
	p.cmd = exec.Command(os.Args[0], args...)
	p.cmd.Env = append(os.Environ(), "AESKL_CMD_TEST=1", "GORACE=atexit_sleep_ms=0")
	p.cmd.Stdin, p.cmd.Stdout, p.cmd.Stderr = s, s, s
	if stdout != nil {
		p.cmd.Stdout = stdout
	}
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := m.Read(b)
			p.mu.Lock()
			p.out.Write(b[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() { p.cmd.Process.Kill() })
	return p
}

func (p *ptyCmd) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// waitFor waits until the terminal shows s (count times) and is in raw
// mode.
func (p *ptyCmd) waitFor(t *testing.T, s string, count int) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); strings.Count(p.output(), s) < count; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the terminal does not show %q after a minute: %q", s, p.output())
		}
	}
	// Then until the prompt has put the terminal in raw mode (no echo).
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(time.Millisecond) {
		tio, err := unix.IoctlGetTermios(int(p.slave.Fd()), unix.TCGETS)
		if err != nil {
			t.Fatal(err)
		}
		if tio.Lflag&unix.ECHO == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the terminal still echoes a minute after %q", s)
		}
	}
}

// wait returns the exit status (minus the signal's number if a signal
// ended the command) and checks that the terminal echoes
// again, in canonical mode, as before the command.
func (p *ptyCmd) wait(t *testing.T) int {
	t.Helper()
	var err error
	select {
	case err = <-p.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("the command did not end; terminal: %q", p.output())
	}
	time.Sleep(100 * time.Millisecond) // for the reader to drain the terminal
	tio, terr := unix.IoctlGetTermios(int(p.slave.Fd()), unix.TCGETS)
	if terr != nil {
		t.Fatal(terr)
	}
	if tio.Lflag&unix.ECHO == 0 || tio.Lflag&unix.ICANON == 0 || tio.Lflag&unix.ISIG == 0 {
		t.Errorf("the terminal is left without echo, canonical mode or signals (lflag %#x); terminal: %q", tio.Lflag, p.output())
	}
	if ee, ok := err.(*exec.ExitError); ok {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -int(ws.Signal())
		}
		return ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0
}

// TestFilePrompt runs encrypt on a pseudo-terminal: the passphrase is
// asked twice and the file decrypts with it; different answers, Ctrl-C
// and SIGINT, SIGTERM or SIGHUP at the prompt fail, leave no OUT, and the
// terminal echoes again afterwards. With OUT a file the signals go
// through the output's handler too (status 130); with OUT standard output
// only the prompt's guard restores the terminal, and the signal, raised
// again, ends the command.
func TestFilePrompt(t *testing.T) {
	dir := t.TempDir()
	in := write(t, filepath.Join(dir, "in"), []byte("typed passphrase"))
	out := filepath.Join(dir, "out")
	cost := "--argon2=1,1,1"

	p := startOnPTY(t, "encrypt", "--quiet", cost, in, out)
	p.waitFor(t, "Passphrase: ", 1)
	p.master.Write([]byte("pass word\r"))
	p.waitFor(t, "Again: ", 1)
	p.master.Write([]byte("pass word\r"))
	if code := p.wait(t); code != 0 {
		t.Fatalf("encrypt: status %d; terminal: %q", code, p.output())
	}
	if strings.Contains(p.output(), "pass word") {
		t.Errorf("the passphrase was echoed: %q", p.output())
	}
	pf := write(t, filepath.Join(dir, "pf"), []byte("pass word"))
	if got := mustRunFile(t, nil, "decrypt", "--quiet", "--passphrase-file", pf, out, "-"); got != "typed passphrase" {
		t.Errorf("decrypted %q", got)
	}
	os.Remove(out)

	for _, c := range []struct {
		name   string
		typed  string // after the first prompt
		sig    os.Signal
		status int
		says   string
	}{
		{"different answers", "one\rtwo\r", nil, 1, "the passphrases differ"},
		{"Ctrl-C", "abc\x03", nil, 130, "interrupted"},
		{"Ctrl-C at Again", "abc\rab\x03", nil, 130, "interrupted"},
		{"SIGINT", "abc", os.Interrupt, 130, "was not written"},
		{"SIGTERM", "", syscall.SIGTERM, 130, "was not written"},
		{"SIGHUP", "abc\rab", syscall.SIGHUP, 130, "was not written"},
	} {
		if c.sig != nil && ignoredHere(t, c.sig) {
			continue
		}
		p := startOnPTY(t, "encrypt", "--quiet", cost, in, out)
		p.waitFor(t, "Passphrase: ", 1)
		p.master.Write([]byte(c.typed))
		if c.sig != nil {
			p.cmd.Process.Signal(c.sig)
		}
		if code := p.wait(t); code != c.status || !strings.Contains(p.output(), c.says) {
			t.Errorf("%s: status %d, terminal %q; want %d and %q", c.name, code, p.output(), c.status, c.says)
		}
		if names := dirNames(t, dir); len(names) != 2 {
			t.Errorf("%s: files left: %v", c.name, names)
		}
	}
}

// ignoredHere reports, and logs loudly, that this process ignores sig (as
// under nohup): the commands it starts inherit that, and the signal would
// not reach them.
func ignoredHere(t *testing.T, sig os.Signal) bool {
	if !signal.Ignored(sig) {
		return false
	}
	t.Logf("SKIPPED: %v is ignored by this process (nohup?) and so by the command it starts: that case is not tested", sig)
	return true
}

// TestFilePromptStdout: a signal at the prompt of encrypt to standard
// output (no output file, so no handler of the command's own) is answered
// by the prompt's guard alone: the terminal echoes again, and the signal,
// raised again, ends the command.
func TestFilePromptStdout(t *testing.T) {
	dir := t.TempDir()
	in := write(t, filepath.Join(dir, "in"), []byte("typed passphrase"))
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		if ignoredHere(t, sig) {
			continue
		}
		stdout, err := os.Create(filepath.Join(dir, "stdout"))
		if err != nil {
			t.Fatal(err)
		}
		p := startOnPTYOut(t, stdout, "encrypt", "--quiet", "--argon2=1,1,1", in, "-")
		stdout.Close()
		p.waitFor(t, "Passphrase: ", 1)
		p.master.Write([]byte("abc"))
		p.cmd.Process.Signal(sig)
		if code := p.wait(t); code != -int(sig) {
			t.Errorf("%v: status %d, want the signal to end the command; terminal %q", sig, code, p.output())
		}
	}
}

// TestFileArgon2Unlocked: when argon2id's working memory is more than
// RLIMIT_MEMLOCK lets the command lock (run as root, without
// CAP_IPC_LOCK), encrypt says so once on stderr, and not when it fits.
func TestFileArgon2Unlocked(t *testing.T) {
	prefix := withoutMemlock(t)
	dir := t.TempDir()
	in := write(t, filepath.Join(dir, "in"), []byte("plaintext"))
	pw := write(t, filepath.Join(dir, "pw"), []byte("pass word"))
	for _, c := range []struct {
		cost string
		note bool
	}{{"1,32,1", true}, {"1,1,1", false}} {
		out := filepath.Join(dir, "out-"+c.cost)
		args := append(append(append([]string(nil), prefix...), os.Args[0]), "encrypt", "--quiet", "--argon2="+c.cost, "--passphrase-file", pw, in, out)
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "AESKL_CMD_TEST=1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v: %s", c.cost, err, stderr.String())
		}
		n := strings.Count(stderr.String(), "is not locked")
		if c.note && (n != 1 || !strings.Contains(stderr.String(), "32 MiB") || !strings.Contains(stderr.String(), "RLIMIT_MEMLOCK")) ||
			!c.note && stderr.Len() != 0 {
			t.Errorf("--argon2=%s: stderr %q, want the note %v (once)", c.cost, stderr.String(), c.note)
		}
	}
}

// withoutMemlock skips the test unless RLIMIT_MEMLOCK is below 32 MiB,
// and returns the command prefix that runs a child without CAP_IPC_LOCK
// when the test runs as root (setpriv), so that the limit holds for it.
func withoutMemlock(t *testing.T) []string {
	t.Helper()
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &rl); err != nil || rl.Cur == unix.RLIM_INFINITY || rl.Cur >= 32<<20 {
		t.Skipf("RLIMIT_MEMLOCK %d: 32 MiB of Argon2 memory would be locked", rl.Cur)
	}
	if os.Geteuid() != 0 {
		return nil
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("root, and no setpriv to run without CAP_IPC_LOCK")
	}
	return []string{setpriv, "--bounding-set=-ipc_lock", "--inh-caps=-ipc_lock", "--"}
}

// TestLUKSArgon2Unlocked: aeskl luks decrypt and encrypt say once on
// stderr that the Argon2 memory of a keyslot (argon2id 32 MiB, argon2i
// 33000 KiB, made by cryptsetup) is not locked when RLIMIT_MEMLOCK does
// not allow it, also before the error of a wrong passphrase, and say
// nothing for a keyslot whose memory fits.
func TestLUKSArgon2Unlocked(t *testing.T) {
	prefix := withoutMemlock(t)
	cs := cryptsetup(t)
	dir := t.TempDir()
	keyFile := writeFile(t, dir, "pass", []byte("pw"))
	wrong := writeFile(t, dir, "wrong", []byte("not it"))
	in := writeFile(t, dir, "in", make([]byte, 64<<10))
	for _, c := range []struct {
		pbkdf, memory string // memory in KiB
		note          string // what the note says of it ("": no note)
	}{{"argon2id", "32768", "argon2id's 32 MiB"}, {"argon2i", "33000", "argon2i's 33000 KiB"}, {"argon2id", "32", ""}} {
		img := writeFile(t, dir, "img-"+c.memory, make([]byte, 3<<20))
		runCS(t, cs, nil, "luksFormat", "--type", "luks2", "--luks2-metadata-size", "16k", "--luks2-keyslots-size", "1000k",
			"--key-file", keyFile, "--batch-mode", "--pbkdf", c.pbkdf, "--pbkdf-memory", c.memory,
			"--pbkdf-force-iterations", "4", "--pbkdf-parallel", "1", img)
		for _, run := range []struct{ op, key string }{{"decrypt", keyFile}, {"decrypt", wrong}, {"encrypt", keyFile}} {
			out := filepath.Join(dir, "out")
			os.Remove(out)
			other := out
			if run.op == "encrypt" {
				other = in
			}
			args := append(append(append([]string(nil), prefix...), os.Args[0]), "luks", run.op, "--quiet", "--key-file", run.key, img, other)
			cmd := exec.Command(args[0], args[1:]...)
			cmd.Env = append(os.Environ(), "AESKL_CMD_TEST=1")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			what := fmt.Sprintf("%s %s KiB, %s with %s", c.pbkdf, c.memory, run.op, filepath.Base(run.key))
			if (err != nil) != (run.key == wrong) {
				t.Fatalf("%s: %v: %s", what, err, stderr.String())
			}
			e := stderr.String()
			n := strings.Count(e, "is not locked")
			if c.note != "" && (n != 1 || !strings.Contains(e, "aeskl luks "+run.op+": note: "+c.note) || !strings.Contains(e, "RLIMIT_MEMLOCK")) ||
				c.note == "" && n != 0 {
				t.Errorf("%s: stderr %q, want the note %q (once)", what, e, c.note)
			}
		}
	}
}
