package fallback

import "golang.org/x/sys/unix"

// MAP_CONCEAL (OpenBSD 6.5+) keeps the mapping out of core dumps.
const mapNoCore = unix.MAP_CONCEAL

func advise(page []byte, st *MemoryStatus, what string) {
	st.DontDump = true
	st.note("no wipe-on-fork used on OpenBSD (minherit is not reachable from Go without libc bindings): a child created by fork without exec keeps a copy of " + what)
}
