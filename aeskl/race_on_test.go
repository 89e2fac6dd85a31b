//go:build linux && race

package aeskl

const raceEnabled = true
