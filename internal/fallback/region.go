// Package fallback holds the process-wide software wrapping key (the
// "region") used when Key Locker itself is not available, its memory status,
// and the portable generic implementation of the Key Locker semantics.
//
// # The region
//
// One 4096-byte region per process (layout in ARCHITECTURE.md: IK at 0, EK
// at 16, the amd64 precomputation at 64..640). WrapKey creates it once, on
// first use:
//
//   - Linux: mmap of three pages, anonymous and private; the first and the
//     last page PROT_NONE (guard pages: a linear overrun faults); the middle
//     page is the region. mlock (may be refused: RLIMIT_MEMLOCK), then
//     MADV_DONTDUMP (not in core dumps) and MADV_WIPEONFORK (a child created
//     by fork sees zeros). IK/EK are read from crypto/rand directly into the
//     region, the precomputation is filled by the function given to
//     SetPrecompute (aeskl gives internal/asm/sealed.SealedInit where the sealed
//     assembly runs), then the page is made PROT_READ.
//   - darwin, *BSD, Solaris/illumos: the same with what the system offers
//     (mmap, guard pages, mlock, mprotect). Out of core dumps: MAP_NOCORE on
//     FreeBSD and DragonFly, MAP_CONCEAL on OpenBSD. Wipe on fork:
//     minherit(INHERIT_ZERO) on FreeBSD 12+. (Compiled, not run, here.)
//   - Windows: VirtualAlloc, PAGE_NOACCESS guard pages, VirtualLock,
//     VirtualProtect(PAGE_READONLY). No equivalent of DONTDUMP; no fork.
//   - Elsewhere (js/wasm, wasip1, plan9, aix...): a plain Go array; nothing
//     is possible and Status says so.
//
// Every step that fails is recorded in Status() with a plain-language note;
// creation fails only if no memory could be mapped at all (then WrapKey
// returns an error every time).
//
// Randomness: crypto/rand.Read writes straight into the region (getrandom
// on Linux) as long as crypto/rand.Reader is the default reader and FIPS 140
// mode is off. If a program replaced crypto/rand.Reader, the standard
// library reads into a heap buffer and copies: the wrapping key then leaves
// an unwiped heap copy. In FIPS 140 mode the bytes come from the DRBG.
//
// # Scratch memory
//
// NewScratch maps memory with the region's protections (guard pages, mlock,
// out of core dumps, wiped on fork; no read-only) for a secret that has to
// pass through memory on its way into a handle: a key read from a file or
// the kernel's keyring, a passphrase, the generic implementation's random
// key (GenericEncodeRandom). Close wipes and unmaps it.
//
// # Fork
//
// With MADV_WIPEONFORK (Linux 4.14+) a child created by fork(2) without exec
// sees the region as zeros. Go programs rarely fork without exec (os/exec and
// syscall.ForkExec exec at once), but a cgo library might. WrapKey detects
// the wiped region (IK and EK all zero) and returns ErrWiped rather than
// wrap keys under an all-zero IWKey; handles made by the parent fail to
// verify in the child. Where WIPEONFORK is not available the child shares
// the parent's wrapping key (copy-on-write), as any other memory.
//
// # The generic implementation
//
// GenericEncodeKey, GenericEncrypt/Decrypt and the mode kernels (GenericCTR,
// GenericCBCEncrypt/Decrypt, GenericXTS, GenericGCMCTR, GHASH) give the Key
// Locker semantics in portable Go: handle.Wrap's handle format under IK/EK
// from the region, the tag verified before anything is written, false on a
// bad handle. The AES is bitsliced and table-free (aesct.go), POLYVAL and
// GHASH use constant-time carry-less multiplication (polyval.go). The data
// key exists unwrapped only during a call, in stack arrays that are wiped,
// with the stack below the call overwritten afterwards; generic.go lists
// what that does not cover. With GOEXPERIMENT=runtimesecret every call runs
// inside runtime/secret.Do. A test scans a child process after every kernel
// has run and finds no form of the key (hygiene_linux_test.go, with
// internal/memscan).
package fallback

import (
	"crypto/rand"
	"errors"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/go-keylocker/keylocker/internal/kernel"
)

// RegionSize is the size of the wrapping key region.
const RegionSize = kernel.RegionSize

// Region is the wrapping key region: IK, EK and what the assembly
// precomputes from them, at the offsets below, in one page of its own
// (defined in internal/kernel, which the assembly packages can import).
type Region = kernel.Region

// Offsets in the region, defined in internal/kernel.
const (
	OffIK      = kernel.RegionIK
	OffEK      = kernel.RegionEK
	OffRoundEK = kernel.RegionRoundEK // AES-256 encryption round keys of EK (15 x 16), amd64 only
	OffHPowers = kernel.RegionHPowers // POLYVAL key powers for the assembly, amd64 only
	OffRoundDK = kernel.RegionRoundDK // InvMixColumns of EK's round keys 1-13 (13 x 16), amd64 only
	OffEnd     = kernel.RegionEnd
)

// MemoryStatus reports which protections the region got. Every false field
// has a plain-language entry in Notes explaining why and what it means.
type MemoryStatus struct {
	Locked     bool // mlock / VirtualLock: the page is not swapped out
	DontDump   bool // excluded from core dumps (MADV_DONTDUMP, MAP_NOCORE)
	WipeOnFork bool // a fork(2) child sees zeros (MADV_WIPEONFORK)
	GuardPages bool // inaccessible pages before and after the region
	ReadOnly   bool // the region is read-only once written
	Notes      []string
}

// Unlocked returns why the memory is not locked against swap (the first
// of Notes about mlock or VirtualLock, or "mlock refused"), or "" when it
// is.
func (s MemoryStatus) Unlocked() string {
	if s.Locked {
		return ""
	}
	for _, n := range s.Notes {
		if strings.HasPrefix(n, "mlock") || strings.HasPrefix(n, "VirtualLock") || strings.HasPrefix(n, "not locked") {
			return n
		}
	}
	return "mlock refused"
}

// ErrWiped is returned by WrapKey when the region reads as all zeros: the
// process is a fork child and MADV_WIPEONFORK cleared it.
var ErrWiped = errors.New("fallback: the wrapping key region is wiped (this process was forked from the one that created it); create keys in the parent or exec")

// initPrecomp fills region[OffRoundEK:OffEnd] from IK/EK when the region is
// created; nil: the region holds IK/EK only (all the generic code needs).
var initPrecomp atomic.Pointer[func(*Region)]

// SetPrecompute sets the function that fills the precomputation of the
// region (region[OffRoundEK:OffEnd]: the sealed assembly's SealedInit) when
// the region is created. This package does not look at the CPU: the caller
// that decides the CPU's features (aeskl) sets it, before its first
// WrapKey, when the sealed implementation can run there. It has no effect
// on a region that exists already.
func SetPrecompute(f func(*Region)) { initPrecomp.Store(&f) }

var (
	once      sync.Once
	region    *Region
	regionErr error
	status    MemoryStatus
	statusMu  sync.Mutex
)

// WrapKey returns the process-wide wrapping key region, creating it on the
// first call. The region is read-only (where the system allows it): writing
// to it faults.
func WrapKey() (*Region, error) {
	once.Do(create)
	if regionErr != nil {
		return nil, regionErr
	}
	if wiped(region) {
		return nil, ErrWiped
	}
	return region, nil
}

// wiped reports whether IK and EK are all zero (constant time over 48 bytes).
func wiped(r *Region) bool {
	var acc byte
	for _, b := range r[OffIK : OffEK+32] {
		acc |= b
	}
	return acc == 0
}

// Status reports the protections of the region. It does not create the
// region: before the first WrapKey call every field is false and Notes says
// that the region does not exist yet. The returned Notes slice is a copy.
func Status() MemoryStatus {
	statusMu.Lock()
	defer statusMu.Unlock()
	if region == nil && regionErr == nil {
		return MemoryStatus{Notes: []string{"the wrapping key region has not been created yet (no key wrapped so far)"}}
	}
	st := status
	st.Notes = append([]string(nil), status.Notes...)
	return st
}

func create() {
	r, st, err := newRegion()
	statusMu.Lock()
	defer statusMu.Unlock()
	region, status, regionErr = r, st, err
}

// fill writes IK/EK and the precomputation into a writable region.
func fill(r *Region) {
	rand.Read(r[OffIK : OffEK+32]) // straight into the region, see the package doc
	if f := initPrecomp.Load(); f != nil && *f != nil {
		(*f)(r)
	}
}

func (st *MemoryStatus) note(s string) { st.Notes = append(st.Notes, s) }
