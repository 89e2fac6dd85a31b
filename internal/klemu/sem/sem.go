// Package sem implements the Key Locker instruction semantics (Intel SDM
// Vol. 2; summarised in ARCHITECTURE.md) over a register State value, with the handle wrap of
// internal/handle. It is pure: memory is read through a callback, and the
// caller (the tracer) moves registers in and out of the tracee.
package sem

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/go-keylocker/keylocker/internal/handle"
	"github.com/go-keylocker/keylocker/internal/klemu/decode"
)

// RFLAGS bits.
const (
	FlagCF = 1 << 0
	FlagPF = 1 << 2
	FlagAF = 1 << 4
	FlagZF = 1 << 6
	FlagSF = 1 << 7
	FlagOF = 1 << 11
	// KLFlags are the flags every Key Locker instruction writes.
	KLFlags = FlagCF | FlagPF | FlagAF | FlagZF | FlagSF | FlagOF
)

// State is the architectural state an instruction reads and writes. GPR is
// in encoding order: rax rcx rdx rbx rsp rbp rsi rdi r8 .. r15.
type State struct {
	GPR            [16]uint64
	RIP, RFLAGS    uint64
	FSBase, GSBase uint64
	XMM            [16][16]byte
}

// Regs returns the view decode.Inst.EffAddr needs.
func (s *State) Regs() decode.Regs {
	return decode.Regs{GPR: &s.GPR, RIP: s.RIP, FSBase: s.FSBase, GSBase: s.GSBase}
}

// FaultKind is an exception an instruction raises instead of completing.
type FaultKind int

// Faults. On a fault State is unchanged (RIP stays at the instruction).
const (
	NoFault FaultKind = iota
	UD                // #UD: the caller passes the original SIGILL through
	GP                // #GP(0): SIGSEGV, si_code SI_KERNEL, si_addr 0
	PF                // page fault reading the handle: SIGSEGV at Fault.Addr
)

func (k FaultKind) String() string {
	return [...]string{"none", "#UD", "#GP", "#PF"}[k]
}

// Fault describes an exception.
type Fault struct {
	Kind FaultKind
	Addr uint64 // PF: the faulting linear address
}

// MemReader reads tracee memory. On failure it returns the address of the
// first byte that could not be read and a non-nil error.
type MemReader func(addr uint64, b []byte) (badAddr uint64, err error)

// Breakage deliberately breaks the emulator (KLEMU_BREAK) so that the
// end-to-end tests can show they catch it.
type Breakage struct {
	RIPRel bool // RIP-relative operands relative to the instruction start
	Flags  bool // OF/SF/AF/PF/CF not cleared
	XMM456 bool // ENCODEKEY does not zero XMM4-6
}

// Config is what the emulated CPU reports and supports.
type Config struct {
	AESKLE       bool   // AES KL instructions enabled (CPUID.19H:EBX[0])
	Wide         bool   // WIDE forms (CPUID.19H:EBX[2])
	Restrictions uint32 // CPUID.19H:EAX: restriction bits ENCODEKEY accepts
	NoBackup     bool   // IWKey.NoBackup, reported in ENCODEKEY's DEST[0]
	KeySource    uint32 // IWKey.KeySource (0 or 1), DEST[4:1]
	ZeroIWKey    bool   // all-zero IWKey (tests only; rotation switches to random keys)
	RotateAfter  int    // replace the IWKey after this many AES instructions (0: never)
	CacheSize    int    // bound on cached expanded keys (0: 1024)
	Break        Breakage
}

// Stats counts emulated instructions.
type Stats struct {
	Ops       [decode.CPUID + 1]uint64 // completed instructions (ZF=0 or ZF=1), by Op
	ZF        uint64                   // instructions that returned ZF=1
	Faults    uint64                   // #GP/#PF raised
	Rotations uint64
}

// Machine is the emulated Key Locker unit: the IWKey and the key cache.
// It is not safe for concurrent use.
type Machine struct {
	cfg     Config
	iw      handle.IWKey
	cache   map[[64]byte]cipher.Block
	aesOps  int // AES instructions since the last rotation
	Stats   Stats
	randErr error
}

// New returns a machine with a fresh IWKey (all zero with cfg.ZeroIWKey).
func New(cfg Config) (*Machine, error) {
	if cfg.KeySource > 1 {
		return nil, fmt.Errorf("sem: KeySource %d (want 0 or 1)", cfg.KeySource)
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = 1024
	}
	m := &Machine{cfg: cfg, cache: make(map[[64]byte]cipher.Block)}
	if !cfg.ZeroIWKey {
		if err := m.randomIWKey(); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Machine) randomIWKey() error {
	if _, err := rand.Read(m.iw.IK[:]); err != nil {
		return err
	}
	_, err := rand.Read(m.iw.EK[:])
	return err
}

// Config returns the machine's configuration.
func (m *Machine) Config() Config { return m.cfg }

// Rotate replaces the IWKey with a fresh random one: every existing handle
// then fails with ZF=1.
func (m *Machine) Rotate() error {
	clear(m.cache)
	m.aesOps = 0
	m.Stats.Rotations++
	return m.randomIWKey()
}

// IWKey returns a copy of the current IWKey (for tests).
func (m *Machine) IWKey() handle.IWKey { return m.iw }

// ErrNotKL is returned by Exec for instructions it does not emulate.
var ErrNotKL = errors.New("sem: not a Key Locker instruction")

// Exec executes in (decoded at st.RIP) on st. It returns a Fault with Kind
// NoFault on completion (RIP advanced, flags and registers written), or the
// exception the instruction raises (State unchanged). xmmChanged reports
// whether any XMM register was written.
func (m *Machine) Exec(in *decode.Inst, st *State, read MemReader) (f Fault, xmmChanged bool, err error) {
	op := in.Op
	switch {
	case !op.IsKL():
		return f, false, ErrNotKL
	case !m.cfg.AESKLE || op.IsWide() && !m.cfg.Wide:
		return Fault{Kind: UD}, false, nil
	case op == decode.LOADIWKEY: // CPL0 only: user space gets #GP
		m.Stats.Faults++
		return Fault{Kind: GP}, false, nil
	case op == decode.ENCODEKEY128 || op == decode.ENCODEKEY256:
		return m.encodeKey(in, st)
	}
	return m.aes(in, st, read)
}

func (m *Machine) clearFlags(st *State) {
	if m.cfg.Break.Flags {
		st.RFLAGS &^= FlagZF
		return
	}
	st.RFLAGS &^= KLFlags
}

func (m *Machine) encodeKey(in *decode.Inst, st *State) (Fault, bool, error) {
	src := uint32(st.GPR[in.RM])
	if src&^handle.RestrictionMask != 0 || src&^m.cfg.Restrictions != 0 {
		m.Stats.Faults++
		return Fault{Kind: GP}, false, nil
	}
	n := 1
	if in.Op == decode.ENCODEKEY256 {
		n = 2
	}
	key := make([]byte, 0, 32)
	for i := range n {
		key = append(key, st.XMM[i][:]...)
	}
	h, err := handle.Wrap(&m.iw, src, key)
	clear(key)
	if err != nil {
		return Fault{}, false, err
	}
	for i := 0; i*16 < len(h); i++ {
		copy(st.XMM[i][:], h[16*i:])
	}
	if !m.cfg.Break.XMM456 {
		st.XMM[4], st.XMM[5], st.XMM[6] = [16]byte{}, [16]byte{}, [16]byte{}
	}
	var dest uint64
	if m.cfg.NoBackup {
		dest |= 1
	}
	dest |= uint64(m.cfg.KeySource) << 1
	st.GPR[in.Reg] = dest // a 32-bit destination: zero-extended
	m.clearFlags(st)
	st.RIP += uint64(in.Len)
	m.Stats.Ops[in.Op]++
	return Fault{}, true, nil
}

// EffAddr is the handle address of an AES*KL instruction (honouring the
// riprel breakage).
func (m *Machine) EffAddr(in *decode.Inst, st *State) uint64 {
	r := st.Regs()
	if m.cfg.Break.RIPRel && in.Mem.RIPRel {
		r.RIP -= uint64(in.Len)
	}
	return in.EffAddr(r)
}

func (m *Machine) aes(in *decode.Inst, st *State, read MemReader) (Fault, bool, error) {
	var hb [64]byte
	h := hb[:in.Op.HandleSize()]
	ea := m.EffAddr(in, st)
	if !canonical(ea) || !canonical(ea+uint64(len(h))-1) {
		// A non-canonical address raises #GP, not a page fault.
		m.Stats.Faults++
		return Fault{Kind: GP}, false, nil
	}
	if bad, err := read(ea, h); err != nil {
		m.Stats.Faults++
		return Fault{Kind: PF, Addr: bad}, false, nil
	}
	// Count and maybe rotate after this instruction.
	defer func() {
		m.aesOps++
		if m.cfg.RotateAfter > 0 && m.aesOps >= m.cfg.RotateAfter {
			if err := m.Rotate(); err != nil {
				m.randErr = err
			}
		}
	}()
	m.Stats.Ops[in.Op]++
	st.RIP += uint64(in.Len)
	m.clearFlags(st)
	c := m.unwrap(hb, h, in.Op)
	if c == nil {
		st.RFLAGS |= FlagZF
		m.Stats.ZF++
		return Fault{}, false, nil
	}
	regs := []int{in.Reg}
	if in.Op.IsWide() {
		regs = []int{0, 1, 2, 3, 4, 5, 6, 7}
	}
	enc := in.Op.Encrypt()
	for _, r := range regs {
		x := st.XMM[r][:]
		if enc {
			c.Encrypt(x, x)
		} else {
			c.Decrypt(x, x)
		}
	}
	return Fault{}, true, nil
}

// unwrap returns the expanded key of an authentic, permitted handle, or nil.
func (m *Machine) unwrap(hb [64]byte, h []byte, op decode.Op) cipher.Block {
	kt := handle.KeyTypeAES128
	if op.Is256() {
		kt = handle.KeyTypeAES256
	}
	if handle.Check(h, kt, op.Encrypt()) != nil {
		return nil
	}
	if c, ok := m.cache[hb]; ok {
		return c
	}
	key, _, _, err := handle.Unwrap(&m.iw, h)
	if err != nil {
		return nil
	}
	c, err := aes.NewCipher(key)
	clear(key)
	if err != nil {
		return nil
	}
	if len(m.cache) >= m.cfg.CacheSize {
		clear(m.cache)
	}
	m.cache[hb] = c
	return c
}

// Err reports a failure to draw a random IWKey during rotation.
func (m *Machine) Err() error { return m.randErr }

// canonical reports whether a is a canonical 48-bit virtual address (bits
// 63:47 all equal).
func canonical(a uint64) bool {
	top := a >> 47
	return top == 0 || top == 1<<17-1
}
