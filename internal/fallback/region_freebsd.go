package fallback

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// MAP_NOCORE keeps the mapping out of core dumps.
const mapNoCore = unix.MAP_NOCORE

// inheritZero is INHERIT_ZERO from FreeBSD's <sys/mman.h> (FreeBSD 12+): a
// child created by fork gets zero-filled pages.
const inheritZero = 3

func advise(page []byte, st *MemoryStatus, what string) {
	st.DontDump = true
	_, _, errno := unix.Syscall(unix.SYS_MINHERIT, uintptr(unsafe.Pointer(&page[0])), uintptr(len(page)), inheritZero)
	if errno != 0 {
		st.note(fmt.Sprintf("minherit(INHERIT_ZERO) refused (%v; needs FreeBSD 12+): a child created by fork without exec keeps a copy of %s", errno, what))
	} else {
		st.WipeOnFork = true
	}
}
