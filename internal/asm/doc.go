// Package asm holds what every assembly package shares: CPUID, XGETBV and
// the signal-frame wipe (the hooks every key-holding routine calls, and
// their start-up). The algorithms have packages of their own below it:
// kl (Key Locker), sealed (AES-NI / VAES on wrapped handles), ghash and
// blamka (Argon2's compression function, for internal/kdf);
// peak measures the CPU's raw AES rate; asmtest is their test support, and
// _asm the module whose avo programs generate every .s file with its Go
// declarations. It is built only on
// amd64 without the purego tag; elsewhere the package is empty.
//
// Every routine's Go declaration (generated) states its contract: registers
// used, what is cleared before return, and what happens on a rejected
// handle.
package asm

//go:generate sh -c "cd _asm && go run ./asm -out ../asm_amd64.s -stubs ../asm_amd64.go -pkg asm"
