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

// largePages asks for transparent huge pages for a mapping of 2 MiB or
// more (Argon2's memory, internal/kdf): a 64 MiB mapping then faults in,
// is locked and is unmapped in 2 MiB pages rather than 4 KiB ones, a
// third of the cost of a 64 MiB Argon2 pass otherwise. A refusal changes
// nothing but the speed.
func largePages(pages []byte) {
	if len(pages) >= 2<<20 {
		unix.Madvise(pages, unix.MADV_HUGEPAGE)
	}
}
