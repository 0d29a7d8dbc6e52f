//go:build !(leakprofile && go1.27)

package main

// takeLeakProfile: no goroutine leak profile in this build.
func takeLeakProfile() bool { return false }
