//go:build amd64 && !purego

#include "textflag.h"

// func SignalFrameHooks() (arm, check uintptr)
TEXT ·SignalFrameHooks(SB), NOSPLIT, $0-16
	LEAQ ·sigstkArm(SB), AX
	MOVQ AX, arm+0(FP)
	LEAQ ·sigstkCheck(SB), AX
	MOVQ AX, check+8(FP)
	RET
