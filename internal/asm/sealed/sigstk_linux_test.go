//go:build amd64 && !purego

package sealed

import (
	"bytes"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/go-keylocker/keylocker/internal/asm"
	"github.com/go-keylocker/keylocker/internal/asm/ghash"
	"github.com/go-keylocker/keylocker/internal/kernel"
	"github.com/go-keylocker/keylocker/internal/memscan"
	"golang.org/x/sys/cpu"
)

// keyMaterialIn reports which forms of key (the key and every round key of
// both schedules, memscan.NeedleSet) and of the region's EK (likewise, its
// AES-256 schedule) appear in b.
func keyMaterialIn(b []byte, key []byte, region *Region) []string {
	var found []string
	for _, n := range memscan.NeedleSet(key) {
		if bytes.Contains(b, n.Bytes) {
			found = append(found, n.Name)
		}
	}
	for _, n := range memscan.NeedleSet(region[16:48]) {
		if bytes.Contains(b, n.Bytes) {
			found = append(found, "EK: "+n.Name)
		}
	}
	return found
}

// interruptedCall runs call on a locked thread with a one-shot timer armed
// to send that thread SIGURG (what the Go runtime sends to preempt) 100 us
// into the call. It returns the key material then found on the thread's
// signal stack and whether the wipe saw the call interrupted (then the last
// frame on the signal stack is the one taken inside the call).
func interruptedCall(t *testing.T, key []byte, region *Region, call func()) (found []string, interrupted bool) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before := asm.SignalFrameWipes()
	cancel, err := memscan.InterruptAfter(100*time.Microsecond, syscall.SIGURG)
	if err != nil {
		t.Fatal(err)
	}
	call()
	cancel()
	return keyMaterialIn(asm.SignalStackCopy(16384), key, region), asm.SignalFrameWipes() > before
}

// TestSignalFrameWipe interrupts every key-holding routine with a signal on
// every path and checks that no round key of the data key nor of the
// wrapping key is left on the thread's signal stack. The control turns the
// wipe off and must find key material there.
func TestSignalFrameWipe(t *testing.T) {
	sealedRequireAESNI(t)
	if on, detail := asm.SignalFrameWipe(); !on {
		t.Fatal(detail)
	}
	region, _ := sealedRegion(t, nil)
	key := sealedRand(32)
	h := sealedWrap(t, region, key, 0)
	buf := make([]byte, 16<<20) // about 1 ms or more: the signal lands inside the call
	var ctr, iv, tw, mask, acc [16]byte
	tweaks := make([]byte, 16*len(buf)/4096)
	var gt GHASHTable
	ghash.GHASHInit(&mask, &gt, PathVAES512)
	for _, path := range sealedPaths() {
		calls := map[string]func(){
			"ECB":    func() { SealedEncrypt(region, h, buf, buf, path) },
			"ECBdec": func() { SealedDecrypt(region, h, buf, buf, path) },
			"CTR":    func() { SealedCTR(region, h, buf, buf, &ctr, 0, path) },
			"CBCenc": func() { SealedCBCEncrypt(region, h, buf[:1<<20], buf[:1<<20], &iv, 0, path) },
			"CBCdec": func() { SealedCBCDecrypt(region, h, buf, buf, &iv, 0, path) },
			"XTS":    func() { SealedXTS(region, h, h, buf, buf, &tw, 0, path) },
			"XTSSectors": func() {
				SealedXTSSectors(region, h, buf, buf, &tweaks[0], 4096, 0, path)
			},
		}
		if path == PathVAES512 && cpu.X86.HasAVX512VPCLMULQDQ && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL {
			calls["GCM"] = func() { SealedGCM(region, h, buf, buf, &ctr, &mask, &gt, &acc, nil, 0, path) }
			calls["GCMMessages"] = func() {
				var msgs [GCMMessagesMax]GCMMessage
				m := len(buf) / len(msgs)
				for i := range msgs {
					msgs[i].SetData(buf[i*m:(i+1)*m], buf[i*m:(i+1)*m])
				}
				SealedGCMMessages(region, h, msgs[:], &gt, kernel.ModeDecrypt, path)
			}
		}
		for name, call := range calls {
			t.Run(sealedPathNames[path]+"/"+name, func(t *testing.T) {
				for try := 0; ; try++ {
					found, interrupted := interruptedCall(t, key, region, call)
					if len(found) > 0 {
						t.Fatalf("left on the signal stack: %v", found)
					}
					if interrupted {
						return
					}
					if try == 20 {
						t.Fatal("in 20 tries the signal never landed inside the call: the test proved nothing")
					}
				}
			})
		}
		t.Run(sealedPathNames[path]+"/control-without-wipe", func(t *testing.T) {
			asm.SetSignalFrameWipe(false)
			defer asm.SetSignalFrameWipe(true)
			for try := 0; try < 20; try++ {
				if found, _ := interruptedCall(t, key, region, calls["ECB"]); len(found) > 0 {
					t.Logf("try %d: without the wipe the signal stack holds %v", try, found)
					return
				}
			}
			t.Fatal("without the wipe no key material was found on the signal stack: the test is blind")
		})
	}
}
