package aeskl

import "fmt"

// Implementation names a way of running AES on a handle.
type Implementation int

const (
	// KeyLockerWide is Intel Key Locker with the WIDE instructions
	// (AESENCWIDE128KL and friends, 8 blocks per instruction) for bulk
	// work and the single-block forms for tails and single blocks.
	KeyLockerWide Implementation = iota + 1
	// KeyLocker is Intel Key Locker with the single-block instructions
	// only (CPUs that report AESKLE without WIDE_KL).
	KeyLocker
	// AESNISealed is the software fallback: the same handle format, wrapped
	// under a process-wide software wrapping key held in locked, guarded
	// memory, unwrapped only inside registers by AES-NI / VAES assembly.
	AESNISealed
	// Generic is the portable Go implementation of the sealed fallback
	// (other architectures and -tags purego). It keeps the same handle
	// format and wipes what it unwraps, but Go may copy what it touches.
	Generic
)

// Implementations lists every implementation, fastest-protected first.
var Implementations = []Implementation{KeyLockerWide, KeyLocker, AESNISealed, Generic}

func (i Implementation) String() string {
	switch i {
	case KeyLockerWide:
		return "keylocker-wide"
	case KeyLocker:
		return "keylocker"
	case AESNISealed:
		return "aesni-sealed"
	case Generic:
		return "generic"
	}
	return fmt.Sprintf("Implementation(%d)", int(i))
}

// MarshalText implements encoding.TextMarshaler (Detect's JSON uses it).
func (i Implementation) MarshalText() ([]byte, error) { return []byte(i.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler: it accepts the names
// String returns, so a Support read back from JSON names the same
// implementations.
func (i *Implementation) UnmarshalText(b []byte) error {
	v, err := ParseImplementation(string(b))
	if err != nil {
		return err
	}
	*i = v
	return nil
}

// ParseImplementation returns the Implementation whose String is s.
func ParseImplementation(s string) (Implementation, error) {
	for _, i := range Implementations {
		if i.String() == s {
			return i, nil
		}
	}
	return 0, fmt.Errorf("aeskl: unknown implementation %q (want keylocker-wide, keylocker, aesni-sealed or generic)", s)
}
