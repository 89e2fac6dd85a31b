//go:build !linux || !(amd64 || arm64 || riscv64 || loong64 || ppc64le)

package memscan

import (
	"errors"
	"syscall"
	"time"
)

// InterruptAfter is implemented for 64-bit Linux only (the raw timer_create
// layout); elsewhere it returns an error.
func InterruptAfter(d time.Duration, sig syscall.Signal) (cancel func(), err error) {
	return nil, errors.New("memscan: InterruptAfter needs 64-bit Linux")
}
