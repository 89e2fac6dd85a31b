package main

import (
	"os"
	"syscall"
	"unsafe"
)

// reraise kills klemu with sig, with the default action, so that the
// caller's wait status shows the program's fatal signal. No core file is
// written (the program's own core, if any, was written already).
func reraise(sig syscall.Signal) {
	os.Stdout.Sync()
	os.Stderr.Sync()
	syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{})
	// struct kernel_sigaction {handler, flags, restorer, mask}: SIG_DFL.
	var sa [4]uint64
	syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&sa)), 0, 8, 0, 0)
	var set uint64 = 1 << (uint(sig) - 1)
	syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, 1 /* SIG_UNBLOCK */, uintptr(unsafe.Pointer(&set)), 0, 8, 0, 0)
	syscall.Tgkill(syscall.Getpid(), syscall.Gettid(), sig)
}
