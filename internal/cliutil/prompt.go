package cliutil

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"golang.org/x/term"
)

// ErrNoTerminal is returned by PromptSecret when there is no terminal to
// ask on.
var ErrNoTerminal = errors.New("no terminal to ask for a passphrase on (give a key or passphrase file)")

// ErrInterrupted is PromptSecret's error for Ctrl-C typed at the prompt,
// and for a signal that arrived while it asked and did not end the
// process. A command exits with status 130 on it, as on SIGINT.
var ErrInterrupted = errors.New("interrupted")

// ErrMismatch is PromptSecret's error when the two answers of a confirmed
// prompt differ.
var ErrMismatch = errors.New("the passphrases differ")

// PromptSecret asks for a passphrase (at most max bytes) on the
// controlling terminal, without echo, and reads it byte by byte straight
// into a Secret: the terminal is put in raw mode for the read, and the line
// editing (backspace, Ctrl-U) is done there, so that no line buffer of this
// process ever holds it. With confirm it asks again ("Again: "), into a
// second Secret, compares the two in constant time, and wipes the second:
// ErrMismatch if they differ. Ctrl-C gives ErrInterrupted, Ctrl-D on an
// empty line io.EOF.
//
// The terminal is restored before PromptSecret returns, and before the
// process ends on a signal that arrives while it asks (SIGINT, SIGTERM,
// SIGHUP, unless ignored): PromptSecret restores it, then raises the
// signal again, which ends the process as it would have (or reaches the
// command's own handler, which calls RestoreTerminal too); if it does not
// end the process, PromptSecret returns ErrInterrupted.
func PromptSecret(prompt string, max int, confirm bool) (*Secret, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, ErrNoTerminal
	}
	defer tty.Close()
	// The descriptor only through SyscallConn: tty.Fd() would put it in
	// blocking mode, out of the runtime's poller, and then interrupt's
	// Close would not end a read under way.
	rc, err := tty.SyscallConn()
	if err != nil {
		return nil, ErrNoTerminal
	}
	isTerm := false
	if err := rc.Control(func(fd uintptr) { isTerm = term.IsTerminal(int(fd)) }); err != nil || !isTerm {
		return nil, ErrNoTerminal
	}
	t := &ttyTerminal{File: tty, rc: rc}
	return promptSecret(t, prompt, max, confirm, realSignals)
}

// A terminal is what PromptSecret needs of the controlling terminal (an
// interface, for the tests).
type terminal interface {
	io.ReadWriter
	// makeRaw puts the terminal in raw mode (no echo, no signals from
	// Ctrl-C) and returns what puts it back.
	makeRaw() (restore func(), err error)
	// interrupt makes a read under way, and every later one, fail.
	interrupt()
}

// A ttyTerminal is /dev/tty, its descriptor reached through rc for the
// termios calls (never through Fd, which would make it blocking).
type ttyTerminal struct {
	*os.File
	rc syscall.RawConn
}

func (t *ttyTerminal) makeRaw() (func(), error) {
	var old *term.State
	var err error
	if cerr := t.rc.Control(func(fd uintptr) { old, err = term.MakeRaw(int(fd)) }); cerr != nil {
		return nil, cerr
	}
	if err != nil {
		return nil, err
	}
	return func() { t.rc.Control(func(fd uintptr) { term.Restore(int(fd), old) }) }, nil
}

// interrupt closes the terminal: a read under way returns with an error
// (/dev/tty is read through the runtime's poller, in non-blocking mode).
// The terminal is restored before (the restore needs the descriptor).
func (t *ttyTerminal) interrupt() { t.File.Close() }

// signals is how the prompt hears of signals and raises them again: the
// os/signal functions, or the tests' fakes.
type signals struct {
	notify func(chan<- os.Signal, ...os.Signal)
	stop   func(chan<- os.Signal)
	raise  func(os.Signal)
}

var realSignals = signals{notify: signal.Notify, stop: signal.Stop, raise: raise}

// The signals a prompt restores the terminal on.
var promptSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

func promptSecret(t terminal, prompt string, max int, confirm bool, sigs signals) (*Secret, error) {
	s, err := newSecret(max + 1) // the passphrase and the Enter that ends it
	if err != nil {
		return nil, err
	}
	fmt.Fprint(t, prompt)
	// The guard first: a signal from the moment the terminal is raw
	// finds it listening.
	g := guardTerminal(t, sigs)
	if err := g.makeRaw(t); err != nil {
		g.done()
		s.Close()
		return nil, err
	}
	n, err := readLine(t, s.s.Bytes())
	if err == nil && confirm {
		fmt.Fprint(t, "\r\nAgain: ")
		err = confirmLine(t, s.s.Bytes()[:n], max)
	}
	interrupted := g.done()
	fmt.Fprintln(t)
	if interrupted {
		err = ErrInterrupted
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	s.n = n
	return s, nil
}

// confirmLine reads a second line into a Secret of its own and compares it
// with first in constant time (but for the length); it wipes the second.
func confirmLine(t terminal, first []byte, max int) error {
	again, err := newSecret(max + 1)
	if err != nil {
		return err
	}
	defer again.Close()
	n, err := readLine(t, again.s.Bytes())
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(first, again.s.Bytes()[:n]) != 1 {
		return ErrMismatch
	}
	return nil
}

// The restore of the terminal a prompt has changed, nil when no prompt
// is under way.
var (
	ttyMu      sync.Mutex
	ttyRestore func()
)

// RestoreTerminal puts back the terminal a prompt under way has put in
// raw mode (echo off); it does nothing when no prompt is under way. A
// signal handler that ends the process (os.Exit) calls it first.
func RestoreTerminal() {
	ttyMu.Lock()
	defer ttyMu.Unlock()
	if ttyRestore != nil {
		ttyRestore()
		ttyRestore = nil
	}
}

// A promptGuard restores the terminal of a prompt on a signal.
type promptGuard struct {
	ch          chan os.Signal
	quit        chan struct{}
	finished    chan struct{}
	sigs        signals
	interrupted bool
	fired       bool // under ttyMu: a signal came, the terminal is not to be made raw
}

// guardTerminal starts a guard that, until done, answers the signals of
// promptSignals (those not ignored) by restoring the terminal (once
// makeRaw has made it raw), ending the prompt's reads (t.interrupt) and
// raising the signal again.
func guardTerminal(t terminal, sigs signals) *promptGuard {
	g := &promptGuard{ch: make(chan os.Signal, 1), quit: make(chan struct{}), finished: make(chan struct{}), sigs: sigs}
	var watch []os.Signal
	for _, sig := range promptSignals {
		if !signal.Ignored(sig) {
			watch = append(watch, sig)
		}
	}
	if len(watch) > 0 { // Notify with no signals would relay every one
		sigs.notify(g.ch, watch...)
	}
	go func() {
		defer close(g.finished)
		select {
		case sig := <-g.ch:
			g.interrupted = true
			ttyMu.Lock()
			g.fired = true
			ttyMu.Unlock()
			RestoreTerminal()
			fmt.Fprint(t, "\r\n")
			t.interrupt()
			sigs.stop(g.ch)
			sigs.raise(sig)
		case <-g.quit:
		}
	}()
	return g
}

// makeRaw puts the terminal in raw mode and registers its restore with
// RestoreTerminal, both under ttyMu: a signal the guard has answered
// before leaves the terminal as it is (the prompt's reads fail, done
// reports the interruption), one after finds the restore.
func (g *promptGuard) makeRaw(t terminal) error {
	ttyMu.Lock()
	defer ttyMu.Unlock()
	if g.fired {
		return nil
	}
	restore, err := t.makeRaw()
	if err != nil {
		return err
	}
	ttyRestore = restore
	return nil
}

// done stops the guard, restores the terminal (if the guard has not) and
// reports whether a signal interrupted the prompt. A signal that came as
// the prompt ended (after the guard's goroutine left, before stop) is
// raised again once the terminal is restored, not swallowed, and counts
// as an interruption too.
func (g *promptGuard) done() bool {
	close(g.quit)
	<-g.finished
	g.sigs.stop(g.ch)
	RestoreTerminal()
	select {
	case sig := <-g.ch:
		g.interrupted = true
		g.sigs.raise(sig)
	default:
	}
	return g.interrupted
}
