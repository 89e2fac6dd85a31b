//go:build amd64 && !purego && aeskl_testrng

package kl

import "github.com/go-keylocker/keylocker/internal/testrng"

// testRNG is what EncodeRandom128/256 draw from in builds with the
// aeskl_testrng tag (klrandom_testrng_amd64.s).
//
//lint:ignore U1000 read by the generated assembly only
var testRNG = &testrng.Source
