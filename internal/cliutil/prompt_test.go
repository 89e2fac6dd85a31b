package cliutil

import (
	"errors"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fakeTerm is a terminal for promptSecret: it reads what r gives, one byte
// at a time, only in raw mode, and records the mode and what is written.
type fakeTerm struct {
	r          io.Reader
	interrupts func() // what interrupt does besides recording it
	onRaw      func() // called by makeRaw once the terminal is raw

	mu          sync.Mutex
	out         strings.Builder
	raw         bool
	restores    int
	interrupted bool
}

func (f *fakeTerm) Read(p []byte) (int, error) {
	if !f.isRaw() {
		return 0, errors.New("fakeTerm: read outside raw mode")
	}
	return f.r.Read(p[:min(1, len(p))])
}

func (f *fakeTerm) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.out.Write(p)
}

func (f *fakeTerm) makeRaw() (func(), error) {
	f.mu.Lock()
	f.raw = true
	f.mu.Unlock()
	if f.onRaw != nil {
		f.onRaw()
	}
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.raw = false
		f.restores++
	}, nil
}

func (f *fakeTerm) interrupt() {
	f.mu.Lock()
	f.interrupted = true
	f.mu.Unlock()
	if f.interrupts != nil {
		f.interrupts()
	}
}

func (f *fakeTerm) isRaw() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.raw
}

func (f *fakeTerm) output() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.out.String()
}

// fakeSignals records what the prompt asks of os/signal.
type fakeSignals struct {
	mu         sync.Mutex
	ch         chan<- os.Signal
	watched    []os.Signal
	stopped    bool
	atStop     os.Signal     // sent on the channel by the first stop: a signal as the prompt ends
	notified   chan struct{} // closed by notify
	raised     chan os.Signal
	rawAtRaise bool // whether the terminal was still raw when the signal was raised
	term       *fakeTerm
}

func newFakeSignals(term *fakeTerm) *fakeSignals {
	return &fakeSignals{notified: make(chan struct{}), raised: make(chan os.Signal, 4), term: term}
}

func (s *fakeSignals) signals() signals {
	return signals{
		notify: func(ch chan<- os.Signal, sigs ...os.Signal) {
			s.mu.Lock()
			s.ch, s.watched = ch, sigs
			s.mu.Unlock()
			close(s.notified)
		},
		stop: func(chan<- os.Signal) {
			s.mu.Lock()
			first := !s.stopped
			s.stopped = true
			ch, sig := s.ch, s.atStop
			s.mu.Unlock()
			if first && sig != nil {
				select {
				case ch <- sig:
				default:
				}
			}
		},
		raise: func(sig os.Signal) {
			s.mu.Lock()
			s.rawAtRaise = s.term.isRaw()
			s.mu.Unlock()
			s.raised <- sig
		},
	}
}

func TestPromptSecret(t *testing.T) {
	for _, c := range []struct {
		in      string
		confirm bool
		want    string
		err     error
	}{
		{"secret\r", false, "secret", nil},
		{"secrex\x7ft\n", false, "secret", nil},
		{"secret\rsecret\r", true, "secret", nil},
		{"secret\rsecreT\r", true, "", ErrMismatch},
		{"sec\rsecret\r", true, "", ErrMismatch},
		{"secret\rsecre\r", true, "", ErrMismatch},
		{"\r\r", true, "", nil},
		{"ab\x03", false, "", ErrInterrupted},
		{"secret\rab\x03", true, "", ErrInterrupted},
		{"\x04", false, "", io.EOF},
		{"toolong\r", false, "", errors.New("longer than")},
	} {
		term := &fakeTerm{r: strings.NewReader(c.in)}
		sigs := newFakeSignals(term)
		s, err := promptSecret(term, "Passphrase: ", 6, c.confirm, sigs.signals())
		switch {
		case c.err == nil && err != nil, c.err != nil && err == nil,
			err != nil && !errors.Is(err, c.err) && !strings.Contains(err.Error(), c.err.Error()):
			t.Errorf("%q (confirm %v): %v, want %v", c.in, c.confirm, err, c.err)
		case err == nil && string(s.Bytes()) != c.want:
			t.Errorf("%q (confirm %v): %q, want %q", c.in, c.confirm, s.Bytes(), c.want)
		}
		if s != nil {
			s.Close()
		}
		if term.isRaw() || term.restores != 1 {
			t.Errorf("%q (confirm %v): raw %v after the prompt, restored %d times", c.in, c.confirm, term.isRaw(), term.restores)
		}
		if out := term.output(); !strings.HasPrefix(out, "Passphrase: ") || strings.Contains(out, "Again: ") != (c.confirm && !strings.HasPrefix(c.in, "toolong")) {
			t.Errorf("%q (confirm %v): wrote %q", c.in, c.confirm, out)
		}
		if !sigs.stopped {
			t.Errorf("%q: the signals were not stopped", c.in)
		}
		if ttyRestore != nil {
			t.Errorf("%q: a terminal restore left registered", c.in)
		}
	}
}

// TestPromptSignal: a signal while the prompt reads (first or second
// answer) restores the terminal, then raises the signal again; if that
// does not end the process, the prompt fails with ErrInterrupted.
func TestPromptSignal(t *testing.T) {
	for _, c := range []struct {
		typed   string // before the signal
		confirm bool
		sig     os.Signal
	}{
		{"", false, os.Interrupt},
		{"sec", false, syscall.SIGTERM},
		{"secret\rsec", true, syscall.SIGHUP},
	} {
		if signal.Ignored(c.sig) {
			// nohup: the prompt rightly leaves an ignored signal alone.
			t.Logf("SKIPPED: %v is ignored by this process (nohup?), so the prompt does not watch it", c.sig)
			continue
		}
		want := 0
		for _, s := range promptSignals {
			if !signal.Ignored(s) {
				want++
			}
		}
		pr, pw := io.Pipe()
		term := &fakeTerm{r: pr, interrupts: func() { pr.CloseWithError(errors.New("interrupted")) }}
		sigs := newFakeSignals(term)
		type result struct {
			s   *Secret
			err error
		}
		done := make(chan result, 1)
		go func() {
			s, err := promptSecret(term, "Passphrase: ", 64, c.confirm, sigs.signals())
			done <- result{s, err}
		}()
		<-sigs.notified
		if _, err := pw.Write([]byte(c.typed)); err != nil { // the prompt reads, so the terminal is raw
			t.Fatal(err)
		}
		if !term.isRaw() {
			t.Fatalf("%v: the terminal is not raw while the prompt reads", c.sig)
		}
		sigs.mu.Lock()
		ch, watched := sigs.ch, sigs.watched
		sigs.mu.Unlock()
		if len(watched) != want {
			t.Errorf("watched signals %v, want those of SIGINT, SIGTERM, SIGHUP not ignored (%d)", watched, want)
		}
		ch <- c.sig
		select {
		case sig := <-sigs.raised:
			if sig != c.sig {
				t.Errorf("raised %v, want %v", sig, c.sig)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%v: not raised again", c.sig)
		}
		r := <-done
		if r.s != nil || !errors.Is(r.err, ErrInterrupted) {
			t.Errorf("%v: %v, want ErrInterrupted", c.sig, r.err)
		}
		if sigs.rawAtRaise || term.isRaw() || term.restores != 1 || !term.interrupted {
			t.Errorf("%v: raw at the raise %v, raw after %v, restored %d times, interrupted %v; want the terminal restored once before the raise",
				c.sig, sigs.rawAtRaise, term.isRaw(), term.restores, term.interrupted)
		}
	}
}

// TestRestoreTerminal: a command's own signal handler, which exits,
// restores the terminal of a prompt under way with RestoreTerminal; the
// prompt does not restore it a second time.
func TestRestoreTerminal(t *testing.T) {
	RestoreTerminal() // no prompt: nothing to do
	pr, pw := io.Pipe()
	term := &fakeTerm{r: pr}
	sigs := newFakeSignals(term)
	done := make(chan error, 1)
	go func() {
		s, err := promptSecret(term, "Passphrase: ", 64, false, sigs.signals())
		if s != nil {
			s.Close()
		}
		done <- err
	}()
	<-sigs.notified
	waitRaw(t, term)
	RestoreTerminal()
	if term.isRaw() || term.restores != 1 {
		t.Errorf("after RestoreTerminal: raw %v, restored %d times", term.isRaw(), term.restores)
	}
	go pw.Write([]byte("x\r"))
	<-done
	if term.restores != 1 {
		t.Errorf("restored %d times, want once", term.restores)
	}
}

// TestPromptSignalAtEnd: a signal that arrives as the prompt ends (once
// the answer is read, before the guard stops listening) is raised again
// after the terminal is restored, not swallowed, and the prompt fails with
// ErrInterrupted as for any signal that did not end the process.
func TestPromptSignalAtEnd(t *testing.T) {
	for range 20 {
		term := &fakeTerm{r: strings.NewReader("secret\r")}
		sigs := newFakeSignals(term)
		sigs.atStop = syscall.SIGHUP
		s, err := promptSecret(term, "Passphrase: ", 64, false, sigs.signals())
		if s != nil {
			s.Close()
		}
		if !errors.Is(err, ErrInterrupted) {
			t.Errorf("%v, want ErrInterrupted", err)
		}
		select {
		case sig := <-sigs.raised:
			if sig != syscall.SIGHUP {
				t.Errorf("raised %v, want SIGHUP", sig)
			}
		default:
			t.Fatal("the signal was swallowed")
		}
		if sigs.rawAtRaise || term.isRaw() || term.restores != 1 {
			t.Fatalf("raw at the raise %v, raw after %v, restored %d times; want the terminal restored once before the raise",
				sigs.rawAtRaise, term.isRaw(), term.restores)
		}
	}
}

// waitRaw waits until the prompt has made term raw.
func waitRaw(t *testing.T, term *fakeTerm) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !term.isRaw(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the terminal is not raw 10 s into the prompt")
		}
	}
}

// TestPromptSignalAtRaw: a signal the moment the terminal turns raw
// finds the guard listening (else its default action would end the
// process with the terminal raw): the terminal is restored before the
// signal is raised again, and the prompt fails with ErrInterrupted.
func TestPromptSignalAtRaw(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	term := &fakeTerm{r: pr, interrupts: func() { pr.CloseWithError(errors.New("interrupted")) }}
	sigs := newFakeSignals(term)
	term.onRaw = func() {
		sigs.mu.Lock()
		ch := sigs.ch
		sigs.mu.Unlock()
		if ch == nil {
			t.Error("the terminal is raw and no guard listens: a signal now would end the process with the terminal raw")
			pw.Close() // the prompt's read ends
			return
		}
		ch <- syscall.SIGTERM
	}
	s, err := promptSecret(term, "Passphrase: ", 64, false, sigs.signals())
	if s != nil {
		s.Close()
	}
	if !errors.Is(err, ErrInterrupted) {
		t.Errorf("%v, want ErrInterrupted", err)
	}
	select {
	case sig := <-sigs.raised:
		if sig != syscall.SIGTERM {
			t.Errorf("raised %v, want SIGTERM", sig)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("not raised again")
	}
	if sigs.rawAtRaise || term.isRaw() || term.restores != 1 {
		t.Errorf("raw at the raise %v, raw after %v, restored %d times; want the terminal restored once before the raise",
			sigs.rawAtRaise, term.isRaw(), term.restores)
	}
}
