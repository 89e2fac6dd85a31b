//go:build amd64 && !purego

package asm

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestSignalFrameWipeActive(t *testing.T) {
	on, detail := SignalFrameWipe()
	t.Log(detail)
	if !on {
		t.Fatalf("the signal-frame wipe is off on Linux: %s", detail)
	}
	if sigstkCanaryOff < 512 || sigstkCanaryOff > sigstkWipeLen {
		t.Fatalf("frame %d bytes, wipe %d bytes: implausible", sigstkCanaryOff, sigstkWipeLen)
	}
}

// signalStackCopy returns a copy of the top 16 KiB of the current thread's
// signal stack (the caller must be locked to its thread).
func signalStackCopy() []byte {
	mOff := sigstkMOff
	if mOff == 0 {
		mOff = sigstkSaved
	}
	hi := sigstkTopOf(mOff)
	const n = 16384
	out := make([]byte, 0, n)
	for a := hi - n; a < hi; a += 8 {
		w := loadWord(a)
		for i := 0; i < 8; i++ {
			out = append(out, byte(w>>(8*i)))
		}
	}
	return out
}

// keyMaterialIn reports which of key's round keys (encryption schedule) and
// the region's EK round keys appear in b.
func keyMaterialIn(b []byte, key []byte, region *[4096]byte) []string {
	var found []string
	for i, rk := range sealedExpand(key) {
		if bytes.Contains(b, rk[:]) {
			found = append(found, fmt.Sprintf("round key %d", i))
		}
	}
	for i := 0; i < 15; i++ {
		if bytes.Contains(b, region[64+16*i:80+16*i]) {
			found = append(found, fmt.Sprintf("EK round key %d", i))
		}
	}
	return found
}

// interruptedCalls runs call repeatedly on a locked thread while another
// goroutine sends that thread SIGURG (what the Go runtime sends to preempt),
// and returns the key material then found on the thread's signal stack.
func interruptedCalls(t *testing.T, key []byte, region *[4096]byte, call func()) []string {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tid := syscall.Gettid()
	var running atomic.Bool
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if running.Load() {
				syscall.Tgkill(os.Getpid(), tid, syscall.SIGURG)
			}
			time.Sleep(20 * time.Microsecond)
		}
	}()
	for i := 0; i < 50; i++ {
		running.Store(true)
		call()
		running.Store(false)
	}
	close(stop)
	wg.Wait()
	return keyMaterialIn(signalStackCopy(), key, region)
}

// TestSignalFrameWipe interrupts every key-holding routine with signals on
// every path and checks that no round key of the data key nor of the
// wrapping key is left on the thread's signal stack. The control turns the
// wipe off and must find key material there (within a few tries: the last
// signal of a try may have landed between two calls).
func TestSignalFrameWipe(t *testing.T) {
	sealedRequireAESNI(t)
	if on, detail := SignalFrameWipe(); !on {
		t.Fatal(detail)
	}
	region, _ := sealedRegion(t, nil)
	key := sealedRand(32)
	h := sealedWrap(t, region, key, 0)
	buf := make([]byte, 1<<20)
	var ctr, iv, tw [16]byte
	for _, path := range sealedPaths() {
		calls := map[string]func(){
			"ECB":    func() { SealedEncrypt(region, h, buf, buf, path) },
			"ECBdec": func() { SealedDecrypt(region, h, buf, buf, path) },
			"CTR":    func() { SealedCTR(region, h, buf, buf, &ctr, 0, path) },
			"CBCdec": func() { SealedCBCDecrypt(region, h, buf, buf, &iv, 0, path) },
			"XTS":    func() { SealedXTS(region, h, h, buf, buf, &tw, 0, path) },
		}
		for name, call := range calls {
			t.Run(sealedPathNames[path]+"/"+name, func(t *testing.T) {
				before := SignalFrameWipes()
				if found := interruptedCalls(t, key, region, call); len(found) > 0 {
					t.Errorf("left on the signal stack: %v", found)
				}
				if SignalFrameWipes() == before {
					t.Errorf("no call was interrupted by a signal: the test proved nothing")
				}
			})
		}
		t.Run(sealedPathNames[path]+"/control-without-wipe", func(t *testing.T) {
			SetSignalFrameWipe(false)
			defer SetSignalFrameWipe(true)
			for try := 0; try < 20; try++ {
				if found := interruptedCalls(t, key, region, calls["ECB"]); len(found) > 0 {
					t.Logf("try %d: without the wipe the signal stack holds %v", try, found)
					return
				}
			}
			t.Fatal("without the wipe no key material was found on the signal stack: the test is blind")
		})
	}
}
