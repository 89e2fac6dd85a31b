package memscan

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// dontDump returns the start addresses of pid's mappings whose VmFlags in
// /proc/PID/smaps include "dd" (MADV_DONTDUMP).
func dontDump(pid int) (map[uint64]bool, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := make(map[uint64]bool)
	var cur uint64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if lo, _, ok := strings.Cut(fields[0], "-"); ok && !strings.HasSuffix(fields[0], ":") {
			if v, err := strconv.ParseUint(lo, 16, 64); err == nil {
				cur = v
			}
			continue
		}
		if fields[0] == "VmFlags:" {
			for _, fl := range fields[1:] {
				if fl == "dd" {
					out[cur] = true
				}
			}
		}
	}
	return out, sc.Err()
}

// Mapping is one mapping of a process with its contents.
type Mapping struct {
	Lo, Hi uint64
	Perms  string // "r--p", "rw-p", ...
	Line   string // "start-end perms name"
	Data   []byte
}

// ReadDontDump returns pid's readable mappings marked MADV_DONTDUMP (the
// "dd" VmFlag of /proc/PID/smaps: left out of core dumps) with their
// contents, for a test that wants to know what the process keeps there
// (the wrapping key page) and what else a core dump would not show.
func ReadDontDump(pid int) ([]Mapping, error) {
	dd, err := dontDump(pid)
	if err != nil {
		return nil, fmt.Errorf("memscan: %w", err)
	}
	maps, err := readMaps(pid)
	if err != nil {
		return nil, fmt.Errorf("memscan: %w", err)
	}
	mem, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
	if err != nil {
		return nil, fmt.Errorf("memscan: %w", err)
	}
	defer mem.Close()
	var out []Mapping
	for _, mp := range maps {
		if !dd[mp.lo] || !strings.HasPrefix(mp.perms, "r") {
			continue
		}
		if mp.kernels() {
			continue
		}
		b := make([]byte, mp.hi-mp.lo)
		if _, err := mem.ReadAt(b, int64(mp.lo)); err != nil {
			return nil, fmt.Errorf("memscan: reading %s: %w", mp.line, err)
		}
		out = append(out, Mapping{Lo: mp.lo, Hi: mp.hi, Perms: mp.perms, Line: mp.line, Data: b})
	}
	return out, nil
}

// allowParentTrace lets the parent (and its descendants, such as the gcore
// it starts) attach to this child where Yama's ptrace_scope is 1 (the
// default of several distributions), which allows only ancestors otherwise.
func allowParentTrace() {
	unix.Prctl(unix.PR_SET_PTRACER, uintptr(os.Getppid()), 0, 0, 0)
}

// ErrNoGcore is returned by CoreDump when gdb's gcore is not installed.
var ErrNoGcore = errors.New("memscan: gcore (Debian package gdb) is not installed")

// CoreDump writes a core dump of the running process pid into dir with
// gdb's gcore, as an attacker with ptrace rights (or a crash reporter)
// would, and returns the file's path. gcore leaves out MADV_DONTDUMP
// mappings, as the kernel's own core dumps do.
func CoreDump(pid int, dir string) (string, error) {
	gcore, err := exec.LookPath("gcore")
	if err != nil {
		return "", ErrNoGcore
	}
	prefix := filepath.Join(dir, "core")
	out, err := exec.Command(gcore, "-o", prefix, strconv.Itoa(pid)).CombinedOutput()
	path := prefix + "." + strconv.Itoa(pid)
	if err != nil {
		return "", fmt.Errorf("memscan: gcore %d: %v\n%s", pid, err, out)
	}
	if st, err := os.Stat(path); err != nil || st.Size() == 0 {
		return "", fmt.Errorf("memscan: gcore wrote no core at %s\n%s", path, out)
	}
	return path, nil
}

// ScanFile searches a file (a core dump) for the needles and returns the
// hits, with Addr the file offset, and the number of bytes searched. The
// file is read in chunks, so it may be larger than memory.
func ScanFile(path string, needles [][]byte) ([]Hit, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("memscan: %w", err)
	}
	defer f.Close()
	var hits []Hit
	if len(needles) == 0 {
		return nil, 0, nil
	}
	m := newMatcher(needles)
	overlap := m.maxLen - 1
	buf := make([]byte, chunkSize+overlap)
	name := filepath.Base(path)
	var off int64 // file offset of buf[carry]
	carry := 0
	for {
		n, err := io.ReadFull(f, buf[carry:carry+chunkSize])
		if n > 0 {
			total := carry + n
			base := off - int64(carry)
			m.search(buf[:total], carry, func(ni, o int) {
				hits = append(hits, Hit{Needle: ni, Addr: uint64(base + int64(o)), Mapping: name})
			})
			off += int64(n)
			c := min(overlap, total)
			copy(buf, buf[total-c:total])
			carry = c
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return hits, off, nil
		}
		if err != nil {
			return hits, off, fmt.Errorf("memscan: %w", err)
		}
	}
}
