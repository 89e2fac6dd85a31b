package luks

import (
	"crypto/aes"
	stdpbkdf2 "crypto/pbkdf2"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"hash"
	"math/rand/v2"
	"strconv"
	"testing"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/xts"
)

// This file writes LUKS2 and LUKS1 images for the tests, from the format's
// definition and the standard library's PBKDF2 (not this package's code),
// so that the tests can make headers cryptsetup would not: corrupted
// copies, features this package refuses.

func testRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 1)) }

func randBytesT(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// refSplit is the AF splitter: random stripes but the last, which makes
// the merge give key.
func refSplit(r *rand.Rand, key []byte, stripes int, newHash func() hash.Hash) []byte {
	n := len(key)
	out := make([]byte, n*stripes)
	d := make([]byte, n)
	for i := 0; i < stripes-1; i++ {
		s := randBytesT(r, n)
		copy(out[i*n:], s)
		for j := range d {
			d[j] ^= s[j]
		}
		// diffuse
		hs := newHash().Size()
		nd := make([]byte, 0, n)
		for j := 0; j*hs < n; j++ {
			h := newHash()
			h.Write(binary.BigEndian.AppendUint32(nil, uint32(j)))
			end := min((j+1)*hs, n)
			h.Write(d[j*hs : end])
			nd = append(nd, h.Sum(nil)[:end-j*hs]...)
		}
		d = nd
	}
	for j := range d {
		out[(stripes-1)*n+j] = d[j] ^ key[j]
	}
	return out
}

// xtsSectors encrypts (or decrypts) data as 512-byte-IV sectors with
// x/crypto/xts.
func xtsSectors(t testing.TB, key, data []byte, sectorSize int, firstIV uint64, dec bool) {
	c, err := xts.NewCipher(aes.NewCipher, key)
	if err != nil {
		t.Fatal(err)
	}
	iv := firstIV
	for off := 0; off < len(data); off += sectorSize {
		if dec {
			c.Decrypt(data[off:off+sectorSize], data[off:off+sectorSize], iv)
		} else {
			c.Encrypt(data[off:off+sectorSize], data[off:off+sectorSize], iv)
		}
		iv += uint64(sectorSize / 512)
	}
}

type testImage struct {
	kdf        string // pbkdf2, argon2i, argon2id
	pass       string
	keyLen     int // volume key bytes
	sectorSize int
	ivTweak    uint64
	dataLen    int
	seqid      uint64
	// edit changes the JSON metadata before it is written.
	edit func(m map[string]any)
}

const (
	testHdrSize    = 16384
	testAreaOffset = 32768
	testDataOffset = 1 << 20
)

// make returns the image, the volume key and the plaintext of its data
// segment.
func (o testImage) make(t testing.TB) (img, key, plain []byte) {
	r := testRand(uint64(o.keyLen*7 + o.sectorSize + len(o.kdf)))
	if o.seqid == 0 {
		o.seqid = 3
	}
	key = randBytesT(r, o.keyLen)
	plain = randBytesT(r, o.dataLen)
	img = make([]byte, testDataOffset+o.dataLen)

	// Keyslot 0.
	salt := randBytesT(r, 32)
	var derived []byte
	kdf := map[string]any{"type": o.kdf, "salt": salt}
	switch o.kdf {
	case "pbkdf2":
		derived, _ = stdpbkdf2.Key(sha256.New, o.pass, salt, 1000, o.keyLen)
		kdf["hash"], kdf["iterations"] = "sha256", 1000
	case "argon2id":
		derived = argon2.IDKey([]byte(o.pass), salt, 4, 64, 1, uint32(o.keyLen))
		kdf["time"], kdf["memory"], kdf["cpus"] = 4, 64, 1
	case "argon2i":
		derived = argon2.Key([]byte(o.pass), salt, 4, 64, 1, uint32(o.keyLen))
		kdf["time"], kdf["memory"], kdf["cpus"] = 4, 64, 1
	}
	split := refSplit(r, key, 4000, sha256.New)
	material := make([]byte, (len(split)+511)/512*512)
	copy(material, split)
	xtsSectors(t, derived, material, 512, 0, false)
	copy(img[testAreaOffset:], material)

	dsalt := randBytesT(r, 32)
	digest, _ := stdpbkdf2.Key(sha256.New, string(key), dsalt, 1000, 32)

	m := map[string]any{
		"keyslots": map[string]any{"0": map[string]any{
			"type": "luks2", "key_size": o.keyLen,
			"af":   map[string]any{"type": "luks1", "stripes": 4000, "hash": "sha256"},
			"area": map[string]any{"type": "raw", "offset": "32768", "size": "258048", "encryption": "aes-xts-plain64", "key_size": o.keyLen},
			"kdf":  kdf,
		}},
		"tokens": map[string]any{},
		"segments": map[string]any{"0": map[string]any{
			"type": "crypt", "offset": "1048576", "size": "dynamic", "iv_tweak": jsonNum(o.ivTweak),
			"encryption": "aes-xts-plain64", "sector_size": o.sectorSize,
		}},
		"digests": map[string]any{"0": map[string]any{
			"type": "pbkdf2", "keyslots": []string{"0"}, "segments": []string{"0"}, "hash": "sha256",
			"iterations": 1000, "salt": dsalt, "digest": digest,
		}},
		"config": map[string]any{"json_size": jsonNum(testHdrSize - 4096), "keyslots_size": jsonNum(testDataOffset - 2*testHdrSize)},
	}
	if o.edit != nil {
		o.edit(m)
	}
	js, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	writeHeaderCopy(t, img, 0, o.seqid, js)
	writeHeaderCopy(t, img, testHdrSize, o.seqid, js)

	data := img[testDataOffset:]
	copy(data, plain)
	xtsSectors(t, key, data, o.sectorSize, o.ivTweak, false)
	return img, key, plain
}

func jsonNum(n uint64) string { return strconv.FormatUint(n, 10) }

// writeHeaderCopy writes a LUKS2 binary header and JSON area at off with
// its checksum.
func writeHeaderCopy(t testing.TB, img []byte, off int, seqid uint64, js []byte) {
	if len(js) > testHdrSize-4096 {
		t.Fatalf("JSON of %d bytes does not fit", len(js))
	}
	h := img[off : off+testHdrSize]
	clear(h)
	if off == 0 {
		copy(h, "LUKS\xba\xbe")
	} else {
		copy(h, "SKUL\xba\xbe")
	}
	be := binary.BigEndian
	be.PutUint16(h[6:], 2)
	be.PutUint64(h[8:], testHdrSize)
	be.PutUint64(h[16:], seqid)
	copy(h[24:], "test label")
	copy(h[72:], "sha256")
	copy(h[168:], "01234567-89ab-cdef-0123-456789abcdef")
	be.PutUint64(h[256:], uint64(off))
	copy(h[4096:], js)
	sum := sha256.Sum256(h)
	copy(h[448:], sum[:])
}

// luks1Image makes a LUKS1 image with one pbkdf2 key slot (slot 2).
func luks1Image(t testing.TB, pass string, keyLen, dataLen int) (img, key, plain []byte) {
	r := testRand(99)
	key = randBytesT(r, keyLen)
	plain = randBytesT(r, dataLen)
	const payload = 4096 // sectors
	img = make([]byte, payload*512+dataLen)
	be := binary.BigEndian
	copy(img, "LUKS\xba\xbe")
	be.PutUint16(img[6:], 1)
	copy(img[8:], "aes")
	copy(img[40:], "xts-plain64")
	copy(img[72:], "sha256")
	be.PutUint32(img[104:], payload)
	be.PutUint32(img[108:], uint32(keyLen))
	dsalt := randBytesT(r, 32)
	digest, _ := stdpbkdf2.Key(sha256.New, string(key), dsalt, 1000, 20)
	copy(img[112:], digest)
	copy(img[132:], dsalt)
	be.PutUint32(img[164:], 1000)
	copy(img[168:], "fedcba98-7654-3210-fedc-ba9876543210")
	for i := range 8 {
		k := img[208+48*i:]
		be.PutUint32(k, luks1KeyDisabled)
		be.PutUint32(k[44:], 4000)
		be.PutUint32(k[40:], uint32(8+i*512))
	}
	k := img[208+48*2:]
	be.PutUint32(k, luks1KeyEnabled)
	be.PutUint32(k[4:], 1000)
	salt := randBytesT(r, 32)
	copy(k[8:], salt)
	derived, _ := stdpbkdf2.Key(sha256.New, pass, salt, 1000, keyLen)
	split := refSplit(r, key, 4000, sha256.New)
	material := make([]byte, (len(split)+511)/512*512)
	copy(material, split)
	xtsSectors(t, derived, material, 512, 0, false)
	copy(img[(8+2*512)*512:], material)
	data := img[payload*512:]
	copy(data, plain)
	xtsSectors(t, key, data, 512, 0, false)
	return img, key, plain
}
