// Package e2e is klemu's end-to-end test: raw-byte Go assembly (each BYTE
// run commented with its mnemonic, encodings checked with GNU as) and a
// JIT page of generated encodings, run under klemu by the tests of this
// package (TestUnderKlemu re-executes the test binary under klemu through
// klemutest.RunSelf). It has no API.
package e2e
