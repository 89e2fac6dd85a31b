package aeskl

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-keylocker/keylocker/internal/gcmbatch"
	"github.com/go-keylocker/keylocker/internal/klemu/klemutest"
	"github.com/go-keylocker/keylocker/internal/memscan"
)

// Implementation values of the busy child that are not implementations.
const (
	busyCryptoAES = 0  // positive control: crypto/aes with the key
	busyNoKey     = -1 // negative control: crypto/aes with another key
)

// TestKeyNotInMemoryBusy checks the promise the way an attacker with a
// memory disclosure would, after real use: a child process makes a Cipher,
// an XTS and a GCM from the key, wipes its copy, then for two seconds runs
// every mode and single blocks from several goroutines while the garbage
// collector runs, a CPU profile is taken (SIGPROF), signal.Notify handlers
// receive signals sent to the process and to the busy threads, and child
// processes come and go (SIGCHLD); the runtime preempts with SIGURG throughout. Then it goes idle
// and the parent searches all of its dumpable memory (every readable mapping
// except the MADV_DONTDUMP wrapping key page, which must be the only one left
// out) for the key, every round key of both schedules and, on the sealed
// path, the wrapping key (IK, EK and EK's schedule, read from that page),
// and then a core dump taken with gdb's gcore.
//
// Controls: the same child with crypto/aes must be found (the scan sees the
// Go heap); a child that used crypto/aes with another key must not (the
// needles do not match ordinary memory). Every sealed path runs in turn;
// Key Locker runs under klemu (TestUnderKlemu).
//
// Built with the aeskl_testrng tag, the child also makes a Cipher with
// NewRandom (with entropy) and an XTS with NewXTSRandom from the test
// source, whose keys the parent computes from the seed it passes, and runs
// half of the busy work on them: the scan then searches for those keys and
// their round keys too, and the child's ciphertexts of a fixed block and
// sector, checked against crypto/aes and x/crypto/xts, prove that the
// needles are the keys the child used.
func TestKeyNotInMemoryBusy(t *testing.T) {
	type tc struct {
		name string
		impl int
		path int
	}
	cases := []tc{{"crypto-aes-control", busyCryptoAES, -1}, {"never-had-the-key", busyNoKey, -1}}
	for _, v := range variants() {
		var c config
		c.sealedPath = -1
		for _, o := range v.opts {
			o(&c)
		}
		cases = append(cases, tc{v.name, int(v.impl), c.sealedPath})
	}
	s := detect()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			impl := Implementation(c.impl)
			kl := impl == KeyLocker || impl == KeyLockerWide
			if c.impl > 0 {
				if why := unavailable(s, impl, 32, 0); why != "" {
					if kl {
						t.Skipf("%v cannot run here (%s); TestUnderKlemu runs it under the emulator", impl, why)
					}
					t.Skipf("%v cannot run here: %s", impl, why)
				}
				if impl == AESNISealed && !sealedPathUsable(s, c.path) {
					t.Skipf("this CPU cannot run the %s path", sealedPathNames[c.path])
				}
				if klemutest.Inner() && !kl {
					t.Skip("the outer run (without klemu) covers this implementation")
				}
				if impl == Generic {
					t.Skip("generic makes no promise about copies the Go runtime makes (see SECURITY.md)")
				}
			}
			busyScan(t, c.impl, c.path, os.Getenv("AESKL_TEST_NO_SIGWIPE"))
		})
	}
	// The control for the signal frames themselves: the same child on the
	// widest sealed path with the wipe turned off must leave key material
	// in memory; otherwise the workload does not exercise what the wipe
	// protects against. Up to four runs: a run can end with the last
	// signal of each thread outside a key-holding call (the timers run on
	// wall time, and a loaded machine shifts them).
	t.Run("sealed-without-signal-frame-wipe-control", func(t *testing.T) {
		if !hasAsm || klemutest.Inner() {
			t.Skip("needs the sealed assembly, outside klemu")
		}
		if _, err := New(make([]byte, 32), WithImplementation(AESNISealed)); err != nil {
			t.Skipf("aesni-sealed cannot run here: %v", err)
		}
		for try := 0; ; try++ {
			found := false
			t.Run(strconv.Itoa(try), func(t *testing.T) {
				found = busyScanFinds(t, int(AESNISealed), s.sealedPath())
			})
			if found {
				return
			}
			if try == 3 {
				t.Fatal("with the signal-frame wipe off, no key material was found after four busy runs: this test cannot see the leak it guards against")
			}
		}
	})
}

// busyScanFinds runs the busy child with the signal-frame wipe off and
// reports whether the memory scan found key material.
func busyScanFinds(t *testing.T, impl, path int) bool {
	key := randBytes(32)
	pid, release := memscan.RunChild(t, "TestHelperBusyHygiene", key,
		"AESKL_BUSY_IMPL="+strconv.Itoa(impl), "AESKL_BUSY_PATH="+strconv.Itoa(path), "AESKL_TEST_NO_SIGWIPE=1")
	defer release()
	res, err := memscan.ScanDetailed(pid, memscan.Needles(key))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("without the wipe: %d hits", len(res.Hits))
	return len(res.Hits) > 0
}

func busyScan(t *testing.T, impl, path int, noWipe string) {
	key := randBytes(32)
	env := []string{"AESKL_BUSY_IMPL=" + strconv.Itoa(impl), "AESKL_BUSY_PATH=" + strconv.Itoa(path)}
	if noWipe != "" {
		env = append(env, "AESKL_TEST_NO_SIGWIPE=1")
	}
	var rk *randomKeys
	if testRNGBuild && impl > 0 {
		rk = newRandomKeys(t)
		env = append(env, rk.env()...)
	}
	pid, release := memscan.RunChild(t, "TestHelperBusyHygiene", key, env...)
	defer release()

	needles := memscan.NeedleSet(key)
	if rk != nil {
		rk.check(t)
		needles = append(needles, rk.needles()...)
	}
	// The MADV_DONTDUMP mappings: the wrapping key page (read-only, one
	// page) on the sealed path, and the Go runtime's vDSO getrandom state
	// (read-write). Only the wrapping key page is left out of the scan.
	dd, err := memscan.ReadDontDump(pid)
	if err != nil {
		t.Fatal(err)
	}
	var skip []uint64
	for _, m := range dd {
		if m.Perms == "r--p" && len(m.Data) == 4096 {
			skip = append(skip, m.Lo)
		}
	}
	if Implementation(impl) == AESNISealed {
		if len(skip) != 1 {
			t.Fatalf("the sealed child has %d read-only MADV_DONTDUMP pages, want the one wrapping key page", len(skip))
		}
		var page []byte
		for _, m := range dd {
			if m.Lo == skip[0] {
				page = m.Data
			}
		}
		needles = append(needles, memscan.Needle{Bytes: bytes.Clone(page[0:16]), Name: "wrapping key IK"})
		for _, n := range memscan.NeedleSet(page[16:48]) {
			needles = append(needles, memscan.Needle{Bytes: n.Bytes, Name: "wrapping key EK: " + n.Name})
		}
	} else if len(skip) > 1 {
		t.Fatalf("%d read-only MADV_DONTDUMP pages, want at most the wrapping key page", len(skip))
	}
	raw := make([][]byte, len(needles))
	for i, n := range needles {
		raw[i] = n.Bytes
	}
	control := impl == busyCryptoAES

	res, err := memscan.ScanExcept(pid, raw, skip)
	if err != nil {
		t.Fatal(err)
	}
	if res.Bytes < 1<<20 {
		t.Fatalf("only %d bytes scanned: the scan cannot be trusted", res.Bytes)
	}
	t.Logf("memory: scanned %d MiB in %d mappings (left out: the wrapping key page %q): %d hits", res.Bytes>>20, res.Mappings, res.Excluded, len(res.Hits))
	report(t, "memory", control, needles, res.Hits)

	t.Run("core", func(t *testing.T) {
		if klemutest.Inner() {
			t.Skip("SKIPPED: gcore cannot attach to a process that klemu traces; the memory scan above covers Key Locker")
		}
		if raceEnabled {
			t.Skip("SKIPPED under the race detector: its shadow memory makes the core dump of this child several GB; .ci/run runs this test again without -race")
		}
		core, err := memscan.CoreDump(pid, t.TempDir())
		if errors.Is(err, memscan.ErrNoGcore) {
			t.Skip("SKIPPED: no core dump scan: gcore (Debian package gdb) is not installed; .ci/run installs it")
		}
		if err != nil {
			t.Fatal(err)
		}
		hits, n, err := memscan.ScanFile(core, raw)
		if err != nil {
			t.Fatal(err)
		}
		if n < 1<<20 {
			t.Fatalf("core dump of %d bytes: cannot be trusted", n)
		}
		t.Logf("core dump: %d MiB: %d hits", n>>20, len(hits))
		report(t, "core dump", control, needles, hits)
	})
}

func report(t *testing.T, where string, control bool, needles []memscan.Needle, hits []memscan.Hit) {
	t.Helper()
	if control {
		if len(hits) == 0 {
			t.Fatalf("%s: the control (crypto/aes with the key) was not found: the scan is blind", where)
		}
		return
	}
	count := map[string]int{}
	for _, h := range hits {
		count[needles[h.Needle].Name]++
	}
	for name, n := range count {
		t.Errorf("%s: %s found %d times", where, name, n)
	}
	if len(hits) > 0 {
		t.Logf("%s: first hit at %#x in %s", where, hits[0].Addr, hits[0].Mapping)
	}
}

// TestHelperBusyHygiene is the child of TestKeyNotInMemoryBusy.
func TestHelperBusyHygiene(t *testing.T) {
	if !memscan.IsChild("TestHelperBusyHygiene") {
		t.Skip("helper process for TestKeyNotInMemoryBusy")
	}
	key := make([]byte, memscan.KeyLen())
	if err := memscan.ReadKey(key); err != nil {
		t.Fatal(err)
	}
	impl, _ := strconv.Atoi(os.Getenv("AESKL_BUSY_IMPL"))
	path, _ := strconv.Atoi(os.Getenv("AESKL_BUSY_PATH"))
	if os.Getenv("AESKL_TEST_NO_SIGWIPE") != "" {
		disableSignalFrameWipe()
	}
	var (
		b   cipher.Block
		x   *XTS
		err error
	)
	switch impl {
	case busyCryptoAES:
		b, err = aes.NewCipher(key)
	case busyNoKey:
		b, err = aes.NewCipher(randBytes(32))
	default:
		opts := []Option{WithImplementation(Implementation(impl)), withSealedPath(path)}
		if b, err = New(key, opts...); err == nil {
			xkey := make([]byte, 64)
			copy(xkey, key)
			copy(xkey[32:], key)
			x, err = NewXTS(xkey, opts...)
			clear(xkey)
		}
	}
	clear(key)
	if err != nil {
		t.Fatal(err)
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		t.Fatal(err)
	}
	// With the aeskl_testrng tag: ciphers on keys drawn from the test
	// source, which half of the work uses.
	rb, rx, err := busyRandom(Implementation(impl), path)
	if err != nil {
		t.Fatal(err)
	}
	var rg cipher.AEAD
	if rb != nil {
		if rg, err = cipher.NewGCM(rb); err != nil {
			t.Fatal(err)
		}
	}

	size := 256 << 10
	if klemutest.Inner() {
		size = 4 << 10 // every Key Locker instruction is a ptrace round trip
	}
	deadline := time.Now().Add(2 * time.Second)
	busy := func() bool { return time.Now().Before(deadline) }

	if err := pprof.StartCPUProfile(io.Discard); err != nil {
		t.Fatal(err)
	}
	sigc := make(chan os.Signal, 128)
	signal.Notify(sigc, syscall.SIGUSR1, syscall.SIGHUP, syscall.SIGWINCH)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	bg := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	bg(func() { // signals sent to the process: any thread may take them
		for busy() {
			for _, s := range []syscall.Signal{syscall.SIGUSR1, syscall.SIGHUP, syscall.SIGWINCH} {
				syscall.Kill(os.Getpid(), s)
			}
			time.Sleep(time.Millisecond)
		}
	})
	bg(func() {
		for busy() {
			select {
			case <-sigc:
			case <-time.After(10 * time.Millisecond):
			}
		}
	})
	bg(func() { // child processes: SIGCHLD
		for busy() {
			if err := exec.Command("true").Run(); err != nil {
				errs <- fmt.Errorf("running true: %v", err)
				return
			}
		}
	})
	bg(func() { // garbage and collections
		var keep [][]byte
		for busy() {
			keep = append(keep, make([]byte, 64<<10))
			if len(keep) > 64 {
				keep = nil
				runtime.GC()
			}
		}
	})
	var tids sync.Map
	bg(func() { // signals sent to the busy threads themselves
		for busy() {
			tids.Range(func(k, _ any) bool {
				syscall.Tgkill(os.Getpid(), k.(int), syscall.SIGUSR1)
				return true
			})
			time.Sleep(300 * time.Microsecond)
		}
	})
	// Half the workers stay on one thread each and, after the busy phase,
	// end with a finale: long bulk calls, each interrupted by one signal
	// sent to that thread, so that the last frame on the thread's signal
	// stack is one taken inside a key-holding call. Then they park, and
	// the thread sleeps with that frame until the scan.
	park, quiet := make(chan struct{}), make(chan struct{})
	var finales sync.WaitGroup
	for w := 0; w < 4; w++ {
		work := func() {
			buf := make([]byte, size)
			iv := make([]byte, 16)
			for i := 0; busy(); i++ {
				b, x, g := b, x, g
				if rb != nil && i%2 == 1 {
					b, x, g = rb, rx, rg
				}
				if err := busyOp(i+w, b, x, g, buf, iv); err != nil {
					errs <- err
					return
				}
			}
		}
		if w%2 == 1 {
			bg(work)
			continue
		}
		finales.Add(1)
		go func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			tid := syscall.Gettid()
			tids.Store(tid, true)
			work()
			<-quiet // no more profiling signals
			finale(t, b)
			finales.Done()
			<-park
		}()
	}
	wg.Wait()
	pprof.StopCPUProfile()
	close(quiet)
	finales.Wait()
	signal.Stop(sigc)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	memscan.Settle()
	memscan.Ready()
	memscan.WaitRelease()
	close(park)
	runtime.KeepAlive(b)
	runtime.KeepAlive(x)
	runtime.KeepAlive(g)
	runtime.KeepAlive(rb)
	runtime.KeepAlive(rx)
	runtime.KeepAlive(rg)
}

// finale runs long bulk calls on the current (locked) thread (32 MiB in one
// assembly call, about 2 ms at 18 GB/s), each interrupted by one SIGUSR1
// from a timer armed to fire 100 us into it, so that the last signal frame
// on the thread's signal stack is one taken inside a call. Where the timer
// is not available it makes the calls without it (and says so).
func finale(t *testing.T, b cipher.Block) {
	n := 32 << 20
	if klemutest.Inner() {
		n = 4 << 10
	}
	buf := make([]byte, n)
	iv := make([]byte, 16)
	for i := 0; i < 8; i++ {
		cancel, err := memscan.InterruptAfter(100*time.Microsecond, syscall.SIGUSR1)
		if err != nil {
			t.Logf("finale without a timer signal: %v", err)
			cancel = func() {}
		}
		if c, ok := b.(*Cipher); ok {
			c.EncryptBlocks(buf, buf)
		} else {
			cipher.NewCTR(b, iv).XORKeyStream(buf, buf)
		}
		cancel()
	}
}

// busyOp runs one of the modes over buf (and checks a round trip).
func busyOp(i int, b cipher.Block, x *XTS, g cipher.AEAD, buf, iv []byte) error {
	switch i % 6 {
	case 0:
		cipher.NewCTR(b, iv).XORKeyStream(buf, buf)
	case 1:
		sealed := g.Seal(nil, iv[:12], buf[:len(buf)/4], buf[:13])
		if _, err := g.Open(sealed[:0], iv[:12], sealed, buf[:13]); err != nil {
			return fmt.Errorf("GCM: %v", err)
		}
		short := g.Seal(nil, iv[:12], buf[:64], nil)
		if _, err := g.Open(short[:0], iv[:12], short, nil); err != nil {
			return fmt.Errorf("GCM 64 B: %v", err)
		}
		// Segments opened together (aeskl/stream's path: one kernel
		// call for all of them on the sealed zmm path).
		var msgs [5]gcmbatch.Msg
		seg := len(buf) / 16
		for j := range msgs {
			msgs[j].Nonce[0] = byte(j)
			msgs[j].Src = g.Seal(nil, msgs[j].Nonce[:], buf[j*seg:(j+1)*seg], nil)
			msgs[j].Dst = msgs[j].Src
		}
		if n, err := gcmbatch.Open(g, msgs[:]); n != len(msgs) || err != nil {
			return fmt.Errorf("GCM segments: %d opened, %v", n, err)
		}
	case 2:
		cipher.NewCBCEncrypter(b, iv).CryptBlocks(buf, buf)
		cipher.NewCBCDecrypter(b, iv).CryptBlocks(buf, buf)
	case 3:
		if c, ok := b.(*Cipher); ok {
			if c.EncryptBlocks(buf, buf) != nil || c.DecryptBlocks(buf, buf) != nil {
				return errors.New("ECB round trip failed")
			}
		}
	case 4:
		if x != nil {
			if x.EncryptSectors(buf, buf, uint64(i), 512) != nil || x.DecryptSectors(buf, buf, uint64(i), 512) != nil {
				return errors.New("XTS round trip failed")
			}
		}
	case 5:
		for j := 0; j < 256; j++ {
			b.Encrypt(buf[16*j:], buf[16*j:])
			b.Decrypt(buf[16*j:], buf[16*j:])
		}
	}
	return nil
}
