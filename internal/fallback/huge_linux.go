package fallback

import "golang.org/x/sys/unix"

// hugePagesMin is the size from which a mapping is backed by huge pages.
const hugePagesMin = 4 << 20

// settlePages decides the page size of a fresh mapping before anything is
// written to it, and that khugepaged never copies it.
//
// A mapping of hugePagesMin or more is backed by transparent huge pages
// where the kernel has them: MADV_HUGEPAGE (where THP is "madvise", the
// default of many distributions, nothing else gets them), then a write to
// every 4 KiB page, which faults each 2 MiB-aligned range in as one huge
// page if one can be had. Argon2 reads its memory at random, a 1 KiB block
// at a time: with 4 KiB pages nearly every read of 64 MiB misses the TLB,
// and huge pages make it about twice as fast.
//
// Then every mapping gets MADV_NOHUGEPAGE, which keeps the pages it has
// and stops khugepaged from collapsing 4 KiB pages into a huge page later,
// a copy that would leave the old pages, unwiped, to the kernel's free
// memory (THP "always" would do it to any mapping). Refusals change only
// the speed.
func settlePages(b []byte) {
	if len(b) >= hugePagesMin && unix.Madvise(b, unix.MADV_HUGEPAGE) == nil {
		for i := 0; i < len(b); i += 4096 {
			b[i] = 0
		}
	}
	unix.Madvise(b, unix.MADV_NOHUGEPAGE)
}
