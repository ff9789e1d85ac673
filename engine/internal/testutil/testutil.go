// Package testutil holds helpers that the tests of several engine
// packages share. Only tests import it; it imports no engine package.
package testutil

import (
	"testing"

	"golang.org/x/sys/unix"
)

// Allocated returns the bytes the file at path holds on disk.
func Allocated(t testing.TB, path string) int64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Blocks * 512
}
