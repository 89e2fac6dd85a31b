package fallback

import (
	"fmt"

	"golang.org/x/sys/unix"
)

const mapNoCore = 0

func advise(page []byte, st *MemoryStatus, what string) {
	if err := unix.Madvise(page, unix.MADV_DONTDUMP); err != nil {
		st.note(fmt.Sprintf("madvise(MADV_DONTDUMP) refused (%v): %s will be in core dumps; disable them (ulimit -c 0) if that matters", err, what))
	} else {
		st.DontDump = true
	}
	if err := unix.Madvise(page, unix.MADV_WIPEONFORK); err != nil {
		st.note(fmt.Sprintf("madvise(MADV_WIPEONFORK) refused (%v; needs Linux 4.14+): a child created by fork without exec keeps a copy of %s", err, what))
	} else {
		st.WipeOnFork = true
	}
}
