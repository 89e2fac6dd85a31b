package fallback

import (
	"bufio"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"testing"
	"unsafe"
)

type smapsEntry struct {
	lo, hi  uintptr
	perms   string
	flags   []string
	hugeKiB int // AnonHugePages
	rssKiB  int // Rss
}

func readSmaps(t *testing.T) []smapsEntry {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("no /proc/self/smaps: %v", err)
	}
	defer f.Close()
	var out []smapsEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		var lo, hi uintptr
		var perms string
		if n, _ := fmt.Sscanf(line, "%x-%x %s", &lo, &hi, &perms); n == 3 && strings.Contains(strings.Fields(line)[0], "-") {
			out = append(out, smapsEntry{lo: lo, hi: hi, perms: perms})
			continue
		}
		if rest, ok := strings.CutPrefix(line, "VmFlags:"); ok && len(out) > 0 {
			out[len(out)-1].flags = strings.Fields(rest)
		}
		if rest, ok := strings.CutPrefix(line, "Rss:"); ok && len(out) > 0 {
			fmt.Sscanf(rest, "%d", &out[len(out)-1].rssKiB)
		}
		if rest, ok := strings.CutPrefix(line, "AnonHugePages:"); ok && len(out) > 0 {
			fmt.Sscanf(rest, "%d", &out[len(out)-1].hugeKiB)
		}
	}
	return out
}

// The kernel's view of the region: read-only, locked, not dumped, wiped on
// fork, and PROT_NONE pages on both sides.
func TestRegionSmaps(t *testing.T) {
	r, err := WrapKey()
	if err != nil {
		t.Fatal(err)
	}
	st := Status()
	addr := uintptr(unsafe.Pointer(r))
	ents := readSmaps(t)
	idx := -1
	for i, e := range ents {
		if e.lo <= addr && addr < e.hi {
			idx = i
		}
	}
	if idx < 0 {
		t.Fatalf("region %#x not in /proc/self/smaps", addr)
	}
	e := ents[idx]
	t.Logf("region mapping %x-%x %s flags %v", e.lo, e.hi, e.perms, e.flags)
	has := func(f string) bool {
		for _, x := range e.flags {
			if x == f {
				return true
			}
		}
		return false
	}
	if e.perms != "r--p" {
		t.Errorf("perms %q, want r--p", e.perms)
	}
	if !st.ReadOnly {
		t.Errorf("Status.ReadOnly false: %v", st.Notes)
	}
	if st.Locked != has("lo") {
		t.Errorf("Status.Locked=%v but VmFlags lo=%v", st.Locked, has("lo"))
	}
	if st.DontDump != has("dd") {
		t.Errorf("Status.DontDump=%v but VmFlags dd=%v", st.DontDump, has("dd"))
	}
	if st.WipeOnFork != has("wf") {
		t.Errorf("Status.WipeOnFork=%v but VmFlags wf=%v", st.WipeOnFork, has("wf"))
	}
	if !st.Locked {
		t.Logf("not locked here: %v", st.Notes)
	}
	// Guard pages: the neighbouring VMAs are PROT_NONE and adjacent.
	if idx == 0 || idx == len(ents)-1 {
		t.Fatal("no neighbouring mappings")
	}
	before, after := ents[idx-1], ents[idx+1]
	if before.hi != e.lo || before.perms != "---p" || after.lo != e.hi || after.perms != "---p" {
		t.Errorf("guard pages missing: before %x-%x %s, after %x-%x %s", before.lo, before.hi, before.perms, after.lo, after.hi, after.perms)
	}
}

// Touching the byte before or after the region, or writing into it,
// faults (recovered through debug.SetPanicOnFault).
func TestRegionFaults(t *testing.T) {
	r, err := WrapKey()
	if err != nil {
		t.Fatal(err)
	}
	p := unsafe.Pointer(r)
	ps := os.Getpagesize()
	faults := func(name string, f func()) {
		t.Helper()
		old := debug.SetPanicOnFault(true)
		defer debug.SetPanicOnFault(old)
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no fault", name)
			}
		}()
		f()
	}
	var sink byte
	faults("read before", func() { sink = *(*byte)(unsafe.Add(p, -1)) })
	faults("read after", func() { sink = *(*byte)(unsafe.Add(p, ps)) })
	faults("write", func() { *(*byte)(unsafe.Add(p, 100)) = 1 })
	_ = sink
	if wiped(r) {
		t.Fatal("region damaged")
	}
}
