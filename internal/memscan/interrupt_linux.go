//go:build linux && (amd64 || arm64 || riscv64 || loong64 || ppc64le)

package memscan

import (
	"fmt"
	"syscall"
	"time"
	"unsafe"
)

// InterruptAfter arms a one-shot POSIX timer (CLOCK_MONOTONIC, delivered
// to one thread: SIGEV_THREAD_ID) that sends sig to the calling thread
// after d, so that a test can make a signal land inside a call it is about
// to make on that thread. The caller must be locked to its thread
// (runtime.LockOSThread) and must call cancel afterwards, which deletes the
// timer. Unlike a signal sent by another goroutine, this does not depend on
// that goroutine getting a CPU while the call runs.
func InterruptAfter(d time.Duration, sig syscall.Signal) (cancel func(), err error) {
	const sigevThreadID = 4
	var ev struct {
		value  uint64
		signo  int32
		notify int32
		tid    int32
		_      [44]byte
	}
	ev.signo = int32(sig)
	ev.notify = sigevThreadID
	ev.tid = int32(syscall.Gettid())
	var id int32
	if _, _, e := syscall.RawSyscall(syscall.SYS_TIMER_CREATE, 1 /* CLOCK_MONOTONIC */, uintptr(unsafe.Pointer(&ev)), uintptr(unsafe.Pointer(&id))); e != 0 {
		return nil, fmt.Errorf("memscan: timer_create: %v", e)
	}
	cancel = func() { syscall.RawSyscall(syscall.SYS_TIMER_DELETE, uintptr(id), 0, 0) }
	spec := [4]int64{0, 0, int64(d / time.Second), int64(d % time.Second)} // interval 0, value d
	if _, _, e := syscall.RawSyscall6(syscall.SYS_TIMER_SETTIME, uintptr(id), 0, uintptr(unsafe.Pointer(&spec)), 0, 0, 0); e != 0 {
		cancel()
		return nil, fmt.Errorf("memscan: timer_settime: %v", e)
	}
	return cancel, nil
}
