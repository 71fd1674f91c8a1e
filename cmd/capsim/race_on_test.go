//go:build race

package main

// raceEnabled: the race detector multiplies memory use, so tests that
// measure the resident set do not apply.
const raceEnabled = true
