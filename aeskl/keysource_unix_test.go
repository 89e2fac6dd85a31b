//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly || solaris

package aeskl

import (
	"os"
	"testing"
)

// fdSource: NewFromFD and NewXTSFromFD read the key from a pipe's
// descriptor, which stays open and usable.
func fdSource(t *testing.T, key, xkey []byte) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	go func() {
		pw.Write(append(append(append([]byte(nil), key...), xkey...), "tail"...))
		pw.Close()
	}()
	c, err := NewFromFD(int(pr.Fd()), 32)
	if err != nil {
		t.Fatal(err)
	}
	sameKey(t, c, key)
	x, err := NewXTSFromFD(int(pr.Fd()), 64)
	if err != nil {
		t.Fatal(err)
	}
	sameXTSKey(t, x, xkey)
	rest := make([]byte, 8)
	if n, _ := pr.Read(rest); string(rest[:n]) != "tail" {
		t.Errorf("after NewFromFD the descriptor reads %q, want the rest of the pipe", rest[:n])
	}
}
