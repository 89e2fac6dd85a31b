//go:build amd64 && !purego

package asm

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"unsafe"
)

func init() {
	if err := sigstkInit(); err != nil {
		sigstkDetail = "not wiped: " + err.Error()
	}
}

const (
	_SS_DISABLE      = 2
	_SA_ONSTACK      = 0x08000000
	_AT_MINSIGSTKSZ  = 51
	sigstkProbeLimit = 4096 // bytes of m searched for the gsignal pointer
	sigstkFillLimit  = 16384
)

// sigstkInit finds where this process's signal frames go and turns the wipe
// on. It runs once, at package initialization, locked to one thread.
func sigstkInit() error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	var ss struct {
		sp    uintptr
		flags int32
		_     int32
		size  uintptr
	}
	if _, _, e := syscall.RawSyscall(syscall.SYS_SIGALTSTACK, 0, uintptr(unsafe.Pointer(&ss)), 0); e != 0 {
		return fmt.Errorf("sigaltstack: %v", e)
	}
	if ss.flags&_SS_DISABLE != 0 || ss.size == 0 {
		return errors.New("this thread has no signal stack")
	}
	lo, hi := ss.sp, ss.sp+ss.size

	mOff, err := findGsignal(lo, hi)
	if err != nil {
		return err
	}

	// The installed handler's return trampoline: the kernel stores it as
	// the lowest word of every frame it builds for that handler.
	var sa struct {
		handler, flags, restorer uintptr
		mask                     uint64
	}
	if _, _, e := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(syscall.SIGURG), 0, uintptr(unsafe.Pointer(&sa)), 8, 0, 0); e != 0 {
		return fmt.Errorf("rt_sigaction: %v", e)
	}
	if sa.flags&_SA_ONSTACK == 0 || sa.restorer == 0 {
		return fmt.Errorf("the SIGURG handler does not run on the signal stack (flags %#x)", sa.flags)
	}

	// Fill the top of the signal stack with a pattern, take one signal,
	// find the frame.
	span := min(ss.size, sigstkFillLimit) &^ 7
	var rnd [16]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return err
	}
	pattern := binary.LittleEndian.Uint64(rnd[:8]) | 1
	canary := binary.LittleEndian.Uint64(rnd[8:]) | 1
	if canary == uint64(sa.restorer) || pattern == uint64(sa.restorer) {
		canary, pattern = canary^0x5a5a, pattern^0xa5a5
	}
	storeWords(hi-span, span/8, pattern)
	if _, _, e := syscall.RawSyscall(syscall.SYS_TGKILL, uintptr(os.Getpid()), uintptr(syscall.Gettid()), uintptr(syscall.SIGURG)); e != 0 {
		return fmt.Errorf("tgkill: %v", e)
	}
	base := uintptr(0)
	for a := hi - 8; a >= hi-span; a -= 8 {
		if loadWord(a) == uint64(sa.restorer) {
			base = a
			break
		}
	}
	if base == 0 {
		return errors.New("no signal frame found on the signal stack after a signal to this thread")
	}
	frame := hi - base
	wipe := max(frame, minSigStkSz())
	wipe = (wipe + 63) &^ 63
	if wipe > ss.size {
		wipe = ss.size
	}

	sigstkCanaryOff = frame
	sigstkWipeLen = wipe
	sigstkCanary = canary
	sigstkDetail = fmt.Sprintf("wiped after any call that a signal interrupted "+
		"(a %d-byte frame at the top of each thread's %d-byte signal stack; %d bytes zeroed)", frame, ss.size, wipe)
	// mOff last: a routine that sees it on sees the settings above.
	atomic.StoreUintptr(&sigstkMOff, mOff)
	return nil
}

// findGsignal returns the offset in the current m of the pointer to the g
// whose stack is [lo, hi): m.gsignal. Memory is read only through write(2)
// to a pipe (and read back from it), which fails with EFAULT on an address
// that is not mapped instead of faulting: no guess is ever dereferenced.
func findGsignal(lo, hi uintptr) (uintptr, error) {
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		return 0, err
	}
	defer syscall.Close(p[0])
	defer syscall.Close(p[1])
	// peek returns the two words at addr.
	peek := func(addr uintptr) (w0, w1 uintptr, ok bool) {
		var b [16]byte
		n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(p[1]), addr, 16)
		if e != 0 || n != 16 {
			return 0, 0, false
		}
		if n, err := syscall.Read(p[0], b[:]); err != nil || n != 16 {
			return 0, 0, false
		}
		return uintptr(binary.LittleEndian.Uint64(b[:8])), uintptr(binary.LittleEndian.Uint64(b[8:])), true
	}
	m := curM()
	if m == 0 {
		return 0, errors.New("no m")
	}
	for off := uintptr(0); off < sigstkProbeLimit; off += 8 {
		c, _, ok := peek(m + off)
		if !ok {
			break
		}
		if c == 0 || c%8 != 0 {
			continue
		}
		if slo, shi, ok := peek(c); ok && slo == lo && shi == hi {
			return off, nil
		}
	}
	return 0, errors.New("the runtime's signal-handling goroutine was not found from this thread's m")
}

// minSigStkSz returns the kernel's AT_MINSIGSTKSZ (the largest signal frame
// it builds for this process), or 0 if it does not say.
func minSigStkSz() uintptr {
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return 0
	}
	for i := 0; i+16 <= len(b); i += 16 {
		if binary.LittleEndian.Uint64(b[i:]) == _AT_MINSIGSTKSZ {
			return uintptr(binary.LittleEndian.Uint64(b[i+8:]))
		}
	}
	return 0
}

// SignalStackCopy returns a copy of the top n bytes of the current thread's
// signal stack, also while SetSignalFrameWipe(false) is in force. It is for
// the tests that interrupt key-holding routines with a signal and look for
// key material in the frame; the caller must be locked to its thread.
func SignalStackCopy(n uintptr) []byte {
	mOff := atomic.LoadUintptr(&sigstkMOff)
	if mOff == 0 {
		mOff = sigstkSaved
	}
	if mOff == 0 {
		return nil
	}
	hi := sigstkTopOf(mOff)
	out := make([]byte, 0, n)
	for a := hi - n; a < hi; a += 8 {
		w := loadWord(a)
		for i := 0; i < 8; i++ {
			out = append(out, byte(w>>(8*i)))
		}
	}
	return out
}
