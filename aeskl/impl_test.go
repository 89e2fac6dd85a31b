package aeskl

import (
	"os"
	"testing"

	"github.com/go-keylocker/keylocker/internal/klemu/klemutest"
)

// variant is one implementation (and, for aesni-sealed, one bulk path)
// that every test runs on, like the standard library's
// TestAllImplementations.
type variant struct {
	name string
	opts []Option
	impl Implementation
}

func variants() []variant {
	var v []variant
	for _, i := range Implementations {
		if i == AESNISealed && hasAsm {
			for p, name := range sealedPathNames {
				v = append(v, variant{name: i.String() + "/" + name, impl: i,
					opts: []Option{WithImplementation(i), withSealedPath(p)}})
			}
			continue
		}
		v = append(v, variant{name: i.String(), impl: i, opts: []Option{WithImplementation(i)}})
	}
	return v
}

// withSealedPath forces the aesni-sealed bulk path (a test hook).
func withSealedPath(p int) Option { return func(c *config) { c.sealedPath = p } }

// sealedPathUsable reports whether this CPU can run sealed bulk path p (the
// paths are ordered: a CPU that runs one runs the narrower ones).
func sealedPathUsable(s *Support, p int) bool { return p <= s.sealedPath() }

// forEach runs f on every implementation that can run here with a key of
// keyLen bytes, and skips the others loudly with the reason. Under klemu's
// full profile the Key Locker implementations must be available.
func forEach(t *testing.T, keyLen int, f func(t *testing.T, v variant)) {
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			s := detect()
			if why := unavailable(s, v.impl, keyLen, 0); why != "" {
				if os.Getenv("KLEMU_PROFILE") == "full" && keyLen != 24 && (v.impl == KeyLocker || v.impl == KeyLockerWide) {
					t.Fatalf("under klemu's full profile %v must be usable: %s", v.impl, why)
				}
				if (v.impl == KeyLocker || v.impl == KeyLockerWide) && keyLen != 24 && !klemutest.Inner() {
					t.Skipf("%v cannot run here (%s); TestUnderKlemu runs it under the emulator", v.impl, why)
				}
				t.Skipf("%v cannot run here: %s", v.impl, why)
			}
			for _, o := range v.opts {
				var c config
				o(&c)
				if v.impl == AESNISealed && c.sealedPath > 0 && !sealedPathUsable(s, c.sealedPath) {
					t.Skipf("this CPU cannot run the %s path", sealedPathNames[c.sealedPath])
				}
			}
			f(t, v)
		})
	}
}

// forEachOnce is forEach for tests that need not run the software
// implementations a second time inside the emulator: under klemu it runs
// only the Key Locker ones (the run outside the emulator covers the rest).
func forEachOnce(t *testing.T, keyLen int, f func(t *testing.T, v variant)) {
	forEach(t, keyLen, func(t *testing.T, v variant) {
		if klemutest.Inner() && v.impl != KeyLocker && v.impl != KeyLockerWide {
			t.Skip("the run outside the emulator covers this implementation")
		}
		f(t, v)
	})
}
