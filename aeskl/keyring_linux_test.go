package aeskl

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/go-keylocker/keylocker/internal/klemu/klemutest"
)

// TestKeyring: NewFromKeyring and NewXTSFromKeyring make the cipher of a
// user key's payload (against crypto/aes and x/crypto/xts) and refuse a
// payload of the wrong size, a key that is not of type user, and a key
// that does not exist.
func TestKeyring(t *testing.T) {
	if klemutest.Inner() {
		t.Skip("the run outside the emulator covers this")
	}
	key, xkey := randBytes(24), randBytes(48)
	id, xid := addUserKey(t, key), addUserKey(t, xkey)
	c, err := NewFromKeyring(id)
	if err != nil {
		t.Fatal(err)
	}
	sameKey(t, c, key)
	x, err := NewXTSFromKeyring(xid)
	if err != nil {
		t.Fatal(err)
	}
	sameXTSKey(t, x, xkey)
	if _, err := NewFromKeyring(xid); err == nil || !strings.Contains(err.Error(), "holds 48 bytes") {
		t.Errorf("a 48-byte key for a Cipher: %v", err)
	}
	if _, err := NewXTSFromKeyring(id); err == nil {
		t.Error("a 24-byte key for an XTS: no error")
	}
	kr, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_PROCESS_KEYRING, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewFromKeyring(kr); err == nil || !strings.Contains(err.Error(), `type "keyring"`) {
		t.Errorf("a keyring instead of a user key: %v", err)
	}
	if _, err := unix.KeyctlInt(unix.KEYCTL_REVOKE, id, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	if c, err := NewFromKeyring(id); err == nil || c != nil {
		t.Errorf("a revoked key: %v", err)
	}
}
