//go:build race

package embed_test

// raceEnabled skips the GOROOT-wide evaluations, which take minutes under
// the race detector; run them without -race.
const raceEnabled = true
