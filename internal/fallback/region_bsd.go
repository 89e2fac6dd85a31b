//go:build darwin || netbsd || solaris

package fallback

const mapNoCore = 0

func advise(page []byte, st *MemoryStatus, what string) {
	st.note("this system has no way (used here) to keep one mapping out of core dumps: " + what + " will be in core dumps; disable them (ulimit -c 0) if that matters")
	st.note("no MADV_WIPEONFORK on this system: a child created by fork without exec keeps a copy of " + what)
}
