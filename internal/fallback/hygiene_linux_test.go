package fallback

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"testing"

	"github.com/go-keylocker/keylocker/internal/handle"

	"github.com/go-keylocker/keylocker/internal/memscan"
)

// bitslicedNeedles are the forms of key that this package's own AES keeps
// in memory while it runs: each sliced round key (8 uint64, 64 bytes).
func bitslicedNeedles(key []byte) [][]byte {
	var s schedule
	expandKey(&s, key)
	var out [][]byte
	for r := 0; r <= s.nr; r++ {
		b := make([]byte, 64)
		for i, v := range s.rk[r] {
			binary.LittleEndian.PutUint64(b[8*i:], v)
		}
		out = append(out, b)
	}
	return out
}

// After GenericEncodeKey, GenericEncrypt/Decrypt and every mode kernel
// have run in a child,
// with the child's own copy of the key wiped, neither the key nor any form
// of its schedule (standard, word-swapped, inverse, bitsliced) is left in
// the child's memory. (The wrapping key EK is in the region by design and
// is not searched for.) Checked once by hand that the test has teeth: with
// wipeSchedule, wipeWrapState and burnStack made no-ops, the scan finds the
// bitsliced round keys on the parked goroutine's stack.
func TestGenericLeavesNoKey(t *testing.T) {
	for _, n := range []int{16, 24, 32} {
		key := make([]byte, n)
		rand.Read(key)
		pid, release := memscan.RunChild(t, "TestHelperGeneric", key)
		ns := memscan.NeedleSet(key)
		needles := memscan.Needles(key)
		for i, b := range bitslicedNeedles(key) {
			needles = append(needles, b)
			ns = append(ns, memscan.Needle{Bytes: b, Name: fmt.Sprintf("bitsliced round key %d", i)})
		}
		res, err := memscan.ScanDetailed(pid, needles)
		release()
		if err != nil {
			t.Fatal(err)
		}
		if res.Bytes < 1<<20 {
			t.Fatalf("only %d bytes scanned", res.Bytes)
		}
		t.Logf("AES-%d: scanned %d MiB in %d mappings: %d hits", 8*n, res.Bytes>>20, res.Mappings, len(res.Hits))
		for _, h := range res.Hits {
			t.Errorf("AES-%d: %s left at %#x (%s)", 8*n, ns[h.Needle].Name, h.Addr, h.Mapping)
		}

		// The control: the same child keeping a bitsliced schedule of the
		// key alive; the scan must find every round key of it.
		pid, release = memscan.RunChild(t, "TestHelperGeneric", key, "AESKL_GENERIC_KEEP=1")
		res, err = memscan.ScanDetailed(pid, needles)
		release()
		if err != nil {
			t.Fatal(err)
		}
		found := map[int]bool{}
		for _, h := range res.Hits {
			found[h.Needle] = true
		}
		for i := len(needles) - len(bitslicedNeedles(key)); i < len(needles); i++ {
			if !found[i] {
				t.Errorf("AES-%d control: %s of a schedule kept alive not found: the scan proves nothing", 8*n, ns[i].Name)
			}
		}
	}
}

// keptSchedule is the control's schedule, alive through the scan.
var keptSchedule *schedule

func TestHelperGeneric(t *testing.T) {
	if !memscan.IsChild("TestHelperGeneric") {
		t.Skip("helper process for TestGenericLeavesNoKey")
	}
	key := make([]byte, memscan.KeyLen())
	if err := memscan.ReadKey(key); err != nil {
		t.Fatal(err)
	}
	r, err := WrapKey()
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("AESKL_GENERIC_KEEP") != "" {
		keptSchedule = new(schedule)
		expandKey(keptSchedule, key)
	}
	// The work runs on a goroutine that then stays parked: its stack, with
	// whatever the generic code's frames left below the current frame, stays
	// as it is while the parent scans (the strictest case for stack hygiene).
	done, block := make(chan error), make(chan struct{})
	go func() {
		var h handle.Handle
		GenericEncodeKey(r, key, 0, &h)
		clear(key)
		buf := make([]byte, 16*9)
		for i := 0; i < 3; i++ {
			if !GenericEncrypt(r, &h, buf, buf) || !GenericDecrypt(r, &h, buf, buf) {
				done <- errors.New("generic round trip failed")
				return
			}
		}
		// Every mode kernel, the key also serving as XTS tweak key.
		var st, st2 [16]byte
		if !GenericCTR(r, &h, buf, buf, &st, 0) ||
			!GenericCBCEncrypt(r, &h, buf, buf, &st, 0) ||
			!GenericCBCDecrypt(r, &h, buf, buf, &st, 0) ||
			!GenericXTS(r, &h, &h, buf, buf, &st, 0) ||
			!GenericXTS(r, &h, &h, buf, buf, &st, ModeDecrypt) ||
			!GenericXTSSectors(r, &h, &h, buf, buf, 1, 1, 48, 0) ||
			!GenericXTSSectors(r, &h, &h, buf, buf, 1, 1, 48, ModeDecrypt) ||
			!GenericGCMCTR(r, &h, buf, buf, &st, &st2, ModeInc32) {
			done <- errors.New("generic mode kernel failed")
			return
		}
		done <- nil
		<-block
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	defer close(block)
	memscan.Settle()
	memscan.Ready()
	memscan.WaitRelease()
	runtime.KeepAlive(key)
}
