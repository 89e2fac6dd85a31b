//go:build !aeskl_testrng

package aeskl

// testRNGBuild: this test binary draws random keys from the CPU (built
// without the aeskl_testrng tag).
const testRNGBuild = false
