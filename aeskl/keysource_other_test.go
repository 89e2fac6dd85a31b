//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly || solaris)

package aeskl

import "testing"

func fdSource(t *testing.T, key, xkey []byte) {
	t.Log("no NewFromFD on this system")
}
