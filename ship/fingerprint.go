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
// covers (fewer when the position is nearer the start).
const headLen = 4096

// errNotInChain is returned by execHead for a generation no file of the
// chain has.
var errNotInChain = errors.New("not in the exec.log chain")

// execFingerprint identifies the exec file a position is in beyond its
// inode number, which the filesystem reuses once rotation drops the file:
// a hash of its first bytes (at most the position's offset, which were
// there when the position was taken).
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
	n := int(min(p.Offset, headLen))
	hash, err := execHead(dir, p.Gen, n)
	return execFingerprint{Gen: p.Gen, Len: n, Hash: hash}, err
}

// matches reports whether the file of generation fp.Gen in dir is still
// the one fp was taken of.
func (fp execFingerprint) matches(dir string) bool {
	if fp.Gen == 0 || fp.Len == 0 {
		return true
	}
	hash, err := execHead(dir, fp.Gen, fp.Len)
	return err == nil && hash == fp.Hash
}

// execHead hashes the first n bytes of the chain file of inode gen.
func execHead(dir string, gen uint64, n int) (string, error) {
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
		_, err = io.CopyN(h, f, int64(n))
		f.Close()
		if err != nil {
			return "", fmt.Errorf("fingerprint %s: %w", name, err)
		}
		return hex.EncodeToString(h.Sum(nil)[:12]), nil
	}
	return "", errNotInChain
}
