//go:build race

package index

// raceEnabled skips tests that measure the heap, which the race detector
// inflates.
const raceEnabled = true
