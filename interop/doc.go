// Package interop holds the tests and benchmarks that run aeskl/stream
// against Tink (github.com/tink-crypto/tink-go/v2): streams that Tink
// writes and this module reads and the reverse, the same modifications
// refused by both, the known-answer streams in aeskl/stream/testdata, and
// the speed of both on the same data. It is a module of its own so that
// nothing that imports aeskl compiles Tink; it has no code besides tests.
package interop
