package tracer

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"unsafe"

	"github.com/go-keylocker/keylocker/internal/klemu/cpuid"
	"github.com/go-keylocker/keylocker/internal/klemu/decode"
	"github.com/go-keylocker/keylocker/internal/klemu/sem"
)

const (
	ptraceGetFPRegs  = 14
	ptraceSetFPRegs  = 15
	ptraceGetSiginfo = 0x4202
	ptraceSetSiginfo = 0x4203
	ptraceGetSigmask = 0x420a
	ptraceSetSigmask = 0x420b
	ptraceOExitKill  = 0x100000
	archSetCPUID     = 0x1012
	sysArchPrctl     = 158
	sysProcessVMRead = 310
	siKernel         = 0x80
	segvMapErr       = 1
	segvAccErr       = 2
	fxXMMOffset      = 160
)

// Tracer runs one tracee tree. All its methods except Rotate and Signal
// must be called from one goroutine (Run locks it to its OS thread, as
// ptrace requires).
type Tracer struct {
	cfg     Config
	m       *sem.Machine
	table   *cpuid.Table
	leader  int
	started bool
	known   map[int]bool
	status  syscall.WaitStatus
	done    bool
	rotate  atomic.Bool
	pid     atomic.Int64
	cpuidN  map[uint32]uint64
	mode    Mode                    // ModeFault or ModePatch once running
	patched map[int]map[uint64]bool // ModePatch: tgid -> patched CPUID sites
	tgidOf  map[int]int             // ModePatch: tid -> tgid cache
	sites   map[siteKey]siteCache   // ModePatch: CPUID sites per executable
	// testAfterArm, if set, runs after CPUID interception is set up at
	// each exec (tests of the exec-stop injection on machines without
	// CPUID faulting).
	testAfterArm func(pid int)
}

// New returns a tracer.
func New(cfg Config) (*Tracer, error) {
	m, err := sem.New(cfg.SemConfig())
	if err != nil {
		return nil, err
	}
	return &Tracer{cfg: cfg, m: m, table: cpuid.New(cfg.Profile, nil), known: map[int]bool{},
		cpuidN: map[uint32]uint64{}, mode: cfg.CPUID, patched: map[int]map[uint64]bool{}, tgidOf: map[int]int{}, sites: map[siteKey]siteCache{}}, nil
}

// Rotate asks for an IWKey rotation before the next emulated instruction
// (safe from any goroutine: SIGUSR2).
func (t *Tracer) Rotate() { t.rotate.Store(true) }

// Signal sends sig to the traced program (safe from any goroutine). It
// reports false when there is no program to send it to (not started yet,
// or the leader has exited while other tracees live on).
func (t *Tracer) Signal(sig syscall.Signal) bool {
	if pid := t.pid.Load(); pid > 0 {
		syscall.Kill(int(pid), sig)
		return true
	}
	return false
}

// Stats returns the counters so far.
func (t *Tracer) Stats() *Stats {
	c := make(map[uint32]uint64, len(t.cpuidN))
	for k, v := range t.cpuidN {
		c[k] = v
	}
	return &Stats{Sem: t.m.Stats, CPUID: c}
}

// ErrNotFound wraps an exec failure of the program itself.
type ErrNotFound struct{ Err error }

func (e *ErrNotFound) Error() string { return "klemu: " + e.Err.Error() }

// Run starts path with argv and env (KLEMU_ACTIVE and KLEMU_PROFILE are
// added) under the tracer and returns when every tracee has gone, with the
// wait status of the program's main process.
func (t *Tracer) Run(path string, argv, env []string) (syscall.WaitStatus, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if t.mode != ModePatch {
		err := probeFaulting()
		if err == nil && t.cfg.Break.NoFault {
			err = errors.New("KLEMU_BREAK=nofault")
		}
		if err != nil {
			if t.mode == ModeFault {
				return 0, &Unavailable{Reason: fmt.Sprintf("CPUID faulting refused: arch_prctl(ARCH_SET_CPUID, 0): %v "+
					"(no CPUID faulting on this CPU/hypervisor; --cpuid=patch or auto is a partial fallback)", err)}
			}
			t.mode = ModePatch
			if t.cfg.Notice != nil {
				t.cfg.Notice(fmt.Sprintf("klemu: no CPUID faulting here (arch_prctl(ARCH_SET_CPUID, 0): %v): "+
					"CPUID is answered only in the executable's *cpuid* helpers (--cpuid=patch; --cpuid=fault insists on faulting)", err))
			}
		} else {
			t.mode = ModeFault
		}
	}
	var clean []string
	for _, e := range env {
		if !strings.HasPrefix(e, "KLEMU_ACTIVE=") && !strings.HasPrefix(e, "KLEMU_PROFILE=") && !strings.HasPrefix(e, "KLEMU_CPUID=") {
			clean = append(clean, e)
		}
	}
	env = append(clean, "KLEMU_ACTIVE=1", "KLEMU_PROFILE="+t.cfg.Profile.String(), "KLEMU_CPUID="+t.mode.String())
	pid, err := syscall.ForkExec(path, argv, &syscall.ProcAttr{
		Env:   env,
		Files: []uintptr{0, 1, 2},
		Sys:   &syscall.SysProcAttr{Ptrace: true},
	})
	if err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.ENOSYS) {
			return 0, &Unavailable{Reason: fmt.Sprintf("ptrace refused: PTRACE_TRACEME: %v", err)}
		}
		return 0, &ErrNotFound{Err: err}
	}
	t.leader = pid
	t.pid.Store(int64(pid))
	if err := t.loop(); err != nil {
		syscall.Kill(pid, syscall.SIGKILL)
		for {
			var ws syscall.WaitStatus
			if _, err := syscall.Wait4(-1, &ws, syscall.WALL, nil); err == syscall.ECHILD {
				break
			}
		}
		return 0, err
	}
	if !t.done {
		return 0, fmt.Errorf("klemu: the exit status of pid %d was lost", pid)
	}
	return t.status, nil
}

func (t *Tracer) logf(format string, args ...any) {
	if t.cfg.Debug != nil {
		fmt.Fprintf(t.cfg.Debug, "klemu: "+format+"\n", args...)
	}
}

func (t *Tracer) loop() error {
	for {
		var ws syscall.WaitStatus
		tid, err := syscall.Wait4(-1, &ws, syscall.WALL, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil { // ECHILD: every tracee is gone
			return nil
		}
		if ws.Exited() || ws.Signaled() {
			delete(t.known, tid)
			delete(t.tgidOf, tid)
			delete(t.patched, tid) // a process is reported gone with its last thread
			if tid == t.leader {
				t.status, t.done = ws, true
				t.pid.Store(0)
			}
			continue
		}
		if !ws.Stopped() {
			continue
		}
		sig := ws.StopSignal()
		if !t.known[tid] {
			t.known[tid] = true
			if tid == t.leader && !t.started {
				// First stop: the SIGTRAP of PTRACE_TRACEME + execve.
				t.started = true
				opts := syscall.PTRACE_O_TRACECLONE | syscall.PTRACE_O_TRACEFORK | syscall.PTRACE_O_TRACEVFORK |
					syscall.PTRACE_O_TRACEEXEC | ptraceOExitKill
				if err := syscall.PtraceSetOptions(tid, opts); err != nil {
					return &Unavailable{Reason: fmt.Sprintf("ptrace refused: PTRACE_SETOPTIONS: %v", err)}
				}
				if err := t.arm(tid); err != nil {
					if t.mode == ModePatch {
						return fmt.Errorf("klemu: patching CPUID: %v", err)
					}
					return &Unavailable{Reason: fmt.Sprintf("CPUID faulting refused: arch_prctl(ARCH_SET_CPUID, 0): %v", err)}
				}
				t.cont(tid, 0)
				continue
			}
			if sig == syscall.SIGSTOP {
				// A new thread or process: its first stop is the attach SIGSTOP
				// (it may arrive before the parent's clone event).
				t.cont(tid, 0)
				continue
			}
		}
		if sig == syscall.SIGTRAP && ws.TrapCause() > 0 {
			if ws.TrapCause() == syscall.PTRACE_EVENT_EXEC {
				if former, err := syscall.PtraceGetEventMsg(tid); err == nil && int(former) != tid {
					delete(t.known, int(former)) // exec from a non-leader thread
					delete(t.tgidOf, int(former))
				}
				if err := t.arm(tid); err != nil {
					// The new program would silently see the host's CPUID:
					// end it loudly instead.
					fmt.Fprintf(os.Stderr, "klemu: pid %d: CPUID interception (%v) after exec failed, killing it: %v\n", tid, t.mode, err)
					syscall.Kill(tid, syscall.SIGKILL)
				}
			}
			switch c := ws.TrapCause(); c {
			case syscall.PTRACE_EVENT_FORK, syscall.PTRACE_EVENT_VFORK, syscall.PTRACE_EVENT_CLONE:
				// A clone event may be a new process too (an exit signal
				// other than SIGCHLD): it shares the patched text.
				if child, err := syscall.PtraceGetEventMsg(tid); err == nil {
					if g, _ := procIDs(int(child)); c != syscall.PTRACE_EVENT_CLONE || g == int(child) {
						t.onFork(tid, int(child))
					}
				}
			}
			t.cont(tid, 0)
			continue
		}
		deliver := sig
		switch sig {
		case syscall.SIGILL:
			t.onSIGILL(tid) // resumes the thread
			continue
		case syscall.SIGSEGV:
			if t.onSIGSEGV(tid) {
				deliver = 0
			}
		case syscall.SIGSTOP, syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU:
			if _, err := getSiginfo(tid); err == syscall.EINVAL {
				deliver = 0 // group-stop, not a signal-delivery-stop
			}
		}
		t.cont(tid, deliver)
	}
}

func (t *Tracer) cont(tid int, sig syscall.Signal) {
	if err := syscall.PtraceCont(tid, int(sig)); err != nil && err != syscall.ESRCH {
		fmt.Fprintf(os.Stderr, "klemu: PTRACE_CONT %d: %v\n", tid, err)
	}
}

// arm sets up CPUID interception in a process stopped right after execve.
func (t *Tracer) arm(pid int) error {
	if t.cfg.Break.NoCPUID {
		return nil
	}
	if t.testAfterArm != nil {
		defer t.testAfterArm(pid)
	}
	if t.mode == ModePatch {
		return t.patchCPUID(pid)
	}
	return t.armCPUIDFaulting(pid)
}

// armCPUIDFaulting runs arch_prctl(ARCH_SET_CPUID, 0) in a tracee stopped
// right after execve.
func (t *Tracer) armCPUIDFaulting(tid int) error {
	ret, err := t.injectSyscall(tid, sysArchPrctl, archSetCPUID, 0)
	if err != nil {
		return err
	}
	if int64(ret) < 0 {
		return syscall.Errno(-int64(ret))
	}
	t.logf("pid %d: CPUID faulting armed", tid)
	return nil
}

// injectSyscall runs system call nr(a1, a2) in a tracee stopped right after
// execve by patching "mov eax,nr; syscall; int3" at RIP, and returns its
// result. (RAX cannot simply be set at a PTRACE_EVENT_EXEC stop: execve's
// return value overwrites it on resume, hence the mov.)
func (t *Tracer) injectSyscall(tid int, nr uint8, a1, a2 uint64) (uint64, error) {
	var saved syscall.PtraceRegs
	if err := syscall.PtraceGetRegs(tid, &saved); err != nil {
		return 0, err
	}
	saved.Rax = 0 // what execve returns to user space
	orig := make([]byte, 8)
	if _, err := syscall.PtracePeekText(tid, uintptr(saved.Rip), orig); err != nil {
		return 0, err
	}
	code := []byte{0xB8, nr, 0, 0, 0, 0x0F, 0x05, 0xCC} // mov $nr, %eax; syscall; int3
	if _, err := syscall.PtracePokeText(tid, uintptr(saved.Rip), code); err != nil {
		return 0, err
	}
	r := saved
	r.Rdi, r.Rsi = a1, a2
	if err := syscall.PtraceSetRegs(tid, &r); err != nil {
		return 0, err
	}
	sig := 0
	for {
		if err := syscall.PtraceCont(tid, sig); err != nil {
			return 0, err
		}
		var ws syscall.WaitStatus
		_, err := syscall.Wait4(tid, &ws, syscall.WALL, nil)
		for err == syscall.EINTR {
			_, err = syscall.Wait4(tid, &ws, syscall.WALL, nil)
		}
		if err != nil {
			return 0, err
		}
		if !ws.Stopped() {
			if ws.Exited() || ws.Signaled() {
				delete(t.known, tid)
				if tid == t.leader {
					t.status, t.done = ws, true
				}
			}
			return 0, fmt.Errorf("tracee ended during injection (%#x)", uint32(ws))
		}
		if ws.StopSignal() == syscall.SIGTRAP && ws.TrapCause() <= 0 {
			break
		}
		// Another signal arrived first: let it through and go on.
		sig = int(ws.StopSignal())
		if ws.TrapCause() > 0 {
			sig = 0
		}
	}
	if err := syscall.PtraceGetRegs(tid, &r); err != nil {
		return 0, err
	}
	if _, err := syscall.PtracePokeText(tid, uintptr(saved.Rip), orig); err != nil {
		return 0, err
	}
	if err := syscall.PtraceSetRegs(tid, &saved); err != nil {
		return 0, err
	}
	return r.Rax, nil
}

func getSiginfo(tid int) (si [128]byte, err error) {
	_, _, e := syscall.Syscall6(syscall.SYS_PTRACE, ptraceGetSiginfo, uintptr(tid), 0, uintptr(unsafe.Pointer(&si)), 0, 0)
	if e != 0 {
		err = e
	}
	return
}

func sigmask(req uintptr, tid int, mask *uint64) error {
	_, _, e := syscall.Syscall6(syscall.SYS_PTRACE, req, uintptr(tid), 8, uintptr(unsafe.Pointer(mask)), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

func setSiginfo(tid int, si *[128]byte) error {
	_, _, e := syscall.Syscall6(syscall.SYS_PTRACE, ptraceSetSiginfo, uintptr(tid), 0, uintptr(unsafe.Pointer(si)), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

func fpregs(req uintptr, tid int, fx *[512]byte) error {
	_, _, e := syscall.Syscall6(syscall.SYS_PTRACE, req, uintptr(tid), 0, uintptr(unsafe.Pointer(fx)), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// readMem reads tracee memory; a partial read returns n < len(b).
func readMem(tid int, addr uint64, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	local := syscall.Iovec{Base: &b[0], Len: uint64(len(b))}
	remote := struct{ base, len uint64 }{addr, uint64(len(b))}
	n, _, e := syscall.Syscall6(sysProcessVMRead, uintptr(tid), uintptr(unsafe.Pointer(&local)), 1,
		uintptr(unsafe.Pointer(&remote)), 1, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// readInsn reads up to 15 bytes at rip (fewer at the end of a mapping).
func readInsn(tid int, rip uint64, b *[decode.MaxLen]byte) int {
	n, err := readMem(tid, rip, b[:])
	if err != nil || n == 0 {
		// the instruction may end just before an unmapped page
		first := int(4096 - rip%4096)
		if first < len(b) {
			n, _ = readMem(tid, rip, b[:first])
		}
	}
	return n
}

func gprs(r *syscall.PtraceRegs) [16]*uint64 {
	return [16]*uint64{&r.Rax, &r.Rcx, &r.Rdx, &r.Rbx, &r.Rsp, &r.Rbp, &r.Rsi, &r.Rdi,
		&r.R8, &r.R9, &r.R10, &r.R11, &r.R12, &r.R13, &r.R14, &r.R15}
}

// onSIGILL handles a SIGILL signal-delivery-stop and resumes the thread.
func (t *Tracer) onSIGILL(tid int) syscall.Signal {
	pass := func() syscall.Signal { t.cont(tid, syscall.SIGILL); return syscall.SIGILL }
	si, err := getSiginfo(tid)
	if err != nil || int32(binary.LittleEndian.Uint32(si[8:])) <= 0 {
		return pass() // not raised by the CPU (kill, tgkill, sigqueue)
	}
	var regs syscall.PtraceRegs
	if err := syscall.PtraceGetRegs(tid, &regs); err != nil {
		return pass()
	}
	var ib [decode.MaxLen]byte
	n := readInsn(tid, regs.Rip, &ib)
	if n >= 2 && ib[0] == 0x0F && ib[1] == 0x0B && t.isPatched(tid, regs.Rip) {
		t.emulateCPUID(tid, &regs, 2)
		t.cont(tid, 0)
		return 0
	}
	in, err := decode.Decode(ib[:n])
	if err != nil || !in.Op.IsKL() {
		return pass()
	}
	var fx [512]byte
	if err := fpregs(ptraceGetFPRegs, tid, &fx); err != nil {
		return pass()
	}
	if t.rotate.Swap(false) {
		if err := t.m.Rotate(); err != nil {
			fmt.Fprintf(os.Stderr, "klemu: rotating the IWKey: %v\n", err)
		}
		t.logf("IWKey rotated (SIGUSR2)")
	}
	st := sem.State{RIP: regs.Rip, RFLAGS: regs.Eflags, FSBase: regs.Fs_base, GSBase: regs.Gs_base}
	g := gprs(&regs)
	for i, p := range g {
		st.GPR[i] = *p
	}
	for i := range st.XMM {
		copy(st.XMM[i][:], fx[fxXMMOffset+16*i:])
	}
	read := func(addr uint64, b []byte) (uint64, error) {
		n, err := readMem(tid, addr, b)
		if err == nil && n == len(b) {
			return 0, nil
		}
		if err != nil {
			n = 0
			// a split access: the first page may be readable
			if first := 4096 - addr%4096; first < uint64(len(b)) {
				if m, _ := readMem(tid, addr, b[:first]); m == int(first) {
					n = m
				}
			}
		}
		return addr + uint64(n), syscall.EFAULT
	}
	f, xmmChanged, err := t.m.Exec(&in, &st, read)
	if err != nil {
		fmt.Fprintf(os.Stderr, "klemu: tid %d: %v at %#x: %v\n", tid, in.Op, regs.Rip, err)
		return pass()
	}
	if e := t.m.Err(); e != nil {
		fmt.Fprintf(os.Stderr, "klemu: rotating the IWKey: %v\n", e)
	}
	switch f.Kind {
	case sem.UD:
		t.logf("tid %d: %v at %#x: #UD under profile %v", tid, in.Op, regs.Rip, t.cfg.Profile)
		return pass()
	case sem.GP:
		t.logf("tid %d: %v at %#x: #GP", tid, in.Op, regs.Rip)
		return t.injectSEGV(tid, siKernel, 0)
	case sem.PF:
		code := int32(segvMapErr)
		if mapped(tid, f.Addr) {
			code = segvAccErr
		}
		t.logf("tid %d: %v at %#x: #PF at %#x", tid, in.Op, regs.Rip, f.Addr)
		return t.injectSEGV(tid, code, f.Addr)
	}
	t.logf("tid %d: %v at %#x zf=%d", tid, in.Op, regs.Rip, st.RFLAGS>>6&1)
	if xmmChanged {
		for i := range st.XMM {
			copy(fx[fxXMMOffset+16*i:], st.XMM[i][:])
		}
		// PTRACE_SETFPREGS rewrites the FXSAVE area only: the upper YMM/ZMM
		// halves stay, as the legacy-encoded KL instructions require.
		if err := fpregs(ptraceSetFPRegs, tid, &fx); err != nil {
			fmt.Fprintf(os.Stderr, "klemu: tid %d: PTRACE_SETFPREGS: %v\n", tid, err)
			return pass()
		}
	}
	for i, p := range g {
		*p = st.GPR[i]
	}
	regs.Rip, regs.Eflags = st.RIP, st.RFLAGS
	if err := syscall.PtraceSetRegs(tid, &regs); err != nil {
		fmt.Fprintf(os.Stderr, "klemu: tid %d: PTRACE_SETREGS: %v\n", tid, err)
		return pass()
	}
	t.cont(tid, 0)
	return 0
}

// injectSEGV replaces the pending SIGILL by a SIGSEGV as the kernel would
// send it for the fault (si_code SI_KERNEL for #GP, SEGV_MAPERR/ACCERR with
// si_addr for a page fault).
func (t *Tracer) injectSEGV(tid int, code int32, addr uint64) syscall.Signal {
	var si [128]byte
	binary.LittleEndian.PutUint32(si[0:], uint32(syscall.SIGSEGV))
	binary.LittleEndian.PutUint32(si[8:], uint32(code))
	binary.LittleEndian.PutUint64(si[16:], addr)
	if err := setSiginfo(tid, &si); err != nil {
		fmt.Fprintf(os.Stderr, "klemu: tid %d: PTRACE_SETSIGINFO: %v\n", tid, err)
	}
	// The kernel forces fault signals: a blocked SIGSEGV is unblocked (else
	// it would stay pending and the instruction would trap for ever).
	var mask uint64
	if sigmask(ptraceGetSigmask, tid, &mask) == nil && mask&(1<<(syscall.SIGSEGV-1)) != 0 {
		mask &^= 1 << (syscall.SIGSEGV - 1)
		if err := sigmask(ptraceSetSigmask, tid, &mask); err != nil {
			fmt.Fprintf(os.Stderr, "klemu: tid %d: PTRACE_SETSIGMASK: %v\n", tid, err)
		}
	}
	if sigIgnored(tid, syscall.SIGSEGV) {
		// The kernel would reset the action to the default and kill the
		// process; a delivered-but-ignored SIGSEGV would make the
		// instruction trap for ever. SIGKILL is the closest klemu can do.
		fmt.Fprintf(os.Stderr, "klemu: tid %d ignores SIGSEGV; the fault kills it (SIGKILL)\n", tid)
		syscall.Tgkill(tgid(tid), tid, syscall.SIGKILL)
	}
	t.cont(tid, syscall.SIGSEGV)
	return syscall.SIGSEGV
}

// sigIgnored reports whether sig is ignored by tid (/proc/tid/status SigIgn).
func sigIgnored(tid int, sig syscall.Signal) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(tid) + "/status")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "SigIgn:"); ok {
			m, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && m&(1<<(sig-1)) != 0
		}
	}
	return false
}

// mapped reports whether addr lies in a mapping of tid (/proc/tid/maps).
func mapped(tid int, addr uint64) bool {
	f, err := os.Open("/proc/" + strconv.Itoa(tid) + "/maps")
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rng, _, _ := strings.Cut(sc.Text(), " ")
		lo, hi, ok := strings.Cut(rng, "-")
		if !ok {
			continue
		}
		l, err1 := strconv.ParseUint(lo, 16, 64)
		h, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 == nil && err2 == nil && addr >= l && addr < h {
			return true
		}
	}
	return false
}

// onSIGSEGV emulates a faulting CPUID. It reports false for any other
// SIGSEGV, which is then delivered untouched.
func (t *Tracer) onSIGSEGV(tid int) bool {
	si, err := getSiginfo(tid)
	if err != nil || int32(binary.LittleEndian.Uint32(si[8:])) != siKernel {
		return false
	}
	var regs syscall.PtraceRegs
	if err := syscall.PtraceGetRegs(tid, &regs); err != nil {
		return false
	}
	var ib [decode.MaxLen]byte
	n := readInsn(tid, regs.Rip, &ib)
	in, err := decode.Decode(ib[:n])
	if err != nil || in.Op != decode.CPUID {
		return false
	}
	return t.emulateCPUID(tid, &regs, in.Len)
}

// emulateCPUID answers the CPUID at regs.Rip (length n) from the table.
func (t *Tracer) emulateCPUID(tid int, regs *syscall.PtraceRegs, n int) bool {
	leaf, sub := uint32(regs.Rax), uint32(regs.Rcx)
	a, b, c, d := t.table.Lookup(leaf, sub)
	regs.Rax, regs.Rbx, regs.Rcx, regs.Rdx = uint64(a), uint64(b), uint64(c), uint64(d)
	regs.Rip += uint64(n)
	if err := syscall.PtraceSetRegs(tid, regs); err != nil {
		return false
	}
	t.cpuidN[leaf]++
	t.logf("tid %d: cpuid %#x.%d = %08x %08x %08x %08x", tid, leaf, sub, a, b, c, d)
	return true
}
