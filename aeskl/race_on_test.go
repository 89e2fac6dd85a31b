//go:build race

package aeskl

const raceEnabled = true
