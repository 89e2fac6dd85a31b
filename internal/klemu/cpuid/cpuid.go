// Package cpuid is klemu's CPUID table: the host's CPUID values (cached)
// with Key Locker enumerated according to a profile.
package cpuid

//go:generate sh -c "cd ../../asm/_asm && go run ./klemucpuid -out ../../klemu/cpuid/host_amd64.s -stubs ../../klemu/cpuid/host_amd64.go -pkg cpuid"

import (
	"fmt"
	"sync"
)

// Profile selects what CPUID reports about Key Locker.
type Profile int

// Profiles. Full is the default.
const (
	// Full: leaf 7 ECX[23]=1; leaf 19H EAX=7 (all restrictions), EBX=AESKLE|WIDE_KL|backup,
	// ECX=NoBackup|KeySource-1 support.
	Full Profile = iota
	// NoWide: as Full but WIDE_KL=0 (the WIDE instructions raise #UD).
	NoWide
	// Disabled: Key Locker enumerated but AESKLE=0 (what a Key Locker
	// laptop shows on mainline Linux); every KL instruction raises #UD.
	Disabled
	// Absent: no Key Locker (leaf 7 ECX[23]=0, leaf 19H all zero).
	Absent
)

var names = [...]string{"full", "no-wide", "disabled", "absent"}

// Profiles lists all profile names.
func Profiles() []string { return names[:] }

func (p Profile) String() string {
	if p >= 0 && int(p) < len(names) {
		return names[p]
	}
	return fmt.Sprintf("profile(%d)", int(p))
}

// Parse returns the profile with the given name.
func Parse(name string) (Profile, error) {
	for i, n := range names {
		if n == name {
			return Profile(i), nil
		}
	}
	return 0, fmt.Errorf("unknown profile %q (want one of %v)", name, names)
}

// Leaf 19H bits.
const (
	Leaf19EAXRestrictions = 0x7     // CPL0-only, no-encrypt, no-decrypt supported
	Leaf19EBXAESKLE       = 1 << 0  // AES KL instructions enabled
	Leaf19EBXWide         = 1 << 2  // AES*WIDE*KL
	Leaf19EBXBackup       = 1 << 4  // IWKey backup MSRs
	Leaf19ECXNoBackup     = 1 << 0  // LOADIWKEY NoBackup supported
	Leaf19ECXKeySource1   = 1 << 1  // KeySource 1 supported
	Leaf7ECXKL            = 1 << 23 // CPUID.(7,0):ECX[23]
	KLLeaf                = 0x19    // the Key Locker leaf
	leaf19EBXFull         = Leaf19EBXAESKLE | Leaf19EBXWide | Leaf19EBXBackup
)

// Enumerated reports whether leaf 7 ECX[23] (KL) is set.
func (p Profile) Enumerated() bool { return p != Absent }

// AESKLE reports whether the AES KL instructions execute.
func (p Profile) AESKLE() bool { return p == Full || p == NoWide }

// Wide reports whether the WIDE instructions execute.
func (p Profile) Wide() bool { return p == Full }

// Restrictions returns CPUID.19H:EAX: the restriction bits ENCODEKEY accepts.
func (p Profile) Restrictions() uint32 {
	if p == Absent {
		return 0
	}
	return Leaf19EAXRestrictions
}

// Leaf19 returns the profile's leaf 19H values.
func (p Profile) Leaf19() (a, b, c, d uint32) {
	switch p {
	case Full:
		return Leaf19EAXRestrictions, leaf19EBXFull, Leaf19ECXNoBackup | Leaf19ECXKeySource1, 0
	case NoWide:
		return Leaf19EAXRestrictions, leaf19EBXFull &^ Leaf19EBXWide, Leaf19ECXNoBackup | Leaf19ECXKeySource1, 0
	case Disabled:
		// CR4.KL=0: AESKLE reads 0, the static capability bits stay.
		return Leaf19EAXRestrictions, leaf19EBXFull &^ Leaf19EBXAESKLE, Leaf19ECXNoBackup | Leaf19ECXKeySource1, 0
	}
	return 0, 0, 0, 0
}

// HostFunc executes CPUID on the host.
type HostFunc func(leaf, sub uint32) (a, b, c, d uint32)

// maxCache bounds the cache (a tracee may pass garbage in ECX for leaves
// that ignore it).
const maxCache = 4096

// Table answers CPUID for a profile. It is safe for concurrent use.
type Table struct {
	p    Profile
	host HostFunc
	mu   sync.Mutex
	c    map[[2]uint32][4]uint32
}

// New returns a table over host (nil: the host CPU, see Host).
func New(p Profile, host HostFunc) *Table {
	if host == nil {
		host = Host
	}
	return &Table{p: p, host: host, c: make(map[[2]uint32][4]uint32)}
}

// Profile returns the table's profile.
func (t *Table) Profile() Profile { return t.p }

func (t *Table) hostCached(leaf, sub uint32) (a, b, c, d uint32) {
	k := [2]uint32{leaf, sub}
	t.mu.Lock()
	defer t.mu.Unlock()
	if v, ok := t.c[k]; ok {
		return v[0], v[1], v[2], v[3]
	}
	a, b, c, d = t.host(leaf, sub)
	if len(t.c) < maxCache {
		t.c[k] = [4]uint32{a, b, c, d}
	}
	return
}

// Lookup returns what CPUID(leaf, sub) reports under the profile.
func (t *Table) Lookup(leaf, sub uint32) (a, b, c, d uint32) {
	hostMax, _, _, _ := t.hostCached(0, 0)
	switch {
	case leaf == KLLeaf:
		return t.p.Leaf19()
	case leaf > hostMax && leaf < KLLeaf && t.p.Enumerated():
		return 0, 0, 0, 0 // leaves the host lacks below the raised maximum
	}
	a, b, c, d = t.hostCached(leaf, sub)
	switch leaf {
	case 0:
		if t.p.Enumerated() {
			a = max(a, KLLeaf)
		}
	case 7:
		if sub == 0 {
			if t.p.Enumerated() {
				c |= Leaf7ECXKL
			} else {
				c &^= Leaf7ECXKL
			}
		}
	}
	return
}
