package cliutil

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"golang.org/x/term"
)

// ErrNoTerminal is returned by PromptPassphrase when there is no terminal
// to ask on.
var ErrNoTerminal = errors.New("no terminal to ask for a passphrase on (give a key or passphrase file)")

// PromptPassphrase asks for a passphrase on the controlling terminal
// without echo; with confirm it asks twice and fails if the answers differ.
// The caller wipes the result (clear) when done.
func PromptPassphrase(prompt string, confirm bool) ([]byte, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, ErrNoTerminal
	}
	defer tty.Close()
	if !term.IsTerminal(int(tty.Fd())) {
		return nil, ErrNoTerminal
	}
	ask := func(p string) ([]byte, error) {
		fmt.Fprint(tty, p)
		b, err := term.ReadPassword(int(tty.Fd()))
		fmt.Fprintln(tty)
		return b, err
	}
	pw, err := ask(prompt)
	if err != nil {
		return nil, err
	}
	if confirm {
		again, err := ask("Again: ")
		same := err == nil && bytes.Equal(pw, again)
		clear(again)
		if !same {
			clear(pw)
			if err == nil {
				err = errors.New("the passphrases differ")
			}
			return nil, err
		}
	}
	return pw, nil
}
