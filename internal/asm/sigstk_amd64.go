//go:build amd64 && !purego

package asm

import "sync/atomic"

// The signal-frame wipe.
//
// When the kernel delivers a signal to a thread, it saves every register,
// the whole vector state included (XSAVE: xmm, ymm, zmm, opmask), into a
// frame on the thread's signal stack. Go gives each thread (each M) its own
// signal stack, allocated once and kept for the thread's life, and never
// clears it. A signal that lands while a routine of this package holds an
// unwrapped key, its round keys or the wrapping key in vector registers
// therefore leaves copies of them in ordinary process memory, where they stay
// until another signal is delivered to that same thread. A thread that goes
// idle gets none, so the copies can stay for the life of the process. (On
// the machine this was measured on, an Intel Xeon with AVX-512, the kernel's
// XSAVE wrote every enabled vector component, in its initial state or not,
// so a later frame on the same thread does cover the old registers; what is
// not covered is a thread that gets no later signal.) Signals are common in Go: the runtime's preemption signal
// (SIGURG, from the scheduler and the garbage collector), SIGPROF while
// profiling, SIGCHLD, and whatever the program asks for with signal.Notify.
//
// Every routine that holds key material in vector registers (the sealed
// routines, sealed mode kernels, SealedInit, SealedEncodeKey and the Key
// Locker EncodeKey*) calls sigstkArm on entry, which writes a random canary
// word where the kernel puts the lowest word of a signal frame (the return
// address of the handler), and sigstkCheck before every return, after it has
// zeroed its vector registers. If the canary changed, a signal was delivered
// during the call: sigstkCheck zeroes the frame area at the top of the
// thread's signal stack. A signal that arrives after the registers were
// zeroed saves no key material. The cost is two calls and a few loads per
// routine call, never per block (BenchmarkSignalFrameHooks); the wipe itself
// (a few KiB) runs only after a call that was interrupted.
//
// Where the signal stack is: the thread's g is at -8(FS) (TLS), g.m at a
// fixed offset, m.gsignal (the signal-handling goroutine, whose stack bounds
// are the thread's sigaltstack) at an offset that sigstkInit finds at start-up
// by matching sigaltstack(2) against the pointers in m, instead of assuming a
// particular Go release's struct layout. Where a frame lies within the
// signal stack is measured the same way: sigstkInit fills the signal stack
// with a pattern, signals itself and finds the handler's return address that
// the kernel wrote (the sa_restorer of the installed handler).
//
// If any step fails (not Linux, a runtime whose layout does not match, a
// SIGURG handler not on the signal stack), the wipe is off and
// SignalFrameWipe says why. A signal stack that C code installed is used as
// it is (the runtime points gsignal at it); one too small to hold the
// measured frame is skipped by sigstkArm and sigstkCheck.

// Set by sigstkInit before the first key-holding routine runs, read by the
// assembly. sigstkMOff is written last: zero means off.
var (
	sigstkMOff  uintptr // offset of gsignal in the runtime's m
	sigstkWipes uint64  // frames wiped (atomic; SignalFrameWipes)

	sigstkSaved uintptr // sigstkMOff while SetSignalFrameWipe(false) is in force

	// The frame layout sigstkInit measured (Linux only; zero elsewhere).
	sigstkCanaryOff uintptr // top of the signal stack - the canary word
	sigstkWipeLen   uintptr // bytes zeroed below the top after a signal
	//lint:ignore U1000 read by the assembly (asm_amd64.s)
	sigstkCanary uint64 // random, not zero
	sigstkDetail string // SignalFrameWipe's text
)

// SignalFrameWipe reports whether the signal-frame wipe is active, with a
// sentence saying how it is set up or why it is off.
func SignalFrameWipe() (active bool, detail string) {
	return atomic.LoadUintptr(&sigstkMOff) != 0, sigstkDetail
}

// SignalFrameWipes returns how many times a routine found that a signal had
// been delivered during its call and zeroed the frame.
func SignalFrameWipes() uint64 { return atomic.LoadUint64(&sigstkWipes) }

// SetSignalFrameWipe turns the wipe off (false) or back on (true) and
// reports whether it was on. It is a test hook for the negative control of
// the memory-scan tests (it proves that they detect the leak when the wipe
// is off); nothing else calls it. It has no effect when the wipe could not
// be set up.
func SetSignalFrameWipe(on bool) (was bool) {
	cur := atomic.LoadUintptr(&sigstkMOff)
	if on {
		if cur == 0 && sigstkSaved != 0 {
			atomic.StoreUintptr(&sigstkMOff, sigstkSaved)
		}
	} else if cur != 0 {
		sigstkSaved = cur
		atomic.StoreUintptr(&sigstkMOff, 0)
	}
	return cur != 0
}
