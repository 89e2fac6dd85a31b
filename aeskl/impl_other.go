//go:build !amd64 || purego

package aeskl

import "runtime"

const hasAsm = false

func buildDesc() string {
	if runtime.GOARCH == "amd64" {
		return "amd64 with -tags purego"
	}
	return runtime.GOARCH
}

func klBackend(keyLen int, wide bool) backend { panic("aeskl: Key Locker is not built in") }

func sealedBackend(region *[4096]byte, path int) backend {
	panic("aeskl: aesni-sealed is not built in")
}
