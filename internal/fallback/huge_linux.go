package fallback

import (
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// hugePagesMin is the size from which a mapping may be backed by huge pages.
const hugePagesMin = 4 << 20

// Transparent huge pages for scratch memory (Linux).
//
// A mapping of hugePagesMin or more is faulted in at once (by mlock, else
// MADV_POPULATE_WRITE, else a write to every 4 KiB page), so that each 2
// MiB-aligned range becomes one transparent huge page where the kernel
// gives one. Argon2 reads its memory at random, a 1 KiB block at a time:
// with 4 KiB pages nearly every read of 64 MiB misses the TLB, and huge
// pages make it about twice as fast.
//
// But a fault that wants a huge page may compact memory, at once or by
// waking kcompactd, and compaction moves other pages, locked ones with
// secrets included, leaving their old copies unwiped in free memory. So a
// mapping asks for huge pages (MADV_HUGEPAGE, which THP "madvise", the
// default of many distributions, requires) only where that cannot move a
// locked page, takes them without asking (THP "always") only where its
// faults compact nothing, and is marked MADV_NOHUGEPAGE before it is
// faulted in everywhere else (hugePageAdvice).
//
// After the fault-in every mapping gets MADV_NOHUGEPAGE, which keeps the
// pages it has and stops khugepaged from collapsing 4 KiB pages into a huge
// page later, a copy that would leave the old pages, unwiped, to the
// kernel's free memory. Refusals (a kernel without THP) change only the
// speed.

// The advice before the fault-in.
const (
	adviseNoHuge = iota // MADV_NOHUGEPAGE
	adviseNone          // none: THP "always" may give huge pages, without compaction
	adviseHuge          // MADV_HUGEPAGE
)

// hugePageAdvice decides the advice for a mapping of size bytes, from the
// contents of /proc/sys/vm/compact_unevictable_allowed and
// /sys/kernel/mm/transparent_hugepage/defrag ("" if unreadable).
// MADV_HUGEPAGE where compaction leaves locked pages alone
// (compact_unevictable_allowed 0) or where defrag is "never" (a fault
// takes a free huge page or none); no advice where defrag is "madvise"
// (faults in other mappings neither compact nor wake kcompactd);
// MADV_NOHUGEPAGE otherwise and for small mappings.
func hugePageAdvice(size int, unevictable, defrag string) int {
	switch {
	case size < hugePagesMin:
		return adviseNoHuge
	case strings.TrimSpace(unevictable) == "0" || strings.Contains(defrag, "[never]"):
		return adviseHuge
	case strings.Contains(defrag, "[madvise]"):
		return adviseNone
	}
	return adviseNoHuge
}

// adviseHugePages runs before mlock (which faults the pages in).
func adviseHugePages(b []byte) {
	a := adviseNoHuge
	if len(b) >= hugePagesMin {
		a = hugePageAdvice(len(b), readSetting("/proc/sys/vm/compact_unevictable_allowed"),
			readSetting("/sys/kernel/mm/transparent_hugepage/defrag"))
	}
	switch a {
	case adviseHuge:
		unix.Madvise(b, unix.MADV_HUGEPAGE)
	case adviseNoHuge:
		unix.Madvise(b, unix.MADV_NOHUGEPAGE)
	}
}

// settlePages runs after mlock (locked: it succeeded, and faulted every
// page in): a large mapping not locked is faulted in, then every mapping
// gets MADV_NOHUGEPAGE.
func settlePages(b []byte, locked bool) {
	if len(b) >= hugePagesMin && !locked {
		populate(b, true)
	}
	unix.Madvise(b, unix.MADV_NOHUGEPAGE)
}

// populate faults every page of b in: with MADV_POPULATE_WRITE where
// madvise is true and the kernel has it (Linux 5.14+; one call, where a
// fault per page costs several microseconds in a virtual machine), else
// with a write to every 4 KiB page.
func populate(b []byte, madvise bool) {
	if madvise && unix.Madvise(b, unix.MADV_POPULATE_WRITE) == nil {
		return
	}
	for i := 0; i < len(b); i += 4096 {
		b[i] = 0
	}
}

func readSetting(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(b)
}
