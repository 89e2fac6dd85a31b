//go:build amd64 && !purego && !aeskl_testrng

package kl

// randomForbidden: the release routines use no RIP-relative operand but
// the signal-frame hooks'.
var randomForbidden = ecbForbidden

// klemuMustTestSource: the test source's test exists only with the
// aeskl_testrng tag.
var klemuMustTestSource []string
