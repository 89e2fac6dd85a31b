package tracer

import (
	"bytes"
	"debug/elf"
	"debug/gosym"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// CPUID without CPUID faulting (--cpuid=patch): at every exec, the CPUID
// instructions (0F A2) inside the small functions of the main executable
// whose name contains "cpuid" (the ABI0 assembly helpers of internal/cpu,
// golang.org/x/sys/cpu, klauspost/cpuid, this project's internal/asm) are
// replaced by UD2 (0F 0B, the same length); the SIGILL at such a site is
// answered from the CPUID table. CPUID elsewhere (glibc, the Go runtime's
// rt0, JIT code, stripped binaries) sees the host's values.

// maxPatchFunc bounds the size of a patched function: the assembly
// helpers are a few MOVs and a CPUID, and a small bound keeps the chance of
// 0F A2 appearing inside another instruction negligible.
const maxPatchFunc = 96

// fn is a function of the executable.
type fn struct {
	name       string
	addr, size uint64
}

// functions lists the functions of f: from the ELF symbol table, or for
// stripped Go binaries (go test strips its binaries) from the Go pclntab.
func functions(f *elf.File) []fn {
	var fns []fn
	syms, err := f.Symbols()
	if err == nil {
		names := make(map[string]bool, len(syms))
		for _, s := range syms {
			names[s.Name] = true
		}
		for _, s := range syms {
			if elf.ST_TYPE(s.Info) != elf.STT_FUNC || names[s.Name+".abi0"] {
				continue // not a function, or an ABI wrapper calling the assembly
			}
			fns = append(fns, fn{strings.TrimSuffix(s.Name, ".abi0"), s.Value, s.Size})
		}
		return fns
	}
	pcln, text := f.Section(".gopclntab"), f.Section(".text")
	if pcln == nil || text == nil {
		return nil
	}
	data, err := pcln.Data()
	if err != nil {
		return nil
	}
	tab, err := gosym.NewTable(nil, gosym.NewLineTable(data, text.Addr))
	if err != nil {
		return nil
	}
	for _, f := range tab.Funcs {
		fns = append(fns, fn{f.Name, f.Entry, f.End - f.Entry})
	}
	return fns
}

// cpuidSites returns the virtual addresses (unrelocated) of the CPUID
// instructions to patch in the ELF file at path, and its entry point.
func cpuidSites(path string) (sites []uint64, entry uint64, err error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	for _, s := range functions(f) {
		if s.size == 0 || s.size > maxPatchFunc || strings.HasPrefix(s.name, "runtime.") {
			continue
		}
		name := s.name
		if i := strings.LastIndexByte(name, '.'); i >= 0 {
			name = name[i+1:]
		}
		if !strings.Contains(strings.ToLower(name), "cpuid") {
			continue
		}
		sec := textSection(f, s.addr)
		if sec == nil {
			continue
		}
		b := make([]byte, s.size)
		if _, err := sec.ReadAt(b, int64(s.addr-sec.Addr)); err != nil {
			continue
		}
		for off := 0; ; {
			i := bytes.Index(b[off:], []byte{0x0F, 0xA2})
			if i < 0 {
				break
			}
			sites = append(sites, s.addr+uint64(off+i))
			off += i + 2
		}
	}
	return sites, f.Entry, nil
}

func textSection(f *elf.File, addr uint64) *elf.Section {
	for _, s := range f.Sections {
		if s.Flags&elf.SHF_EXECINSTR != 0 && s.Type == elf.SHT_PROGBITS && addr >= s.Addr && addr < s.Addr+s.Size {
			return s
		}
	}
	return nil
}

// siteKey identifies an executable file (cache of its CPUID sites).
type siteKey struct {
	dev, ino  uint64
	size      int64
	sec, nsec int64
}

type siteCache struct {
	sites []uint64
	entry uint64
}

// atEntry reads AT_ENTRY from /proc/pid/auxv.
func atEntry(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/auxv")
	if err != nil {
		return 0, err
	}
	for i := 0; i+16 <= len(b); i += 16 {
		if binary.LittleEndian.Uint64(b[i:]) == 9 { // AT_ENTRY
			return binary.LittleEndian.Uint64(b[i+8:]), nil
		}
	}
	return 0, fmt.Errorf("no AT_ENTRY")
}

// patchCPUID patches the CPUID sites of the executable of pid (stopped at
// its exec event) and records them for the process.
func (t *Tracer) patchCPUID(pid int) error {
	exe := "/proc/" + strconv.Itoa(pid) + "/exe"
	var sites []uint64
	var entry uint64
	var err error
	var key siteKey
	var st syscall.Stat_t
	if syscall.Stat(exe, &st) == nil {
		key = siteKey{st.Dev, st.Ino, st.Size, st.Mtim.Sec, st.Mtim.Nsec}
	}
	if c, ok := t.sites[key]; ok && key.ino != 0 {
		sites, entry = c.sites, c.entry
	} else {
		sites, entry, err = cpuidSites(exe)
		if err == nil && key.ino != 0 {
			if len(t.sites) > 64 {
				clear(t.sites)
			}
			t.sites[key] = siteCache{sites, entry}
		}
	}
	delete(t.patched, pid)
	if err != nil {
		return fmt.Errorf("reading the symbols of %s: %v", exe, err)
	}
	ae, err := atEntry(pid)
	if err != nil {
		return err
	}
	bias := ae - entry
	set := map[uint64]bool{}
	for _, s := range sites {
		a := s + bias
		var b [2]byte
		if _, err := syscall.PtracePeekText(pid, uintptr(a), b[:]); err != nil || b != [2]byte{0x0F, 0xA2} {
			continue
		}
		if _, err := syscall.PtracePokeText(pid, uintptr(a), []byte{0x0F, 0x0B}); err != nil {
			return err
		}
		set[a] = true
	}
	t.patched[pid] = set
	t.logf("pid %d: %d CPUID sites patched to UD2", pid, len(set))
	if len(set) == 0 {
		t.logf("pid %d: --cpuid=patch found no CPUID helper to patch in %s (stripped binary?): it sees the host's CPUID", pid, exe)
	}
	return nil
}

// procIDs returns the thread group and parent process of tid.
func procIDs(tid int) (tgid, ppid int) {
	tgid = tid
	b, err := os.ReadFile("/proc/" + strconv.Itoa(tid) + "/status")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Tgid:"); ok {
			tgid, _ = strconv.Atoi(strings.TrimSpace(v))
		}
		if v, ok := strings.CutPrefix(line, "PPid:"); ok {
			ppid, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return
}

func tgid(tid int) int { g, _ := procIDs(tid); return g }

// isPatched reports whether rip is a patched CPUID site of tid's process.
func (t *Tracer) isPatched(tid int, rip uint64) bool {
	if len(t.patched) == 0 {
		return false
	}
	g, cached := t.tgidOf[tid]
	pp := 0
	if !cached {
		g, pp = procIDs(tid)
		t.tgidOf[tid] = g
	}
	set, ok := t.patched[g]
	if !ok {
		// a forked child may run before its parent's fork event is seen
		if pp == 0 {
			_, pp = procIDs(tid)
		}
		if set, ok = t.patched[pp]; ok {
			t.patched[g] = set
		}
	}
	return set[rip]
}

// onFork copies the patched sites of the parent (its text is inherited).
func (t *Tracer) onFork(parent, child int) {
	if set := t.patched[tgid(parent)]; set != nil {
		t.patched[child] = set
	}
}

// probeFaulting checks that this kernel and CPU support CPUID faulting by
// turning it on and off again on the calling (locked) thread.
func probeFaulting() error {
	_, _, e := syscall.RawSyscall(sysArchPrctl, archSetCPUID, 0, 0)
	if e != 0 {
		return e
	}
	syscall.RawSyscall(sysArchPrctl, archSetCPUID, 1, 0)
	return nil
}
