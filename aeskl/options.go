package aeskl

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

// Option configures New.
type Option func(*config)

type config struct {
	impl         Implementation // 0: choose
	restrictions Restriction
	sealedPath   int // test hook: -1 choose
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
