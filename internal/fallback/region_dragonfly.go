package fallback

import "golang.org/x/sys/unix"

// MAP_NOCORE keeps the mapping out of core dumps.
const mapNoCore = unix.MAP_NOCORE

func advise(page []byte, st *MemoryStatus, what string) {
	st.DontDump = true
	st.note("no wipe-on-fork used on DragonFly: a child created by fork without exec keeps a copy of " + what)
}
