//go:build race

package stream

// raceEnabled: the race detector is on (sync.Pool then drops some of
// what is put back, so pooled buffers are allocated again).
const raceEnabled = true
