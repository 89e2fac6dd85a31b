package tracer

import (
	"bytes"
	"strings"
	"testing"

	"github.com/go-keylocker/keylocker/internal/klemu/cpuid"
	"github.com/go-keylocker/keylocker/internal/klemu/decode"
)

func TestParseBreak(t *testing.T) {
	b, err := ParseBreak("riprel,flags, xmm456,nocpuid")
	if err != nil || !b.RIPRel || !b.Flags || !b.XMM456 || !b.NoCPUID {
		t.Fatalf("%+v %v", b, err)
	}
	if b, err := ParseBreak(""); err != nil || b != (Break{}) {
		t.Fatalf("empty: %+v %v", b, err)
	}
	if _, err := ParseBreak("bogus"); err == nil {
		t.Error("bogus accepted")
	}
}

func TestParseMode(t *testing.T) {
	for _, m := range []Mode{ModeFault, ModePatch, ModeAuto} {
		got, err := ParseMode(m.String())
		if err != nil || got != m {
			t.Errorf("%v: %v %v", m, got, err)
		}
	}
	if _, err := ParseMode("x"); err == nil {
		t.Error("bad mode accepted")
	}
}

func TestSemConfig(t *testing.T) {
	for _, p := range []cpuid.Profile{cpuid.Full, cpuid.NoWide, cpuid.Disabled, cpuid.Absent} {
		c := Config{Profile: p, NoBackup: true, KeySource: 1, RotateAfter: 9}
		s := c.SemConfig()
		if s.AESKLE != p.AESKLE() || s.Wide != p.Wide() || s.Restrictions != p.Restrictions() ||
			!s.NoBackup || s.KeySource != 1 || s.RotateAfter != 9 {
			t.Errorf("%v: %+v", p, s)
		}
	}
}

func TestStatsFormat(t *testing.T) {
	var s Stats
	s.Sem.Ops[decode.AESENC128KL] = 3
	s.Sem.ZF = 1
	s.CPUID = map[uint32]uint64{0x19: 2, 0: 5, 0x80000001: 1}
	var b bytes.Buffer
	if err := s.Write(&b); err != nil {
		t.Fatal(err)
	}
	want := `klemu-stats aesdec128kl 0
klemu-stats aesdec256kl 0
klemu-stats aesdecwide128kl 0
klemu-stats aesdecwide256kl 0
klemu-stats aesenc128kl 3
klemu-stats aesenc256kl 0
klemu-stats aesencwide128kl 0
klemu-stats aesencwide256kl 0
klemu-stats cpuid.0x0 5
klemu-stats cpuid.0x19 2
klemu-stats cpuid.0x80000001 1
klemu-stats encodekey128 0
klemu-stats encodekey256 0
klemu-stats faults 0
klemu-stats rotations 0
klemu-stats zf 1
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	if !strings.HasPrefix((&Unavailable{Reason: "x"}).Error(), "klemu: unavailable: ") {
		t.Error("Unavailable message")
	}
}
