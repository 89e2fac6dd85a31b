//go:build !goexperiment.runtimesecret

package fallback

// RuntimeSecret reports whether the generic calls run inside
// runtime/secret.Do (built with GOEXPERIMENT=runtimesecret, Go 1.26+).
const RuntimeSecret = false

func protect(f func()) { f() }
