// Package disk encrypts and decrypts disk images sector by sector as
// dm-crypt does, with keys held by aeskl handles.
//
// A Layout says how the sectors of a volume are numbered for their IVs
// (dm-crypt's iv_offset, sector_size and iv_large_sectors); Plain is the
// geometry of a dm-crypt plain mapping with the parameters of cryptsetup
// open --type plain; a Cipher encrypts whole sectors (AES-XTS with the
// plain64 IV, AES-CBC with plain64 or ESSIV); a Transformer runs a volume
// through a Cipher on all cores with bounded memory.
package disk

import (
	"errors"
	"fmt"
	"math/bits"
)

// SectorShift is the log2 of the 512-byte unit dm-crypt and cryptsetup
// count offsets, sizes and (by default) IVs in.
const SectorShift = 9

// A Layout says how the sectors of a volume are numbered for their IVs, as
// dm-crypt does: the IV of the sector that starts at byte pos of the volume
// is pos/512 + IVOffset, and with IVLargeSectors that number divided by
// SectorSize/512 (so consecutive sectors' IVs step by SectorSize/512
// without it, by 1 with it). IVOffset must be a multiple of SectorSize/512
// (Validate).
type Layout struct {
	SectorSize     int    // bytes per encryption sector: 512, 1024, 2048 or 4096
	IVOffset       uint64 // added to the 512-byte sector number (cryptsetup --skip, LUKS2 iv_tweak)
	IVLargeSectors bool   // IVs count SectorSize units (dm-crypt iv_large_sectors)
}

// ErrIVOffset is wrapped by the error of Validate for an IV offset that is
// not a whole number of sectors.
var ErrIVOffset = errors.New("disk: IV offset is not a whole number of sectors")

// Validate reports whether dm-crypt accepts the layout: a sector size of
// 512, 1024, 2048 or 4096 bytes, and an IV offset that is a multiple of
// SectorSize/512 (with or without IVLargeSectors: dm-crypt refuses any
// other iv_offset with "Invalid iv_offset sector").
func (l Layout) Validate() error {
	s := l.SectorSize
	if s < 512 || s > 4096 || s&(s-1) != 0 {
		return fmt.Errorf("disk: sector size %d is not 512, 1024, 2048 or 4096", s)
	}
	if n := uint64(s >> SectorShift); l.IVOffset%n != 0 {
		return fmt.Errorf("%w: %d is not a multiple of %d (%d-byte sectors in 512-byte units)", ErrIVOffset, l.IVOffset, n, s)
	}
	return nil
}

func (l Layout) shift() uint {
	if !l.IVLargeSectors {
		return 0
	}
	return uint(bits.TrailingZeros(uint(l.SectorSize))) - SectorShift
}

// IV returns the IV number of the sector that starts at byte pos (a
// multiple of SectorSize) of the volume, for a layout Validate accepts. The
// arithmetic wraps modulo 2^64 as dm-crypt's does.
func (l Layout) IV(pos int64) uint64 {
	return (uint64(pos)>>SectorShift + l.IVOffset) >> l.shift()
}

// IVStep is the difference between the IVs of consecutive sectors.
func (l Layout) IVStep() uint64 {
	if l.IVLargeSectors {
		return 1
	}
	return uint64(l.SectorSize >> SectorShift)
}

// Plain is the geometry of a dm-crypt plain mapping, with the parameters
// of cryptsetup open --type plain: the mapped volume is Size 512-byte
// sectors (0: the rest of the device) starting Offset 512-byte sectors
// into the device, and the volume's byte pos has the IV number
// (pos/512 + Skip), divided by SectorSize/512 with IVLargeSectors. Skip
// is dm-crypt's iv_offset: a multiple of SectorSize/512.
type Plain struct {
	SectorSize     int    // --sector-size: 512 (also when 0), 1024, 2048 or 4096
	Offset         uint64 // --offset, in 512-byte sectors
	Skip           uint64 // --skip, in 512-byte sectors (a multiple of SectorSize/512)
	Size           uint64 // --size, in 512-byte sectors; 0 means up to the end of the device
	IVLargeSectors bool   // --iv-large-sectors
}

// Layout returns the IV numbering of the mapping.
func (p Plain) Layout() Layout {
	s := p.SectorSize
	if s == 0 {
		s = 512
	}
	return Layout{SectorSize: s, IVOffset: p.Skip, IVLargeSectors: p.IVLargeSectors}
}

// ErrGeometry is wrapped by the errors of Extent.
var ErrGeometry = errors.New("disk: geometry does not fit the device")

// Extent returns where the mapped volume lies on a device of devSize bytes:
// its first byte and its length, a whole number of sectors. Like
// cryptsetup, it refuses an offset beyond the device, a size that does not
// fit, and a volume that is not a whole number of sectors.
func (p Plain) Extent(devSize int64) (start, length int64, err error) {
	l := p.Layout()
	if err := l.Validate(); err != nil {
		return 0, 0, err
	}
	const max = 1<<63 - 1
	if devSize < 0 || p.Offset > max>>SectorShift || p.Size > max>>SectorShift {
		return 0, 0, fmt.Errorf("%w: offset %d or size %d sectors out of range", ErrGeometry, p.Offset, p.Size)
	}
	start = int64(p.Offset) << SectorShift
	if start > devSize {
		return 0, 0, fmt.Errorf("%w: offset %d sectors (%d bytes) is beyond the end of the device (%d bytes)",
			ErrGeometry, p.Offset, start, devSize)
	}
	length = devSize - start
	if p.Size != 0 {
		want := int64(p.Size) << SectorShift
		if want > length {
			return 0, 0, fmt.Errorf("%w: size %d sectors (%d bytes) from offset %d sectors ends beyond the end of the device (%d bytes)",
				ErrGeometry, p.Size, want, p.Offset, devSize)
		}
		length = want
	}
	if length%int64(l.SectorSize) != 0 {
		return 0, 0, fmt.Errorf("%w: the volume's %d bytes are not a whole number of %d-byte sectors",
			ErrGeometry, length, l.SectorSize)
	}
	return start, length, nil
}
