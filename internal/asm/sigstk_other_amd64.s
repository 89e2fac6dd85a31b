//go:build amd64 && !purego && !linux

#include "textflag.h"

// Off Linux the signal-frame wipe is not available (see sigstk_amd64.go):
// the hooks the key-holding routines call do nothing.

// func sigstkArm()
TEXT ·sigstkArm(SB), NOSPLIT|NOFRAME, $0-0
	RET

// func sigstkCheck()
TEXT ·sigstkCheck(SB), NOSPLIT|NOFRAME, $0-0
	RET
