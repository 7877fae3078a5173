//go:build race

package router

// raceEnabled skips the long simulation under the race detector, which
// slows it tenfold; the unit tests cover the same code paths with -race.
const raceEnabled = true
