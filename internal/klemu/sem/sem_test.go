package sem

import (
	"bytes"
	"crypto/aes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/go-keylocker/keylocker/internal/handle"
	"github.com/go-keylocker/keylocker/internal/klemu/decode"
)

var fullCfg = Config{AESKLE: true, Wide: true, Restrictions: 7}

func dec(t *testing.T, h string) decode.Inst {
	t.Helper()
	b, _ := hex.DecodeString(h)
	in, err := decode.Decode(b)
	if err != nil {
		t.Fatalf("%s: %v", h, err)
	}
	return in
}

var (
	encodekey128 = "f30f38fad1"   // encodekey128 %ecx, %edx
	encodekey256 = "f3450f38fbd1" // encodekey256 %r9d, %r10d
	aesenc128    = "f30f38dc2b"   // aesenc128kl (%rbx), %xmm5
	aesdec128    = "f30f38dd2b"   // aesdec128kl (%rbx), %xmm5
	aesenc256    = "f30f38de2b"   // aesenc256kl (%rbx), %xmm5
	aesdec256    = "f30f38df2b"   // aesdec256kl (%rbx), %xmm5
	encwide128   = "f30f38d803"   // aesencwide128kl (%rbx)
	decwide128   = "f30f38d80b"   // aesdecwide128kl (%rbx)
	encwide256   = "f30f38d813"   // aesencwide256kl (%rbx)
	decwide256   = "f30f38d81b"   // aesdecwide256kl (%rbx)
	loadiwkey    = "f30f38dcd1"   // loadiwkey %xmm1, %xmm2
)

const hAddr = 0x10000

// memory maps a handle at hAddr; everything else faults.
func memory(h []byte) MemReader {
	return func(addr uint64, b []byte) (uint64, error) {
		if addr < hAddr || addr+uint64(len(b)) > hAddr+uint64(len(h)) {
			return max(addr, hAddr+uint64(len(h))), errors.New("fault")
		}
		copy(b, h[addr-hAddr:])
		return 0, nil
	}
}

func newM(t *testing.T, cfg Config) *Machine {
	t.Helper()
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// encode runs ENCODEKEY and returns the handle and the state after it.
func encode(t *testing.T, m *Machine, key []byte, restr uint32) ([]byte, State) {
	t.Helper()
	var st State
	copy(st.XMM[0][:], key)
	if len(key) > 16 {
		copy(st.XMM[1][:], key[16:])
	}
	for i := 2; i < 16; i++ {
		st.XMM[i] = [16]byte{0: byte(i), 15: 0xAA}
	}
	st.RFLAGS = 0x202 | KLFlags
	st.RIP = 0x1000
	op, n := encodekey128, 3
	st.GPR[1], st.GPR[2] = uint64(restr)|0xFFFFFFFF00000000, 0xFFFFFFFFFFFFFFFF
	if len(key) == 32 {
		op, n = encodekey256, 4
		st.GPR[9], st.GPR[10] = uint64(restr), 0xFFFFFFFFFFFFFFFF
	}
	in := dec(t, op)
	f, changed, err := m.Exec(&in, &st, nil)
	if err != nil || f.Kind != NoFault || !changed {
		t.Fatalf("ENCODEKEY: %v %v %v", f, changed, err)
	}
	if st.RIP != 0x1000+uint64(in.Len) || st.RFLAGS != 0x202 {
		t.Errorf("ENCODEKEY: rip %#x flags %#x", st.RIP, st.RFLAGS)
	}
	for i := 4; i <= 6; i++ {
		if st.XMM[i] != ([16]byte{}) {
			t.Errorf("XMM%d not zeroed", i)
		}
	}
	for i := n; i < 16; i++ {
		if i >= 4 && i <= 6 {
			continue
		}
		if st.XMM[i] != ([16]byte{0: byte(i), 15: 0xAA}) {
			t.Errorf("XMM%d clobbered", i)
		}
	}
	var h []byte
	for i := range n {
		h = append(h, st.XMM[i][:]...)
	}
	return h, st
}

func TestSpecVector(t *testing.T) {
	m := newM(t, Config{AESKLE: true, Wide: true, Restrictions: 7, ZeroIWKey: true})
	h, st := encode(t, m, make([]byte, 16), 0)
	want, _ := hex.DecodeString("00000000000000000000000000000000" +
		"dc95c078a2408989ad48a21492842087" + "08c374848c228233c2b34f332bd2e9d3")
	if !bytes.Equal(h, want) {
		t.Fatalf("handle %x\nwant   %x", h, want)
	}
	if st.GPR[2] != 0 {
		t.Errorf("dest = %#x", st.GPR[2])
	}
}

func TestEncodeKeyDest(t *testing.T) {
	for _, tc := range []struct {
		nb   bool
		ks   uint32
		want uint64
	}{{false, 0, 0}, {true, 0, 1}, {false, 1, 2}, {true, 1, 3}} {
		cfg := fullCfg
		cfg.NoBackup, cfg.KeySource = tc.nb, tc.ks
		m := newM(t, cfg)
		_, st := encode(t, m, make([]byte, 16), 0)
		if st.GPR[2] != tc.want {
			t.Errorf("%+v: dest %#x", tc, st.GPR[2])
		}
		_, st = encode(t, m, make([]byte, 32), 0)
		if st.GPR[10] != tc.want {
			t.Errorf("%+v: dest256 %#x", tc, st.GPR[10])
		}
	}
	if _, err := New(Config{KeySource: 2}); err == nil {
		t.Error("KeySource 2 accepted")
	}
}

func TestEncodeKeyGP(t *testing.T) {
	for _, tc := range []struct {
		supported, src uint32
		gp             bool
	}{
		{7, 0, false}, {7, 7, false}, {7, 8, true}, {7, 0x80000000, true}, {7, 0x100, true},
		{0, 1, true}, {0, 2, true}, {0, 4, true}, {0, 0, false}, {1, 1, false}, {1, 2, true}, {6, 1, true}, {6, 6, false},
	} {
		cfg := fullCfg
		cfg.Restrictions = tc.supported
		m := newM(t, cfg)
		for _, op := range []string{encodekey128, encodekey256} {
			in := dec(t, op)
			var st State
			st.GPR[in.RM] = uint64(tc.src)
			st.RFLAGS = KLFlags
			orig := st
			f, _, err := m.Exec(&in, &st, nil)
			if err != nil || (f.Kind == GP) != tc.gp || tc.gp && st != orig {
				t.Errorf("%s supported %#x src %#x: %v", op, tc.supported, tc.src, f)
			}
		}
	}
	// high 32 bits of the source register are ignored (r32 operand)
	m := newM(t, fullCfg)
	in := dec(t, encodekey128)
	var st State
	st.GPR[1] = 0xFFFFFFFF_00000000
	if f, _, _ := m.Exec(&in, &st, nil); f.Kind != NoFault {
		t.Errorf("high bits: %v", f)
	}
}

func TestAESvsCryptoAES(t *testing.T) {
	m := newM(t, fullCfg)
	for _, kl := range []int{16, 32} {
		key := make([]byte, kl)
		rand.Read(key)
		h, _ := encode(t, m, key, 0)
		c, _ := aes.NewCipher(key)
		encOp, decOp, ew, dw := aesenc128, aesdec128, encwide128, decwide128
		if kl == 32 {
			encOp, decOp, ew, dw = aesenc256, aesdec256, encwide256, decwide256
		}
		var st State
		st.GPR[3] = hAddr
		rand.Read(st.XMM[5][:])
		pt := st.XMM[5]
		st.RFLAGS = KLFlags | 0x202
		in := dec(t, encOp)
		if f, ch, err := m.Exec(&in, &st, memory(h)); f.Kind != NoFault || !ch || err != nil {
			t.Fatal(f, err)
		}
		var want [16]byte
		c.Encrypt(want[:], pt[:])
		if st.XMM[5] != want || st.RFLAGS != 0x202 || st.RIP != uint64(in.Len) {
			t.Fatalf("%d: enc %x want %x flags %#x", kl, st.XMM[5], want, st.RFLAGS)
		}
		in = dec(t, decOp)
		st.RFLAGS = KLFlags
		m.Exec(&in, &st, memory(h))
		if st.XMM[5] != pt || st.RFLAGS != 0 {
			t.Fatalf("%d: dec", kl)
		}
		// wide
		var pts [8][16]byte
		for i := range 8 {
			rand.Read(st.XMM[i][:])
			pts[i] = st.XMM[i]
		}
		x8 := st.XMM[8]
		in = dec(t, ew)
		st.RFLAGS = KLFlags
		if f, _, _ := m.Exec(&in, &st, memory(h)); f.Kind != NoFault || st.RFLAGS != 0 {
			t.Fatalf("wide: %v flags %#x", f, st.RFLAGS)
		}
		for i := range 8 {
			c.Encrypt(want[:], pts[i][:])
			if st.XMM[i] != want {
				t.Fatalf("%d wide enc block %d", kl, i)
			}
		}
		in = dec(t, dw)
		m.Exec(&in, &st, memory(h))
		for i := range 8 {
			if st.XMM[i] != pts[i] {
				t.Fatalf("%d wide dec block %d", kl, i)
			}
		}
		if st.XMM[8] != x8 {
			t.Fatal("wide touched XMM8")
		}
	}
	if m.Stats.Ops[decode.AESENCWIDE256KL] != 1 || m.Stats.Ops[decode.ENCODEKEY128] != 1 || m.Stats.ZF != 0 {
		t.Errorf("stats %+v", m.Stats)
	}
}

// expectZF runs op on handle h and checks ZF=1, destination unchanged,
// other flags cleared.
func expectZF(t *testing.T, m *Machine, name, op string, h []byte, wantZF bool) {
	t.Helper()
	in := dec(t, op)
	var st State
	st.GPR[3] = hAddr
	for i := range 16 {
		rand.Read(st.XMM[i][:])
	}
	st.RFLAGS = 0x202 | KLFlags&^FlagZF
	orig := st
	f, _, err := m.Exec(&in, &st, memory(h))
	if err != nil || f.Kind != NoFault {
		t.Fatalf("%s %s: %v %v", name, in.Op, f, err)
	}
	zf := st.RFLAGS&FlagZF != 0
	if zf != wantZF {
		t.Errorf("%s %v: ZF=%v, want %v", name, in.Op, zf, wantZF)
	}
	if st.RFLAGS&^FlagZF != 0x202 {
		t.Errorf("%s %v: flags %#x", name, in.Op, st.RFLAGS)
	}
	if wantZF && st.XMM != orig.XMM {
		t.Errorf("%s %v: ZF=1 but XMM changed", name, in.Op)
	}
	if st.RIP != uint64(in.Len) {
		t.Errorf("%s %v: rip", name, in.Op)
	}
}

func TestRestrictionsTamperKeyType(t *testing.T) {
	m := newM(t, fullCfg)
	k16, k32 := make([]byte, 16), make([]byte, 32)
	rand.Read(k16)
	rand.Read(k32)
	enc128 := []string{aesenc128, encwide128}
	dec128 := []string{aesdec128, decwide128}
	enc256 := []string{aesenc256, encwide256}
	dec256 := []string{aesdec256, decwide256}
	for r := uint32(0); r < 8; r++ {
		h, _ := encode(t, m, k16, r)
		h2, _ := encode(t, m, k32, r)
		okEnc := r&handle.CPL0Only == 0 && r&handle.NoEncrypt == 0
		okDec := r&handle.CPL0Only == 0 && r&handle.NoDecrypt == 0
		for _, op := range enc128 {
			expectZF(t, m, "restr", op, h, !okEnc)
		}
		for _, op := range dec128 {
			expectZF(t, m, "restr", op, h, !okDec)
		}
		for _, op := range enc256 {
			expectZF(t, m, "restr256", op, h2, !okEnc)
		}
		for _, op := range dec256 {
			expectZF(t, m, "restr256", op, h2, !okDec)
		}
	}
	h, _ := encode(t, m, k16, 0)
	h2, _ := encode(t, m, k32, 0)
	// key type mismatch: 128 handle (padded) under 256 instructions and vice versa
	h128pad := append(append([]byte{}, h...), make([]byte, 16)...)
	for _, op := range append(enc256, dec256...) {
		expectZF(t, m, "128-as-256", op, h128pad, true)
	}
	for _, op := range append(enc128, dec128...) {
		expectZF(t, m, "256-as-128", op, h2[:48], true)
	}
	// tamper every byte of both handles
	for _, hh := range [][]byte{h, h2} {
		for i := range hh {
			for _, bit := range []byte{1, 0x80} {
				tam := append([]byte{}, hh...)
				tam[i] ^= bit
				op := aesenc128
				if len(hh) == 64 {
					op = aesdec256
				}
				expectZF(t, m, "tamper", op, tam, true)
			}
		}
	}
	// reserved metadata bits, even with a tag recomputed by the reference wrap
	for _, bit := range []int{3, 10, 23, 26, 28, 31, 32, 64, 127} {
		tam := append([]byte{}, h...)
		tam[bit/8] ^= 1 << (bit % 8)
		expectZF(t, m, "reserved", aesenc128, tam, true)
	}
	// key type 2 (AES-192 software handles) is refused by every instruction
	iw := m.IWKey()
	h192, _ := handle.Wrap(&iw, 0, make([]byte, 24))
	for _, op := range append(append(enc256, dec256...), append(enc128, dec128...)...) {
		expectZF(t, m, "aes192", op, h192[:handle.SizeForKeyType(handle.KeyTypeAES192)], true)
	}
	// handle made by the reference wrap under the same IWKey is accepted
	ref, _ := handle.Wrap(&iw, 0, k16)
	expectZF(t, m, "reference wrap", aesenc128, ref, false)
	if m.Stats.ZF == 0 {
		t.Error("ZF not counted")
	}
}

func TestFaults(t *testing.T) {
	m := newM(t, fullCfg)
	h, _ := encode(t, m, make([]byte, 16), 0)
	in := dec(t, aesenc128)
	var st State
	st.GPR[3] = hAddr + 8 // the last 8 bytes are unreadable
	orig := st
	f, _, _ := m.Exec(&in, &st, memory(h))
	if f.Kind != PF || f.Addr != hAddr+48 || st != orig {
		t.Errorf("page fault: %+v", f)
	}
	// A non-canonical handle address is #GP, as on hardware, whatever the
	// memory says; so is one whose last byte crosses into the hole.
	for _, addr := range []uint64{0x8000000000000000, 1<<47 - 16} {
		st.GPR[3] = addr
		orig := st
		if f, _, _ := m.Exec(&in, &st, memory(h)); f.Kind != GP || st != orig {
			t.Errorf("non-canonical handle at %#x: %+v", addr, f)
		}
	}
	st = orig
	in = dec(t, loadiwkey)
	if f, _, _ := m.Exec(&in, &st, nil); f.Kind != GP || st != orig {
		t.Errorf("loadiwkey: %v", f)
	}
	cpuid, _ := decode.Decode([]byte{0x0F, 0xA2})
	if _, _, err := m.Exec(&cpuid, &st, nil); err != ErrNotKL {
		t.Errorf("cpuid: %v", err)
	}
}

func TestProfilesUD(t *testing.T) {
	for _, tc := range []struct {
		cfg        Config
		ud, wideUD bool
	}{
		{fullCfg, false, false},
		{Config{AESKLE: true, Restrictions: 7}, false, true},
		{Config{Restrictions: 7}, true, true},
	} {
		m := newM(t, tc.cfg)
		for _, op := range []string{encodekey128, encodekey256, aesenc128, aesdec256, encwide128, decwide256, loadiwkey} {
			in := dec(t, op)
			var st State
			st.GPR[3] = hAddr
			f, _, _ := m.Exec(&in, &st, memory(make([]byte, 64)))
			want := tc.ud || in.Op.IsWide() && tc.wideUD
			if (f.Kind == UD) != want {
				t.Errorf("%+v %v: %v", tc.cfg, in.Op, f)
			}
		}
	}
}

func TestRotation(t *testing.T) {
	cfg := fullCfg
	cfg.RotateAfter = 3
	m := newM(t, cfg)
	h, _ := encode(t, m, make([]byte, 16), 0)
	for i := range 3 {
		expectZF(t, m, "before rotation", aesenc128, h, false)
		_ = i
	}
	if m.Stats.Rotations != 1 {
		t.Fatalf("rotations %d", m.Stats.Rotations)
	}
	expectZF(t, m, "after rotation", aesenc128, h, true)
	h, _ = encode(t, m, make([]byte, 16), 0) // ENCODEKEY does not count
	expectZF(t, m, "new handle", aesenc128, h, false)
	if err := m.Rotate(); err != nil {
		t.Fatal(err)
	}
	expectZF(t, m, "explicit rotation", aesenc128, h, true)
	// zero IWKey: rotation moves to a random key
	m = newM(t, Config{AESKLE: true, Restrictions: 7, ZeroIWKey: true})
	h, _ = encode(t, m, make([]byte, 16), 0)
	m.Rotate()
	expectZF(t, m, "zero rotated", aesenc128, h, true)
}

func TestCacheBound(t *testing.T) {
	cfg := fullCfg
	cfg.CacheSize = 4
	m := newM(t, cfg)
	for i := range 10 {
		key := make([]byte, 16)
		binary.LittleEndian.PutUint32(key, uint32(i))
		h, _ := encode(t, m, key, 0)
		expectZF(t, m, "cache", aesenc128, h, false)
		if len(m.cache) > 4 {
			t.Fatalf("cache size %d", len(m.cache))
		}
	}
}

func TestBreakages(t *testing.T) {
	// Each breakage must be visible to the checks above.
	cfg := fullCfg
	cfg.Break = Breakage{Flags: true, XMM456: true, RIPRel: true}
	m := newM(t, cfg)
	var st State
	st.RFLAGS = KLFlags
	st.XMM[4][0] = 1
	in := dec(t, encodekey128)
	m.Exec(&in, &st, nil)
	if st.RFLAGS == 0 || st.XMM[4][0] != 1 {
		t.Error("breakages flags/xmm456 not effective")
	}
	rip := dec(t, "f30f38dc0510000000") // 0x10(%rip)
	st.RIP = 0x1000
	if a := m.EffAddr(&rip, &st); a != 0x1010 {
		t.Errorf("riprel breakage: %#x", a)
	}
}
