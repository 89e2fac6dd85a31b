//go:build !amd64 || purego

package aeskl

func disableSignalFrameWipe() {}
