package e2e

// forkProbe forks with clone(flags, 0, 0, 0, 0) (the child continues on a
// copy of this stack, sharing the parent's text copy-on-write, no exec).
// The child runs only this assembly: it resets SIGILL to SIG_DFL (a CPUID
// klemu fails to answer kills it instead of entering the Go runtime's
// handler in a process with one thread), blocks until it reads a byte from
// syncFD, calls cpuidRaw (a patched *cpuid* helper under --cpuid=patch) for
// leaf 7 and leaf 19H, writes [leaf 7 ECX, 19H EAX, EBX, ECX, EDX] (20
// bytes) to outFD and exits with exit_group(0). The parent gets the child's
// pid, or errno if clone failed.
func forkProbe(flags uintptr, outFD, syncFD int) (pid int, errno uintptr)
