//go:build !linux

package cliutil

import "os"

// raise sends sig to the process. The system may deliver it on another
// thread, a little after raise returns.
func raise(sig os.Signal) {
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		p.Signal(sig)
	}
}
