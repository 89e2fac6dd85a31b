//go:build unix

package main

import (
	"os/exec"
	"syscall"
)

// noTerminal starts cmd in a new session: it has no controlling terminal.
func noTerminal(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} }
