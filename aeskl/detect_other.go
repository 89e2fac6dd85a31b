//go:build !amd64 || purego

package aeskl

func probeCPU(s *Support) {}
