// Package asm holds all of the project's Go assembly and its Go declarations:
// CPUID, the Key Locker instructions (emitted as raw bytes, each run commented
// with its mnemonic) and the sealed AES-NI / VAES routines that keep the AES
// key and its round keys in registers. It is built only on amd64 without the
// purego tag; elsewhere the package is empty and aeskl uses the generic path.
//
// Every routine's Go declaration states its contract: registers used, what is
// cleared before return, and what happens on a rejected handle.
package asm

//go:generate sh -c "cd _asm && go run ./asm -out ../asm_amd64.s -stubs ../asm_amd64.go -pkg asm"
