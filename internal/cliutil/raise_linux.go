package cliutil

import (
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// raise sends sig to the calling thread (tgkill), so that it is handled
// before raise returns: a signal that ends the process ends it here, not
// later on another thread while the prompt goes on to return
// ErrInterrupted and the command exits with its own status.
func raise(sig os.Signal) {
	s, ok := sig.(syscall.Signal)
	if !ok {
		return
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	unix.Tgkill(unix.Getpid(), unix.Gettid(), s)
}
