// Command klemucpuid writes internal/klemu/cpuid's host CPUID routine
// (host_amd64.s, host_amd64.go) with the same generator function as
// internal/asm's CPUID. klemu needs it in every amd64 build, purego
// included, so it is not shared with internal/asm. Run it through go
// generate in internal/klemu/cpuid.
package main

import (
	. "github.com/mmcloughlin/avo/build"

	"github.com/go-keylocker/keylocker/internal/asm/_asm/internal/gen"
)

func main() {
	ConstraintExpr("amd64")
	gen.CPUIDFunc("Host", `Host executes CPUID with EAX=eax and ECX=ecx on the calling CPU and
returns EAX, EBX, ECX and EDX: the host's values, which the profiles
amend. It uses only AX-DX.`)
	Generate()
}
