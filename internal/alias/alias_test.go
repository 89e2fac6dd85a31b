package alias

import "testing"

func TestOverlap(t *testing.T) {
	b := make([]byte, 100)
	for _, c := range []struct {
		x, y         []byte
		any, inexact bool
	}{
		{b[:10], b[10:20], false, false},
		{b[:11], b[10:20], true, true},
		{b[5:15], b[5:15], true, false},
		{b[5:15], b[5:6], true, false},
		{b[6:15], b[5:6], false, false},
		{b[5:6], b[:6], true, true},
		{nil, b, false, false},
		{b[3:3], b, false, false},
		{b[:50], make([]byte, 50), false, false},
	} {
		if got := AnyOverlap(c.x, c.y); got != c.any {
			t.Errorf("AnyOverlap(%p+%d, %p+%d) = %v", c.x, len(c.x), c.y, len(c.y), got)
		}
		if got := AnyOverlap(c.y, c.x); got != c.any {
			t.Errorf("AnyOverlap is not symmetric for %p+%d, %p+%d", c.x, len(c.x), c.y, len(c.y))
		}
		if got := InexactOverlap(c.x, c.y); got != c.inexact {
			t.Errorf("InexactOverlap(%p+%d, %p+%d) = %v", c.x, len(c.x), c.y, len(c.y), got)
		}
	}
}
