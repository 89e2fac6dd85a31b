package fallback

import (
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// hugePagesMin is the size from which a mapping may be backed by huge pages.
const hugePagesMin = 4 << 20

// The page size of a fresh mapping is settled before anything is written to
// it, and khugepaged never copies it.
//
// A mapping of hugePagesMin or more is faulted in at once (by mlock, else
// MADV_POPULATE_WRITE, else a write to every 4 KiB page), so that each 2
// MiB-aligned range becomes one transparent huge page where the kernel has
// one free (THP "always"). Argon2 reads its memory at random, a 1 KiB block
// at a time: with 4 KiB pages nearly every read of 64 MiB misses the TLB,
// and huge pages make it about twice as fast. Where THP is "madvise" (the
// default of many distributions) only MADV_HUGEPAGE gets them, and such a
// fault may compact memory at once, which moves other pages, locked ones
// with secrets included, and leaves their old copies in free memory:
// MADV_HUGEPAGE is given only where that cannot move a locked page
// (hugePagesAllowed).
//
// Then every mapping gets MADV_NOHUGEPAGE, which keeps the pages it has and
// stops khugepaged from collapsing 4 KiB pages into a huge page later, a
// copy that would leave the old pages, unwiped, to the kernel's free memory.
// Refusals (a kernel without THP) change only the speed.

// preferHugePages runs before mlock: MADV_HUGEPAGE for a large mapping
// where hugePagesAllowed.
func preferHugePages(b []byte) {
	if len(b) >= hugePagesMin && hugePagesAllowed(readSetting("/proc/sys/vm/compact_unevictable_allowed"),
		readSetting("/sys/kernel/mm/transparent_hugepage/defrag")) {
		unix.Madvise(b, unix.MADV_HUGEPAGE)
	}
}

// settlePages runs after mlock (locked: it succeeded and faulted every page
// in): a large mapping not locked is faulted in, then every mapping gets
// MADV_NOHUGEPAGE.
func settlePages(b []byte, locked bool) {
	if len(b) >= hugePagesMin && !locked {
		// In one call where the kernel can (Linux 5.14+): a fault per page
		// costs several microseconds in a virtual machine.
		if unix.Madvise(b, unix.MADV_POPULATE_WRITE) != nil {
			for i := 0; i < len(b); i += 4096 {
				b[i] = 0
			}
		}
	}
	unix.Madvise(b, unix.MADV_NOHUGEPAGE)
}

// hugePagesAllowed reports whether a fault in a MADV_HUGEPAGE mapping
// cannot move a locked page: compaction leaves locked pages alone
// (vm.compact_unevictable_allowed is 0), or THP's defrag setting is
// "never" (a fault takes a free huge page or none, and compacts nothing).
// unevictable and defrag are the two files' contents ("" if unreadable).
func hugePagesAllowed(unevictable, defrag string) bool {
	if strings.TrimSpace(unevictable) == "0" {
		return true
	}
	return strings.Contains(defrag, "[never]")
}

func readSetting(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(b)
}
