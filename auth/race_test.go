//go:build race

package auth

// raceEnabled: the race detector is on, and sync.Pool drops a quarter of
// what is Put into it on purpose.
const raceEnabled = true
