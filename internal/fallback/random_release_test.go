//go:build !aeskl_testrng

package fallback

const testRNGBuild = false
