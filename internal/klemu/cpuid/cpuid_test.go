package cpuid

import (
	"runtime"
	"testing"
)

func fakeHost(calls *int) HostFunc {
	return func(leaf, sub uint32) (a, b, c, d uint32) {
		*calls++
		switch leaf {
		case 0:
			return 0x16, 0x756e6547, 0x6c65746e, 0x49656e69
		case 7:
			if sub == 0 {
				return 2, 0xffffffff, 0xffffffff, 0xffffffff
			}
		case 0x19:
			return 0xdead, 0xdead, 0xdead, 0xdead
		}
		return leaf, sub, 1, 2
	}
}

func TestProfiles(t *testing.T) {
	for _, tc := range []struct {
		p              Profile
		max, l7c       uint32
		a19, b19, c19  uint32
		aeskle, wide   bool
		enumerated     bool
		restrictionsOK uint32
	}{
		{Full, 0x19, 0xffffffff, 7, 0x15, 3, true, true, true, 7},
		{NoWide, 0x19, 0xffffffff, 7, 0x11, 3, true, false, true, 7},
		{Disabled, 0x19, 0xffffffff, 7, 0x14, 3, false, false, true, 7},
		{Absent, 0x16, 0xffffffff &^ (1 << 23), 0, 0, 0, false, false, false, 0},
	} {
		var calls int
		tb := New(tc.p, fakeHost(&calls))
		if m, _, _, _ := tb.Lookup(0, 0); m != tc.max {
			t.Errorf("%v: max leaf %#x", tc.p, m)
		}
		if _, _, c, _ := tb.Lookup(7, 0); c != tc.l7c {
			t.Errorf("%v: leaf 7 ecx %#x", tc.p, c)
		}
		if a, b, c, _ := tb.Lookup(7, 1); a != 7 || b != 1 || c != 1 {
			t.Errorf("%v: leaf 7.1 changed: %#x %#x %#x", tc.p, a, b, c)
		}
		a, b, c, d := tb.Lookup(0x19, 0)
		if a != tc.a19 || b != tc.b19 || c != tc.c19 || d != 0 {
			t.Errorf("%v: leaf 19 = %#x %#x %#x %#x", tc.p, a, b, c, d)
		}
		if tc.p.Enumerated() {
			if a, b, c, d := tb.Lookup(0x17, 0); a|b|c|d != 0 {
				t.Errorf("%v: leaf 17 beyond host max not zero", tc.p)
			}
		}
		if tc.p.AESKLE() != tc.aeskle || tc.p.Wide() != tc.wide || tc.p.Enumerated() != tc.enumerated ||
			tc.p.Restrictions() != tc.restrictionsOK {
			t.Errorf("%v: predicates", tc.p)
		}
		if (b&Leaf19EBXAESKLE != 0) != tc.aeskle || (tc.aeskle && (b&Leaf19EBXWide != 0) != tc.wide) {
			t.Errorf("%v: leaf 19 EBX %#x disagrees with predicates", tc.p, b)
		}
		if a, b, _, _ := tb.Lookup(0x80000001, 5); a != 0x80000001 || b != 5 {
			t.Errorf("%v: extended leaf changed", tc.p)
		}
		// cached: asking again calls the host no more
		n := calls
		tb.Lookup(0, 0)
		tb.Lookup(7, 0)
		tb.Lookup(0x80000001, 5)
		if calls != n {
			t.Errorf("%v: host not cached (%d -> %d calls)", tc.p, n, calls)
		}
	}
}

func TestParse(t *testing.T) {
	for i, n := range Profiles() {
		p, err := Parse(n)
		if err != nil || p != Profile(i) || p.String() != n {
			t.Errorf("%s: %v %v", n, p, err)
		}
	}
	if _, err := Parse("bogus"); err == nil {
		t.Error("bogus profile accepted")
	}
}

func TestHost(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("host CPUID only on amd64")
	}
	_, b, c, d := Host(0, 0)
	vendor := string([]byte{byte(b), byte(b >> 8), byte(b >> 16), byte(b >> 24),
		byte(d), byte(d >> 8), byte(d >> 16), byte(d >> 24),
		byte(c), byte(c >> 8), byte(c >> 16), byte(c >> 24)})
	t.Logf("host vendor %q", vendor)
	if vendor == "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" {
		t.Error("host CPUID returned nothing")
	}
	tb := New(Full, nil)
	if m, _, _, _ := tb.Lookup(0, 0); m < 0x19 {
		t.Errorf("max leaf %#x", m)
	}
}
