package aeskl

import "errors"

// Restriction narrows what a handle may be used for. Key Locker enforces it
// in the CPU (the restriction bits are part of the authenticated handle
// metadata); the sealed implementations enforce the same bits in software.
type Restriction uint32

const (
	// NoEncrypt makes a handle that refuses to encrypt (decrypt only).
	NoEncrypt Restriction = 1 << 1
	// NoDecrypt makes a handle that refuses the AES decryption direction.
	// Use it for keys that only ever run the cipher forward, such as the XTS
	// tweak key. Note that CTR and GCM use only the forward direction for
	// both encryption and decryption: a NoDecrypt handle still decrypts CTR
	// streams and opens GCM messages. It stops ECB, CBC and XTS decryption.
	NoDecrypt Restriction = 1 << 2
)

// Option configures New, NewXTS and the other constructors.
type Option func(*config)

type config struct {
	impl         Implementation // 0: choose
	restrictions Restriction
	sealedPath   int // test hook: -1 choose
	// entropy is WithEntropy's buffer, read by NewRandom and NewXTSRandom
	// before they return and never kept; hasEntropy says it was given.
	entropy     []byte
	hasEntropy  bool
	randSources int // test hook: the sources for the random routines, -1 detect
}

// newConfig applies opts to the defaults.
func newConfig(opts []Option) config {
	cfg := config{sealedPath: -1, randSources: -1}
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

// checkRestrictions refuses unknown restriction bits and a handle that
// could do nothing.
func (cfg *config) checkRestrictions() error {
	if cfg.restrictions&^(NoEncrypt|NoDecrypt) != 0 {
		return errors.New("aeskl: unknown restriction bits")
	}
	if cfg.restrictions == NoEncrypt|NoDecrypt {
		return errors.New("aeskl: a handle restricted to neither encrypt nor decrypt is useless")
	}
	return nil
}

// WithImplementation forces an implementation. New returns an error if it
// cannot run here (for example Key Locker on a CPU or OS without it, or
// Key Locker with a 24-byte key). Benchmarks and tests use it to pick a path.
func WithImplementation(i Implementation) Option {
	return func(c *config) { c.impl = i }
}

// WithRestrictions makes the handle refuse one direction (NoEncrypt or
// NoDecrypt). A handle with both restrictions is useless and is refused.
func WithRestrictions(r Restriction) Option {
	return func(c *config) { c.restrictions |= r }
}

// WithEntropy mixes b into the key that NewRandom or NewXTSRandom draws
// from the CPU: the key is the CPU's random bytes XOR b, byte for byte, so b
// must be exactly as long as the key (the size argument). Other
// constructors refuse the option. b is read during the call and never kept
// or copied anywhere but a 32-byte stack array that is wiped before the
// call returns.
//
// XOR, not a hash, on purpose. The key never exists in memory: it is drawn
// into vector registers inside the assembly routine that turns it into a
// handle, and XOR mixes b there, in one instruction per 16 bytes. A hash
// would need the random bytes in memory for Go's hash functions (which is
// what NewRandom exists to avoid) or a hash function written in register-only
// assembly. And XOR loses nothing a hash would give: b is fixed before the
// CPU's bytes are drawn, so when those bytes are uniformly random the key is
// uniformly random whatever b is (b cannot weaken it), and when the CPU's
// source is weak or subverted the key is as unpredictable as b is to the
// attacker. What XOR cannot do, a hash could not do either: a CPU that
// wanted to cancel b sees it in the registers it XORs. This is how Linux's
// memory-encryption key API mixed user entropy into CPU-generated keys.
func WithEntropy(b []byte) Option {
	return func(c *config) { c.entropy, c.hasEntropy = b, true }
}

// withRandSources forces the sources the random routines may use (a test
// hook: kernel.RandRDSEED, kernel.RandRDRAND).
func withRandSources(s int) Option { return func(c *config) { c.randSources = s } }
