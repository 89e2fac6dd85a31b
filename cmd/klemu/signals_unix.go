//go:build unix

package main

import (
	"os"
	"syscall"
)

// forwarded are the signals klemu passes on to the program; rotateSignal
// rotates the IWKey.
var (
	forwarded              = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT, syscall.SIGHUP}
	rotateSignal os.Signal = syscall.SIGUSR2
)
