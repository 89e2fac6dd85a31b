package aeskl

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/go-keylocker/keylocker/internal/memscan"
)

// keySourcesNotInMemory is TestKeyNotInMemory for the key sources: a child
// makes a Cipher (32-byte key) and an XTS (64-byte key) with the
// implementation New chooses here (Key Locker under klemu's full profile)
// from a pipe through NewFromReader and NewXTSFromReader, from the same
// pipe through NewFromFD and NewXTSFromFD, and from two "user" keys of the
// kernel's keyring through NewFromKeyring and NewXTSFromKeyring; it works
// with them, and the parent finds neither key nor any of their round keys
// in the child's memory. The control: the same child reading through a
// bufio.Reader (whose buffer keeps the bytes) is found, which shows both
// that the scan sees such a copy and why the documentation asks for the
// *os.File itself.
func keySourcesNotInMemory(t *testing.T, s *Support) {
	impl := s.choose(32)
	for _, c := range []struct {
		name, source string
		control      bool
	}{
		{"reader", "reader", false},
		{"file-descriptor", "fd", false},
		{"keyring", "keyring", false},
		{"bufio-reader-control", "bufio", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			key, xkey := randBytes(32), randBytes(64)
			src := c.source
			stdin := append(append([]byte(nil), key...), xkey...)
			if src == "keyring" {
				id, xid := addUserKey(t, key), addUserKey(t, xkey)
				src = fmt.Sprintf("keyring:%d:%d", id, xid)
				stdin = randBytes(16) // the pipe carries nothing of the keys
			}
			pid, release := memscan.RunChild(t, "TestHelperKeyHygiene", stdin,
				"AESKL_HYGIENE_IMPL="+strconv.Itoa(int(impl)), "AESKL_HYGIENE_PATH=-1", "AESKL_HYGIENE_SOURCE="+src)
			var needles []memscan.Needle
			for _, k := range []struct {
				name string
				key  []byte
			}{{"Cipher key", key}, {"XTS data key", xkey[:32]}, {"XTS tweak key", xkey[32:]}} {
				for _, n := range memscan.NeedleSet(k.key) {
					needles = append(needles, memscan.Needle{Bytes: n.Bytes, Name: k.name + ": " + n.Name})
				}
			}
			raw := make([][]byte, len(needles))
			for i, n := range needles {
				raw[i] = n.Bytes
			}
			res, err := memscan.ScanDetailed(pid, raw)
			release()
			if err != nil {
				t.Fatal(err)
			}
			if res.Bytes < 1<<20 {
				t.Fatalf("only %d bytes scanned: the scan cannot be trusted", res.Bytes)
			}
			t.Logf("%v from %s: scanned %d MiB in %d mappings: %d hits", impl, c.source, res.Bytes>>20, res.Mappings, len(res.Hits))
			if c.control {
				if len(res.Hits) == 0 {
					t.Fatal("the control (a bufio.Reader's buffer) was not found: the scan is blind")
				}
				return
			}
			for _, h := range res.Hits {
				t.Errorf("%s found at %#x (%s)", needles[h.Needle].Name, h.Addr, h.Mapping)
			}
		})
	}
}

// addUserKey adds payload as a "user" key to this process's keyring,
// readable by the child (same user), and revokes it at cleanup. It skips
// the test where the keyring is not available.
func addUserKey(t *testing.T, payload []byte) int {
	t.Helper()
	// The process keyring hangs off the credentials of the thread that
	// made it, which other threads of a Go program need not share: on
	// another thread the key is not possessed, and KEYCTL_SETPERM and
	// KEYCTL_REVOKE are refused. The test's goroutine stays on this thread
	// until its cleanups have run.
	runtime.LockOSThread()
	t.Cleanup(runtime.UnlockOSThread)
	// A description of its own: add_key with one already in the keyring
	// updates (or replaces) that key instead of making a new one.
	desc := fmt.Sprintf("aeskl-test-%s-%d-%x", t.Name(), len(payload), randBytes(8))
	id, err := unix.AddKey("user", desc, payload, unix.KEY_SPEC_PROCESS_KEYRING)
	if err != nil {
		t.Skipf("SKIPPED: the kernel's keyring is not available here (add_key: %v)", err)
	}
	t.Cleanup(func() { unix.KeyctlInt(unix.KEYCTL_REVOKE, id, 0, 0, 0) })
	// Possessor: everything; the user (the child is not a possessor):
	// view, read, search.
	if err := unix.KeyctlSetperm(id, 0x3f0b0000); err != nil {
		t.Fatal(err)
	}
	return id
}

// bufioKeep keeps the control child's bufio.Reader (and its buffer) alive.
var bufioKeep *bufio.Reader

// sourceCiphers is the child's side of keySourcesNotInMemory.
func sourceCiphers(src string, opts []Option) (*Cipher, *XTS, error) {
	var (
		b   *Cipher
		x   *XTS
		err error
	)
	switch {
	case src == "reader":
		if b, err = NewFromReader(os.Stdin, 32, opts...); err == nil {
			x, err = NewXTSFromReader(os.Stdin, 64, opts...)
		}
	case src == "fd":
		if b, err = NewFromFD(0, 32, opts...); err == nil {
			x, err = NewXTSFromFD(0, 64, opts...)
		}
	case src == "bufio":
		bufioKeep = bufio.NewReader(os.Stdin)
		if b, err = NewFromReader(bufioKeep, 32, opts...); err == nil {
			x, err = NewXTSFromReader(bufioKeep, 64, opts...)
		}
	case strings.HasPrefix(src, "keyring:"):
		var id, xid int
		if _, err := fmt.Sscanf(src, "keyring:%d:%d", &id, &xid); err != nil {
			return nil, nil, err
		}
		if b, err = NewFromKeyring(id, opts...); err == nil {
			x, err = NewXTSFromKeyring(xid, opts...)
		}
	default:
		err = fmt.Errorf("unknown key source %q", src)
	}
	return b, x, err
}
