//go:build !amd64 || purego

package aeskl

import (
	"runtime"

	"github.com/go-keylocker/keylocker/internal/handle"

	"github.com/go-keylocker/keylocker/internal/fallback"
	"github.com/go-keylocker/keylocker/internal/gcmbatch"
)

const hasAsm = false

func buildDesc() string {
	if runtime.GOARCH == "amd64" {
		return "amd64 with -tags purego"
	}
	return runtime.GOARCH
}

// Without assembly every backend is generic (impl.go).

func (b *backend) encodeKey(key []byte, r uint32, h *handle.Handle) {
	fallback.GenericEncodeKey(b.region, key, r, h)
}

func (b *backend) encodeRandom(keyLen int, r uint32, ent *[32]byte, _ int, h *handle.Handle) error {
	return genericEncodeRandom(b.region, keyLen, r, ent, h)
}

func (b *backend) encrypt(h *handle.Handle, dst, src []byte) bool {
	return b.genericEncrypt(h, dst, src)
}
func (b *backend) decrypt(h *handle.Handle, dst, src []byte) bool {
	return b.genericDecrypt(h, dst, src)
}

func (b *backend) ctr(h *handle.Handle, dst, src []byte, ctr *[16]byte, f int) bool {
	return b.genericCTR(h, dst, src, ctr, f)
}

func (b *backend) cbcEncrypt(h *handle.Handle, dst, src []byte, iv *[16]byte, f int) bool {
	return b.genericCBCEncrypt(h, dst, src, iv, f)
}

func (b *backend) cbcDecrypt(h *handle.Handle, dst, src []byte, iv *[16]byte, f int) bool {
	return b.genericCBCDecrypt(h, dst, src, iv, f)
}

func (b *backend) xts(h, ht *handle.Handle, dst, src []byte, t *[16]byte, f int) bool {
	return b.genericXTS(h, ht, dst, src, t, f)
}

func (b *backend) xtsSectors(h, ht *handle.Handle, dst, src []byte, first, stride uint64, size, f int) bool {
	return b.genericXTSSectors(h, ht, dst, src, first, stride, size, f)
}

func (b *backend) gcmCTR(h *handle.Handle, dst, src []byte, j0, mask *[16]byte, f int) bool {
	return b.genericGCMCTR(h, dst, src, j0, mask, f)
}

// gcmFuses: no fused GCM kernel here (see the amd64 version).
func (b *backend) gcmFuses(*ghash, int) bool { return false }

func (b *backend) gcmFused(h *handle.Handle, dst, src []byte, j0, mask *[16]byte, g *ghash, acc, lens *[16]byte, f int) bool {
	panic("aeskl: no fused GCM kernel")
}

// gcmBatches: no GCM kernel for several messages here (see the amd64
// version).
func (b *backend) gcmBatches(*ghash) bool { return false }

func (g *gcm) gcmBatch([]gcmbatch.Msg, bool) (int, int, bool) {
	panic("aeskl: no GCM kernel for several messages")
}

// ghash is the constant-time Go GHASH.
type ghash struct{ g *fallback.GHASH }

func (b *backend) newGHASH(h *[16]byte) *ghash { return &ghash{fallback.NewGHASH(h)} }

func (g *ghash) update(acc *[16]byte, data []byte) { g.g.Update(acc, data) }

// setupRegion: the generic code needs no precomputation in the region.
func setupRegion(*Support) {}
