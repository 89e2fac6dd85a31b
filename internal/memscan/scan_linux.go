package memscan

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// chunkSize is how much of a mapping is read at once (a variable for tests).
var chunkSize = 1 << 20

type mapping struct {
	lo, hi uint64
	perms  string
	name   string
	line   string
}

// kernels reports whether m is one of the kernel's own mappings ([vvar],
// [vsyscall]): readable in the maps, not through /proc/PID/mem, and not the
// process's data.
func (m mapping) kernels() bool {
	switch m.name {
	case "[vvar]", "[vsyscall]", "[vvar_vclock]":
		return true
	}
	return false
}

func readMaps(pid int) ([]mapping, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []mapping
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) < 5 {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		l, err1 := strconv.ParseUint(lo, 16, 64)
		h, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		name := ""
		if len(fields) >= 6 {
			name = strings.Join(fields[5:], " ")
		}
		out = append(out, mapping{lo: l, hi: h, perms: fields[1], name: name, line: fmt.Sprintf("%s %s %s", fields[0], fields[1], name)})
	}
	return out, sc.Err()
}

// ScanDetailed is Scan with the number of mappings and bytes searched and
// the parts that could not be read.
//
// Only pages that hold data of the process are read: /proc/PID/pagemap
// tells which pages are resident or swapped out; a page that is neither was
// never written by the process (it reads as zeros or as the mapped file) and
// is skipped. Without pagemap access every page of every readable mapping is
// read.
func ScanDetailed(pid int, needles [][]byte) (Result, error) {
	return ScanExcept(pid, needles, nil)
}

// ScanExcept is ScanDetailed leaving out the mappings that start at the
// addresses in skip; they are listed in Result.Excluded.
func ScanExcept(pid int, needles [][]byte, skip []uint64) (Result, error) {
	var res Result
	maps, err := readMaps(pid)
	if err != nil {
		return res, fmt.Errorf("memscan: %w", err)
	}
	mem, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
	if err != nil {
		return res, fmt.Errorf("memscan: %w", err)
	}
	defer mem.Close()
	pm, err := os.Open(fmt.Sprintf("/proc/%d/pagemap", pid))
	if err != nil {
		pm = nil
		res.Unreadable = append(res.Unreadable, fmt.Sprintf("pagemap: %v (every page read)", err))
	} else {
		defer pm.Close()
	}
	if len(needles) == 0 {
		return res, nil
	}
	s := &scanner{m: newMatcher(needles), mem: mem, res: &res}
	s.buf = make([]byte, chunkSize+s.m.maxLen-1)
	page := uint64(os.Getpagesize())
	ents := make([]byte, 8*(chunkSize/int(page)))
	for _, mp := range maps {
		if !strings.HasPrefix(mp.perms, "r") {
			continue
		}
		if mp.kernels() {
			continue
		}
		if slices.Contains(skip, mp.lo) {
			res.Excluded = append(res.Excluded, mp.line)
			continue
		}
		res.Mappings++
		s.mp = mp
		s.bad, s.firstErr = 0, nil
		if pm == nil {
			s.scanRange(mp.lo, mp.hi)
		} else {
			// Runs of pages that are present or swapped.
			runLo, inRun := uint64(0), false
			for addr := mp.lo; addr < mp.hi; {
				np := min(uint64(len(ents)/8), (mp.hi-addr)/page)
				b := ents[:8*np]
				if _, err := pm.ReadAt(b, int64(addr/page*8)); err != nil {
					// Unknown: treat as wanted.
					for i := range b {
						b[i] = 0xFF
					}
				}
				for i := uint64(0); i < np; i++ {
					e := binary.LittleEndian.Uint64(b[8*i:])
					want := e&(1<<63|1<<62) != 0
					pa := addr + i*page
					switch {
					case want && !inRun:
						runLo, inRun = pa, true
					case !want && inRun:
						s.scanRange(runLo, pa)
						inRun = false
					}
					if !want {
						res.Skipped += page
					}
				}
				addr += np * page
			}
			if inRun {
				s.scanRange(runLo, mp.hi)
			}
		}
		if s.bad > 0 {
			res.Unreadable = append(res.Unreadable, fmt.Sprintf("%s: %d pages unreadable, first %v", mp.line, s.bad, s.firstErr))
		}
	}
	return res, nil
}

type scanner struct {
	m        *matcher
	mem      *os.File
	res      *Result
	buf      []byte
	mp       mapping
	bad      int
	firstErr error
}

// scanRange reads [lo, hi) in chunks and searches it; the last maxLen-1
// bytes of a chunk are kept in front of the next one (carry) so that a
// needle crossing a chunk boundary is found exactly once.
func (s *scanner) scanRange(lo, hi uint64) {
	carry := 0
	overlap := s.m.maxLen - 1
	for addr := lo; addr < hi; {
		n := int(min(uint64(chunkSize), hi-addr))
		if got, err := s.mem.ReadAt(s.buf[carry:carry+n], int64(addr)); err == nil || got == n {
			total := carry + n
			base := addr - uint64(carry)
			s.m.search(s.buf[:total], carry, func(ni, off int) {
				s.res.Hits = append(s.res.Hits, Hit{Needle: ni, Addr: base + uint64(off), Mapping: s.mp.line})
			})
			s.res.Bytes += uint64(n)
			carry = min(overlap, total)
			copy(s.buf, s.buf[total-carry:total])
			addr += uint64(n)
			continue
		}
		// The chunk failed: read it page by page, keeping what can be
		// read; pages are searched on their own (no carry).
		carry = 0
		const page = 4096
		for off := 0; off < n; off += page {
			pl := min(page, n-off)
			pa := addr + uint64(off)
			if _, err := s.mem.ReadAt(s.buf[:pl], int64(pa)); err != nil {
				s.bad++
				if s.firstErr == nil {
					s.firstErr = fmt.Errorf("at %#x: %w", pa, err)
				}
				continue
			}
			s.m.search(s.buf[:pl], 0, func(ni, o int) {
				s.res.Hits = append(s.res.Hits, Hit{Needle: ni, Addr: pa + uint64(o), Mapping: s.mp.line})
			})
			s.res.Bytes += uint64(pl)
		}
		addr += uint64(n)
	}
}

// probe checks that the memory of pid can be read.
func probe(pid int) error {
	maps, err := readMaps(pid)
	if err != nil {
		return err
	}
	mem, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
	if err != nil {
		return err
	}
	defer mem.Close()
	var b [16]byte
	for _, mp := range maps {
		if strings.HasPrefix(mp.perms, "r") && !mp.kernels() {
			_, err := mem.ReadAt(b[:], int64(mp.lo))
			return err
		}
	}
	return fmt.Errorf("no readable mapping")
}
