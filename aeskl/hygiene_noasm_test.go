//go:build linux && (!amd64 || purego)

package aeskl

func disableSignalFrameWipe() {}
