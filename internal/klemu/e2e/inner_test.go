//go:build linux && amd64

package e2e

// The inner half: tests that run under klemu (they skip otherwise). Their
// expectations come from the environment: KLEMU_PROFILE (set by klemu) and
// the KLEMU_E2E_* variables the outer tests set.

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/go-keylocker/keylocker/internal/klemu/klemutest"
)

const arithFlags = 0x8D5 // CF PF AF ZF SF OF

func requireInner(t testing.TB) {
	t.Helper()
	if !klemutest.Inner() {
		t.Skip("runs under klemu: see TestUnderKlemu")
	}
}

func profile() string { return os.Getenv("KLEMU_PROFILE") }

func aeskle() bool { _, b, _, _ := cpuidRaw(0x19, 0); return b&1 != 0 }

func wide() bool { _, b, _, _ := cpuidRaw(0x19, 0); return b&5 == 5 }

func requireAESKLE(t testing.TB) {
	t.Helper()
	requireInner(t)
	if !aeskle() {
		if p := profile(); p == "full" || p == "no-wide" {
			t.Fatalf("profile %s but CPUID.19H:EBX[0] (AESKLE) = 0", p)
		}
		t.Skipf("profile %s: no AESKLE", profile())
	}
}

func requireWide(t testing.TB) {
	t.Helper()
	requireAESKLE(t)
	if !wide() {
		if profile() == "full" {
			t.Fatal("profile full but WIDE_KL = 0")
		}
		t.Skipf("profile %s: no WIDE_KL", profile())
	}
}

// page is an mmap'd RWX page below 2 GiB (so that 32-bit addresses reach
// it) followed by a PROT_NONE page.
type page struct {
	mem  []byte
	base uintptr
}

func newPage(t testing.TB) *page {
	t.Helper()
	const mapa32bit = 0x40
	mem, err := syscall.Mmap(-1, 0, 8192, syscall.PROT_READ|syscall.PROT_WRITE|syscall.PROT_EXEC,
		syscall.MAP_PRIVATE|syscall.MAP_ANON|mapa32bit)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mprotect(mem[4096:], syscall.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	return &page{mem: mem, base: uintptr(unsafe.Pointer(&mem[0]))}
}

// put copies h to offset off and returns its address.
func (p *page) put(off int, h []byte) uintptr {
	copy(p.mem[off:], h)
	return p.base + uintptr(off)
}

func randCtx() Ctx {
	var c Ctx
	for i := range c.X {
		rand.Read(c.X[i][:])
	}
	return c
}

// encode runs ENCODEKEY128/256 on key with restrictions and checks the
// architectural side effects; it returns the handle.
func encode(t testing.TB, key []byte, restr uint32) []byte {
	t.Helper()
	c := randCtx()
	copy(c.X[0][:], key)
	if len(key) == 32 {
		copy(c.X[1][:], key[16:])
	}
	in := c
	c.Src = uint64(restr) | 0xFFFF_FFFF_0000_0000 // the upper half is ignored (r32 operand)
	c.Flags = arithFlags
	n := 3
	if len(key) == 32 {
		encodekey256(&c)
		n = 4
	} else {
		encodekey128(&c)
	}
	if c.Flags&arithFlags != 0 {
		t.Errorf("ENCODEKEY: RFLAGS %#x: OF SF ZF AF PF CF not cleared", c.Flags)
	}
	want := uint64(0)
	if s := os.Getenv("KLEMU_E2E_DEST"); s != "" {
		want, _ = strconv.ParseUint(s, 0, 64)
	}
	if c.Dest != want {
		t.Errorf("ENCODEKEY dest = %#x, want %#x", c.Dest, want)
	}
	for i := 4; i <= 6; i++ {
		if c.X[i] != ([16]byte{}) {
			t.Errorf("ENCODEKEY: XMM%d not zeroed: %x", i, c.X[i])
		}
	}
	for i := n; i < 15; i++ {
		if (i < 4 || i > 6) && c.X[i] != in.X[i] {
			t.Errorf("ENCODEKEY: XMM%d changed", i)
		}
	}
	var h []byte
	for i := range n {
		h = append(h, c.X[i][:]...)
	}
	kt := uint32(0)
	if len(key) == 32 {
		kt = 1 << 24
	}
	if m := binary.LittleEndian.Uint32(h); m != restr|kt || !bytes.Equal(h[4:16], make([]byte, 12)) {
		t.Errorf("ENCODEKEY metadata %x, want %#x", h[:16], restr|kt)
	}
	return h
}

func TestKLCPUID(t *testing.T) {
	requireInner(t)
	check := func() error {
		max, _, _, _ := cpuidRaw(0, 0)
		_, _, c7, _ := cpuidRaw(7, 0)
		a, b, c, d := cpuidRaw(0x19, 0)
		kl := c7&(1<<23) != 0
		want := map[string][4]uint32{"full": {7, 0x15, 3, 0}, "no-wide": {7, 0x11, 3, 0}, "disabled": {7, 0x14, 3, 0}}
		switch p := profile(); p {
		case "full", "no-wide", "disabled":
			if max < 0x19 || !kl {
				return fmt.Errorf("profile %s: max leaf %#x, leaf 7 ECX[23]=%v", p, max, kl)
			}
			if got := [4]uint32{a, b, c, d}; got != want[p] {
				return fmt.Errorf("profile %s: leaf 19H = %#x, want %#x", p, got, want[p])
			}
		case "absent":
			if kl || max >= 0x19 && a|b|c|d != 0 {
				return fmt.Errorf("profile absent: leaf 7 ECX[23]=%v, leaf 19H %#x %#x %#x %#x", kl, a, b, c, d)
			}
		default:
			return fmt.Errorf("KLEMU_PROFILE=%q", p)
		}
		return nil
	}
	if err := check(); err != nil {
		t.Fatal(err)
	}
	// New threads (clone inherits CPUID faulting) see the same.
	const n = 8
	var wg, ready sync.WaitGroup
	errs := make([]error, n)
	tids := make([]int, n)
	release := make(chan struct{})
	ready.Add(n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread() // a thread of its own, never reused
			ready.Done()
			<-release
			tids[i] = syscall.Gettid()
			errs[i] = check()
		}()
	}
	ready.Wait()
	close(release)
	wg.Wait()
	seen := map[int]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Errorf("thread %d: %v", tids[i], errs[i])
		}
		seen[tids[i]] = true
	}
	if len(seen) < n {
		t.Errorf("only %d distinct threads", len(seen))
	}
}

func TestKLEncodeKey(t *testing.T) {
	requireAESKLE(t)
	for r := uint32(0); r < 8; r++ {
		encode(t, make([]byte, 16), r)
		encode(t, make([]byte, 32), r)
	}
	// Handles of the same key differ in nothing but what the IWKey fixes:
	// encoding twice gives the same handle (deterministic wrap).
	key := make([]byte, 16)
	rand.Read(key)
	if !bytes.Equal(encode(t, key, 0), encode(t, key, 0)) {
		t.Error("ENCODEKEY128 not deterministic under one IWKey")
	}
}

type aesCase struct {
	name    string
	fn      func(*Ctx)
	keyLen  int
	enc     bool
	regs    []int // the XMM registers it transforms
	wideful bool
}

var aesCases = []aesCase{
	{"aesenc128kl", aesenc128kl, 16, true, []int{1}, false},
	{"aesdec128kl", aesdec128kl, 16, false, []int{9}, false},
	{"aesenc256kl", aesenc256kl, 32, true, []int{2}, false},
	{"aesdec256kl", aesdec256kl, 32, false, []int{3}, false},
	{"aesencwide128kl", aesencwide128kl, 16, true, []int{0, 1, 2, 3, 4, 5, 6, 7}, true},
	{"aesdecwide128kl", aesdecwide128kl, 16, false, []int{0, 1, 2, 3, 4, 5, 6, 7}, true},
	{"aesencwide256kl", aesencwide256kl, 32, true, []int{0, 1, 2, 3, 4, 5, 6, 7}, true},
	{"aesdecwide256kl", aesdecwide256kl, 32, false, []int{0, 1, 2, 3, 4, 5, 6, 7}, true},
}

// runAES runs tc with handle h (at addr) and checks the result against
// crypto/aes (key != nil) or ZF=1 with nothing changed (key == nil).
func runAES(t testing.TB, tc aesCase, addr uintptr, key []byte, what string) {
	t.Helper()
	c := randCtx()
	c.H = addr
	c.Flags = arithFlags &^ 0x40 // all but ZF set
	in := c
	tc.fn(&c)
	want := in.X
	if key != nil {
		b, _ := aes.NewCipher(key)
		for _, r := range tc.regs {
			if tc.enc {
				b.Encrypt(want[r][:], in.X[r][:])
			} else {
				b.Decrypt(want[r][:], in.X[r][:])
			}
		}
	}
	wantFlags := uint64(0)
	if key == nil {
		wantFlags = 0x40
	}
	if c.Flags&arithFlags != wantFlags {
		t.Errorf("%s %s: flags %#x, want only ZF=%d (OF SF AF PF CF cleared)", tc.name, what, c.Flags&arithFlags, wantFlags>>6)
	}
	for i := range c.X {
		if c.X[i] != want[i] {
			t.Errorf("%s %s: XMM%d = %x, want %x", tc.name, what, i, c.X[i], want[i])
		}
	}
}

func TestKLAES(t *testing.T) {
	requireAESKLE(t)
	p := newPage(t)
	for _, tc := range aesCases {
		if tc.wideful && !wide() {
			continue
		}
		for i := range 3 {
			key := make([]byte, tc.keyLen)
			rand.Read(key)
			h := encode(t, key, 0)
			runAES(t, tc, p.put(64*i, h), key, "vs crypto/aes")
		}
	}
}

func TestKLRestrictionsTamper(t *testing.T) {
	requireAESKLE(t)
	p := newPage(t)
	k16, k32 := make([]byte, 16), make([]byte, 32)
	rand.Read(k16)
	rand.Read(k32)
	for r := uint32(0); r < 8; r++ {
		h16, h32 := encode(t, k16, r), encode(t, k32, r)
		for _, tc := range aesCases {
			if tc.wideful && !wide() {
				continue
			}
			h, key := h16, k16
			if tc.keyLen == 32 {
				h, key = h32, k32
			}
			ok := r&1 == 0 && (tc.enc && r&2 == 0 || !tc.enc && r&4 == 0)
			if !ok {
				key = nil
			}
			runAES(t, tc, p.put(0, h), key, fmt.Sprintf("restrictions %d", r))
		}
	}
	h16, h32 := encode(t, k16, 0), encode(t, k32, 0)
	for _, tc := range aesCases {
		if tc.wideful && !wide() {
			continue
		}
		h := h16
		if tc.keyLen == 32 {
			h = h32
		}
		for _, pos := range []int{0, 3, 8, 15, 16, 31, 32, 47, len(h) - 1} {
			tam := append([]byte{}, h...)
			tam[pos] ^= 0x04
			runAES(t, tc, p.put(0, tam), nil, fmt.Sprintf("tampered byte %d", pos))
		}
		// key type mismatch: the other size's handle
		other := append(append([]byte{}, h32...), make([]byte, 16)...)
		if tc.keyLen == 32 {
			other = append(append([]byte{}, h16...), make([]byte, 16)...)
		}
		runAES(t, tc, p.put(0, other), nil, "key type mismatch")
	}
}

func TestKLYMMUpper(t *testing.T) {
	requireAESKLE(t)
	p := newPage(t)
	key := make([]byte, 16)
	rand.Read(key)
	addr := p.put(0, encode(t, key, 0))
	var y [32]byte
	rand.Read(y[:])
	orig := y
	if f := aesenc128klYMM(addr, &y); f&0x40 != 0 {
		t.Fatal("ZF=1")
	}
	b, _ := aes.NewCipher(key)
	var want [16]byte
	b.Encrypt(want[:], orig[:16])
	if [16]byte(y[:16]) != want {
		t.Errorf("low half %x, want %x", y[:16], want)
	}
	if [16]byte(y[16:]) != [16]byte(orig[16:]) {
		t.Errorf("upper YMM1 changed: %x -> %x", orig[16:], y[16:])
	}
}

func TestKLConcurrent(t *testing.T) {
	requireAESKLE(t)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	const G, N = 16, 60
	p := newPage(t)
	var wg sync.WaitGroup
	var bad atomic.Int32
	for g := range G {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if g%4 == 0 {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
			}
			tc := aesCases[g%4]
			key := make([]byte, tc.keyLen)
			rand.Read(key)
			addr := p.put(64*g, encode(t, key, 0))
			for i := range N {
				runAES(t, tc, addr, key, "concurrent")
				if i%8 == 0 {
					runtime.Gosched()
				}
			}
			if t.Failed() {
				bad.Add(1)
			}
		}()
	}
	wg.Wait()
}

// TestKLSignals: signals not raised by an emulated instruction pass through.
func TestKLSignals(t *testing.T) {
	requireInner(t)
	// Async preemption (SIGURG) of a loop without preemption points.
	func() {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
		var stop atomic.Bool
		done := make(chan struct{})
		go func() {
			x := 0
			for !stop.Load() {
				x++
			}
			_ = x
			close(done)
		}()
		time.Sleep(30 * time.Millisecond)
		stop.Store(true)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("spinning goroutine not preempted: SIGURG lost")
		}
	}()
	for _, sig := range []syscall.Signal{syscall.SIGUSR1, syscall.SIGILL, syscall.SIGSEGV, syscall.SIGWINCH} {
		c := make(chan os.Signal, 1)
		signal.Notify(c, sig)
		syscall.Kill(os.Getpid(), sig) // SI_USER: klemu must not touch it
		select {
		case <-c:
		case <-time.After(5 * time.Second):
			t.Errorf("%v sent with kill not delivered", sig)
		}
		signal.Stop(c)
	}
	// A real SIGSEGV (nil dereference) reaches the Go runtime as a panic.
	func() {
		defer func() {
			if recover() == nil {
				t.Error("nil dereference did not panic")
			}
		}()
		var p *int
		*p = 1
	}()
}

// TestKLSubprocess: fork+exec of a child that also sees Key Locker.
func TestKLSubprocess(t *testing.T) {
	requireAESKLE(t)
	if os.Getenv("KLEMU_E2E_CHILD") != "" {
		t.Skip("child")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestKL(CPUID|AES)$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "KLEMU_E2E_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("--- PASS: TestKLCPUID")) || !bytes.Contains(out, []byte("--- PASS: TestKLAES")) {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

// TestKLFaults: #GP and page faults arrive as SIGSEGV with the address.
func TestKLFaults(t *testing.T) {
	requireAESKLE(t)
	p := newPage(t)
	fault := func(name string, wantAddr uintptr, f func()) {
		t.Helper()
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		defer func() {
			r := recover()
			var re interface{ Addr() uintptr }
			if e, ok := r.(error); !ok || !errors.As(e, &re) {
				t.Errorf("%s: recovered %v, want a memory fault", name, r)
				return
			}
			if re.Addr() != wantAddr {
				t.Errorf("%s: fault address %#x, want %#x", name, re.Addr(), wantAddr)
			}
		}()
		f()
		t.Errorf("%s: no fault", name)
	}
	key := make([]byte, 16)
	h := encode(t, key, 0)
	// The handle straddles into the PROT_NONE page.
	addr := p.put(4096-16, h[:16])
	fault("handle across the guard page", p.base+4096, func() {
		c := randCtx()
		c.H = addr
		aesenc128kl(&c)
	})
	fault("handle in the guard page", p.base+4096+8, func() {
		c := randCtx()
		c.H = p.base + 4096 + 8
		aesencwide256kl(&c)
	})
	for _, src := range []uint64{8, 0x10, 0x80000000} {
		fault(fmt.Sprintf("ENCODEKEY reserved source bits %#x (#GP)", src), 0, func() {
			c := randCtx()
			c.Src = src
			encodekey128(&c)
		})
	}
	fault("LOADIWKEY at CPL3 (#GP)", 0, func() {
		c := randCtx()
		loadiwkey(&c)
	})
}

// crashCases: what a child running one instruction with SIGSEGV and SIGILL
// at their default action ends with, per profile.
var crashCases = map[string]map[string]string{
	"encodekey":          {"full": "ok", "no-wide": "ok", "disabled": "SIGILL", "absent": "SIGILL"},
	"encodekey-reserved": {"full": "SIGSEGV", "no-wide": "SIGSEGV", "disabled": "SIGILL", "absent": "SIGILL"},
	// a fault signal is forced: blocking SIGSEGV does not hold it back
	"encodekey-reserved-blocked": {"full": "SIGSEGV", "no-wide": "SIGSEGV", "disabled": "SIGILL", "absent": "SIGILL"},
	"aesenc":                     {"full": "ok", "no-wide": "ok", "disabled": "SIGILL", "absent": "SIGILL"},
	"aesencwide":                 {"full": "ok", "no-wide": "SIGILL", "disabled": "SIGILL", "absent": "SIGILL"},
	"pagefault":                  {"full": "SIGSEGV", "no-wide": "SIGSEGV", "disabled": "SIGILL", "absent": "SIGILL"},
	"loadiwkey":                  {"full": "SIGSEGV", "no-wide": "SIGSEGV", "disabled": "SIGILL", "absent": "SIGILL"},
}

func sigDefault(sig syscall.Signal) {
	var sa [4]uint64 // struct kernel_sigaction: SIG_DFL
	syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&sa)), 0, 8, 0, 0)
}

// TestKLCrashChild is the child of TestKLCrash.
func TestKLCrashChild(t *testing.T) {
	what := os.Getenv("KLEMU_E2E_CRASH")
	if what == "" || !klemutest.Inner() {
		t.Skip("child of TestKLCrash")
	}
	p := newPage(t)
	c := randCtx()
	c.H = p.base
	runtime.LockOSThread()
	sigDefault(syscall.SIGSEGV)
	sigDefault(syscall.SIGILL)
	switch what {
	case "encodekey":
		encodekey128(&c)
	case "encodekey-reserved":
		c.Src = 8
		encodekey128(&c)
	case "encodekey-reserved-blocked":
		c.Src = 8
		set := uint64(1) << (syscall.SIGSEGV - 1)
		syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, 0 /* SIG_BLOCK */, uintptr(unsafe.Pointer(&set)), 0, 8, 0, 0)
		encodekey128(&c)
	case "aesenc":
		aesenc128kl(&c)
	case "aesencwide":
		aesencwide128kl(&c)
	case "pagefault":
		c.H = p.base + 4096
		aesenc128kl(&c)
	case "loadiwkey":
		loadiwkey(&c)
	default:
		t.Fatalf("unknown KLEMU_E2E_CRASH=%s", what)
	}
	fmt.Println("survived")
}

func TestKLCrash(t *testing.T) {
	requireInner(t)
	for what, byProfile := range crashCases {
		want := byProfile[profile()]
		cmd := exec.Command(os.Args[0], "-test.run=^TestKLCrashChild$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), "KLEMU_E2E_CRASH="+what)
		out, err := cmd.CombinedOutput()
		got := "ok"
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			ws := ee.Sys().(syscall.WaitStatus)
			got = fmt.Sprintf("exit %d", ws.ExitStatus())
			if ws.Signaled() {
				got = map[syscall.Signal]string{syscall.SIGSEGV: "SIGSEGV", syscall.SIGILL: "SIGILL"}[ws.Signal()]
			}
		} else if err != nil {
			t.Fatal(err)
		} else if !bytes.Contains(out, []byte("survived")) {
			got = "no run"
		}
		if got != want {
			t.Errorf("profile %s, %s: child ended with %s, want %s\n%s", profile(), what, got, want, out)
		}
	}
}

// TestKLSpecVector: with --iwkey=zero, ENCODEKEY128 of the zero key gives the
// Key Locker specification's handle.
func TestKLSpecVector(t *testing.T) {
	requireAESKLE(t)
	if os.Getenv("KLEMU_E2E_ZERO") == "" {
		t.Skip("needs klemu --iwkey=zero (TestUnderKlemu/spec-vector)")
	}
	h := encode(t, make([]byte, 16), 0)
	want, _ := hex.DecodeString("00000000000000000000000000000000" +
		"dc95c078a2408989ad48a21492842087" + "08c374848c228233c2b34f332bd2e9d3")
	if !bytes.Equal(h, want) {
		t.Fatalf("handle %x\nwant   %x", h, want)
	}
	p := newPage(t)
	runAES(t, aesCases[0], p.put(0, h), make([]byte, 16), "spec vector handle")
}

// TestKLRotation: with --rotate-after=N the IWKey changes after N AES
// instructions.
func TestKLRotation(t *testing.T) {
	requireAESKLE(t)
	n, _ := strconv.Atoi(os.Getenv("KLEMU_E2E_ROTATE"))
	if n == 0 {
		t.Skip("needs klemu --rotate-after=N and KLEMU_E2E_ROTATE=N (TestUnderKlemu/rotate-after)")
	}
	p := newPage(t)
	key := make([]byte, 16)
	rand.Read(key)
	for round := range 2 {
		addr := p.put(0, encode(t, key, 0)) // ENCODEKEY does not count
		for i := range n {
			runAES(t, aesCases[0], addr, key, fmt.Sprintf("round %d, instruction %d of %d", round, i+1, n))
		}
		runAES(t, aesCases[0], addr, nil, fmt.Sprintf("round %d, after rotation", round))
		// that failed instruction counted too: n-1 more before the next rotation
		for i := range n - 1 {
			runAES(t, aesCases[0], addr, nil, fmt.Sprintf("round %d, stale handle %d", round, i))
		}
	}
}

// TestKLRotateSIGUSR2: SIGUSR2 to klemu rotates the IWKey at once.
func TestKLRotateSIGUSR2(t *testing.T) {
	requireAESKLE(t)
	if os.Getenv("KLEMU_E2E_SIGUSR2") == "" {
		t.Skip("needs KLEMU_E2E_SIGUSR2 (TestUnderKlemu/sigusr2)")
	}
	p := newPage(t)
	key := make([]byte, 16)
	rand.Read(key)
	addr := p.put(0, encode(t, key, 0))
	runAES(t, aesCases[0], addr, key, "before SIGUSR2")
	if err := syscall.Kill(os.Getppid(), syscall.SIGUSR2); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := randCtx()
		c.H = addr
		aesenc128kl(&c)
		if c.Flags&0x40 != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("handle still valid 10 s after SIGUSR2 to klemu")
		}
		time.Sleep(10 * time.Millisecond)
	}
	addr = p.put(0, encode(t, key, 0))
	runAES(t, aesCases[0], addr, key, "new handle after SIGUSR2")
}

// TestKLStatsWorkload runs a known number of each instruction for
// TestUnderKlemu/stats.
func TestKLStatsWorkload(t *testing.T) {
	requireWide(t)
	if os.Getenv("KLEMU_E2E_STATS") == "" {
		t.Skip("needs KLEMU_E2E_STATS (TestUnderKlemu/stats)")
	}
	p := newPage(t)
	k16, k32 := make([]byte, 16), make([]byte, 32)
	a16 := p.put(0, encode(t, k16, 0))
	encode(t, k16, 0)
	a32 := p.put(64, encode(t, k32, 0))
	for _, tc := range aesCases {
		addr, key := a16, k16
		if tc.keyLen == 32 {
			addr, key = a32, k32
		}
		for range 3 {
			runAES(t, tc, addr, key, "stats")
		}
	}
	runAES(t, aesCases[0], p.put(128, make([]byte, 48)), nil, "zero handle")
}

// TestKLExit ends the process as KLEMU_E2E_EXIT says.
func TestKLExit(t *testing.T) {
	requireInner(t)
	switch v := os.Getenv("KLEMU_E2E_EXIT"); v {
	case "":
		t.Skip("needs KLEMU_E2E_EXIT (TestUnderKlemu/exit-status)")
	case "segv":
		sigDefault(syscall.SIGSEGV)
		syscall.Kill(os.Getpid(), syscall.SIGSEGV)
		time.Sleep(10 * time.Second)
	default:
		n, _ := strconv.Atoi(v)
		os.Exit(n)
	}
}

// TestKLWaitSignals waits for SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to
// klemu by TestUnderKlemu/signals.
func TestKLWaitSignals(t *testing.T) {
	requireInner(t)
	if os.Getenv("KLEMU_E2E_SIGNALS") == "" {
		t.Skip("needs KLEMU_E2E_SIGNALS (TestUnderKlemu/signals)")
	}
	c := make(chan os.Signal, 4)
	sigs := []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}
	for _, s := range sigs {
		signal.Notify(c, s)
	}
	w := bufio.NewWriter(os.Stdout)
	for _, s := range sigs {
		fmt.Fprintf(w, "waiting %d\n", int(s))
		w.Flush()
		select {
		case got := <-c:
			if got != s {
				t.Fatalf("got %v, want %v", got, s)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%v not received", s)
		}
	}
	fmt.Println("all signals received")
}

// TestKLCost measures the cost of one emulated instruction.
func TestKLCost(t *testing.T) {
	requireAESKLE(t)
	if os.Getenv("KLEMU_E2E_COST") == "" {
		t.Skip("needs KLEMU_E2E_COST (TestUnderKlemu/cost)")
	}
	p := newPage(t)
	addr := p.put(0, encode(t, make([]byte, 16), 0))
	c := randCtx()
	c.H = addr
	const n = 2000
	for _, tc := range []aesCase{aesCases[0], aesCases[4]} {
		if tc.wideful && !wide() {
			continue
		}
		start := time.Now()
		for range n {
			tc.fn(&c)
		}
		d := time.Since(start)
		fmt.Printf("klemu-cost %s %.1f us/instruction\n", tc.name, float64(d.Microseconds())/n)
	}
	start := time.Now()
	for range n {
		cpuidRaw(0x19, 0)
	}
	fmt.Printf("klemu-cost cpuid %.1f us/instruction\n", float64(time.Since(start).Microseconds())/n)
}

// TestKLExecFromThread: a process that execs from a non-main thread; the
// new image (TestKLCPUID, TestKLAES) must see Key Locker again.
func TestKLExecFromThread(t *testing.T) {
	requireAESKLE(t)
	if os.Getenv("KLEMU_E2E_CHILD") != "" {
		t.Skip("child")
	}
	if os.Getenv("KLEMU_E2E_EXECTHREAD") != "" {
		done := make(chan error)
		var execOnThread func()
		execOnThread = func() {
			runtime.LockOSThread() // never unlocked: this thread execs or stays busy
			if syscall.Gettid() == os.Getpid() {
				// the main thread is held here, so the next one runs elsewhere
				go execOnThread()
				select {}
			}
			done <- syscall.Exec(os.Args[0], []string{os.Args[0], "-test.run=^TestKL(CPUID|AES)$", "-test.v", "-test.count=1"},
				append(os.Environ(), "KLEMU_E2E_CHILD=1"))
		}
		go execOnThread()
		t.Fatal(<-done)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestKLExecFromThread$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "KLEMU_E2E_EXECTHREAD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("--- PASS: TestKLCPUID")) || !bytes.Contains(out, []byte("--- PASS: TestKLAES")) {
		t.Fatalf("exec from a thread: %v\n%s", err, out)
	}
}
