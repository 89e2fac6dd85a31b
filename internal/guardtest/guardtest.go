// Package guardtest gives tests buffers that lie against an inaccessible
// page, so that a routine that reads or writes one byte outside them
// faults. Linux only; elsewhere it is empty.
package guardtest
