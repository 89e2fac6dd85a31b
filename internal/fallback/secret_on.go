//go:build goexperiment.runtimesecret

package fallback

import "runtime/secret"

// RuntimeSecret reports whether the generic calls run inside
// runtime/secret.Do (built with GOEXPERIMENT=runtimesecret). On linux/amd64
// and linux/arm64 the runtime then erases the registers and the stack used
// by the call when it returns (and heap allocations, of which the generic
// code makes none, once they are collected); elsewhere Do just calls f.
const RuntimeSecret = true

func protect(f func()) { secret.Do(f) }
