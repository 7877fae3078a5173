//go:build race

package chunk

// raceEnabled: the race detector's shadow memory makes resident-set
// measurements too noisy to check.
const raceEnabled = true
