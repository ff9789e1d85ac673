package ship

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/microsandbox/msb-logfs/engine"
)

// headLen is how many leading bytes of an exec file its fingerprint
// covers (fewer when the file held fewer when the fingerprint was taken).
const headLen = 4096

// errNotInChain is returned by execHead for a generation no file of the
// chain has.
var errNotInChain = errors.New("not in the exec.log chain")

// execFingerprint identifies the exec file a position is in beyond its
// inode number, which the filesystem reuses once rotation drops the file:
// a hash of its first Len bytes, all it held up to headLen when the
// fingerprint was taken. An exec file is only appended to, so those bytes
// stay as they were for as long as it is the same file.
//
// Len 0 means the file was empty then (the position is at its start, and
// Hash is ""). It matches the file of that inode number if the chain has
// one, whatever it holds now: the same file written since (the common
// case, a position taken just after a rotation) is told from nothing
// else by an empty prefix. A new file that took the number of the dropped
// empty one is not told apart; reading it from its start then skips, without
// a LOST line, what the dropped files held.
type execFingerprint struct {
	Gen  uint64
	Len  int
	Hash string
}

// fingerprintOf returns the fingerprint of p's file in logs directory
// dir; the zero fingerprint for the start.
func fingerprintOf(dir string, p engine.Pos) (execFingerprint, error) {
	if p.IsStart() {
		return execFingerprint{}, nil
	}
	hash, n, err := execHead(dir, p.Gen, headLen)
	if err != nil {
		return execFingerprint{}, err
	}
	if n == 0 {
		hash = ""
	}
	return execFingerprint{Gen: p.Gen, Len: n, Hash: hash}, nil
}

// matches reports whether the file of generation fp.Gen in dir is still
// the one fp was taken of: in the chain, with the same first fp.Len
// bytes (any file has the empty prefix of an empty fingerprint).
func (fp execFingerprint) matches(dir string) bool {
	if fp.Gen == 0 {
		return true // the start of the chain
	}
	hash, n, err := execHead(dir, fp.Gen, fp.Len)
	switch {
	case err != nil || n < fp.Len:
		return false // not in the chain, or shorter than it was
	case fp.Len == 0:
		return fp.Hash == ""
	}
	return hash == fp.Hash
}

// execHead hashes the first bytes, up to max, of the chain file of inode
// gen, and says how many it hashed.
func execHead(dir string, gen uint64, max int) (hash string, n int, err error) {
	for i := range engine.ChainLen {
		name := "exec.log"
		if i > 0 {
			name = fmt.Sprintf("exec.log.%d", i)
		}
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
		if err != nil {
			continue
		}
		var st syscall.Stat_t
		if syscall.Fstat(int(f.Fd()), &st) != nil || st.Ino != gen {
			f.Close()
			continue
		}
		h := sha256.New()
		read, err := io.Copy(h, io.LimitReader(f, int64(max)))
		f.Close()
		if err != nil {
			return "", 0, fmt.Errorf("fingerprint %s: %w", name, err)
		}
		return hex.EncodeToString(h.Sum(nil)[:12]), int(read), nil
	}
	return "", 0, errNotInChain
}
