package memscan

import (
	"bufio"
	"fmt"
	"os"
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
func ScanDetailed(pid int, needles [][]byte) (Result, error) {
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
	if len(needles) == 0 {
		return res, nil
	}
	m := newMatcher(needles)
	overlap := m.maxLen - 1
	buf := make([]byte, chunkSize+overlap)
	for _, mp := range maps {
		if !strings.HasPrefix(mp.perms, "r") {
			continue
		}
		switch mp.name {
		case "[vvar]", "[vsyscall]", "[vvar_vclock]":
			continue
		}
		res.Mappings++
		// carry is the number of bytes at the start of buf kept from the
		// previous chunk, so that a needle crossing a chunk boundary is found.
		carry := 0
		bad, firstErr := 0, error(nil)
		for addr := mp.lo; addr < mp.hi; {
			n := int(min(uint64(chunkSize), mp.hi-addr))
			if got, err := mem.ReadAt(buf[carry:carry+n], int64(addr)); err == nil || got == n {
				total := carry + n
				base := addr - uint64(carry)
				m.search(buf[:total], carry, func(ni, off int) {
					res.Hits = append(res.Hits, Hit{Needle: ni, Addr: base + uint64(off), Mapping: mp.line})
				})
				res.Bytes += uint64(n)
				carry = min(overlap, total)
				copy(buf, buf[total-carry:total])
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
				if _, err := mem.ReadAt(buf[:pl], int64(pa)); err != nil {
					bad++
					if firstErr == nil {
						firstErr = fmt.Errorf("at %#x: %w", pa, err)
					}
					continue
				}
				m.search(buf[:pl], 0, func(ni, o int) {
					res.Hits = append(res.Hits, Hit{Needle: ni, Addr: pa + uint64(o), Mapping: mp.line})
				})
				res.Bytes += uint64(pl)
			}
			addr += uint64(n)
		}
		if bad > 0 {
			res.Unreadable = append(res.Unreadable, fmt.Sprintf("%s: %d pages unreadable, first %v", mp.line, bad, firstErr))
		}
	}
	return res, nil
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
		if strings.HasPrefix(mp.perms, "r") && mp.name != "[vvar]" && mp.name != "[vsyscall]" && mp.name != "[vvar_vclock]" {
			_, err := mem.ReadAt(b[:], int64(mp.lo))
			return err
		}
	}
	return fmt.Errorf("no readable mapping")
}
