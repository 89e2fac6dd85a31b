//go:build !amd64 || purego

package benchcmd

import "github.com/go-keylocker/keylocker/aeskl"

// peakWidths: this build has no raw AES loop.
func peakWidths(aeskl.Support) []int { return nil }

func peakCall(width, iters int) func() error { panic("benchcmd: no raw AES loop in this build") }
