package ship

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/microsandbox/msb-logfs/engine"
)

// headLen is how many leading bytes of an exec file its fingerprint
// covers (fewer when the file held fewer when the fingerprint was taken).
const headLen = 4096

// errNotInChain is returned by execHead for a generation no file of the
// chain has.
var errNotInChain = errors.New("not in the exec.log chain")

// execFingerprint identifies the exec file a position is in beyond its
// inode number, which the filesystem reuses once rotation drops the file
// (ext4 gives it to the next exec.log at once): the file's birth time,
// where the filesystem keeps one, and a hash of its first Len bytes, all
// it held up to headLen when the fingerprint was taken. An exec file is
// only appended to, so those bytes stay as they were for as long as it is
// the same file.
//
// Len 0 means the file was empty then (the position is at its start, and
// Hash is ""): an empty prefix is a prefix of whatever a file holds now,
// so the birth time alone tells the same file written since (the common
// case, a position taken just after a rotation) from a new file that took
// its number. Without a birth time (a filesystem that keeps none, or a
// checkpoint written before it was kept) such a new file is not told
// apart: reading it from its start skips, without a LOST line, what the
// dropped files held.
type execFingerprint struct {
	Gen   uint64
	Birth int64 // Unix nanoseconds; 0 when unknown
	Len   int
	Hash  string
}

// fingerprintOf returns the fingerprint of p's file in logs directory
// dir; the zero fingerprint for the start.
func fingerprintOf(dir string, p engine.Pos) (execFingerprint, error) {
	if p.IsStart() {
		return execFingerprint{}, nil
	}
	head, err := execHead(dir, p.Gen, headLen)
	if err != nil {
		return execFingerprint{}, err
	}
	if head.n == 0 {
		head.hash = ""
	}
	return execFingerprint{Gen: p.Gen, Birth: head.birth, Len: head.n, Hash: head.hash}, nil
}

// matches reports whether the file of generation fp.Gen in dir is still
// the one fp was taken of: in the chain, born at the same time (when both
// times are known), with the same first fp.Len bytes (any file has the
// empty prefix of an empty fingerprint).
func (fp execFingerprint) matches(dir string) bool {
	if fp.Gen == 0 {
		return true // the start of the chain
	}
	head, err := execHead(dir, fp.Gen, fp.Len)
	switch {
	case err != nil || head.n < fp.Len:
		return false // not in the chain, or shorter than it was
	case fp.Birth != 0 && head.birth != 0 && fp.Birth != head.birth:
		return false // another file, which took the number
	case fp.Len == 0:
		return fp.Hash == ""
	}
	return head.hash == fp.Hash
}

// fileHead is what execHead read of a file: the hash of its first n
// bytes, and its birth time (0 when the filesystem keeps none).
type fileHead struct {
	hash  string
	n     int
	birth int64
}

// execHead hashes the first bytes, up to max, of the chain file of inode
// gen.
func execHead(dir string, gen uint64, max int) (fileHead, error) {
	for i := range engine.ChainLen {
		name := "exec.log"
		if i > 0 {
			name = fmt.Sprintf("exec.log.%d", i)
		}
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			continue
		}
		var stx unix.Statx_t
		if unix.Statx(int(f.Fd()), "", unix.AT_EMPTY_PATH, unix.STATX_INO|unix.STATX_BTIME, &stx) != nil || stx.Ino != gen {
			f.Close()
			continue
		}
		head := fileHead{}
		if stx.Mask&unix.STATX_BTIME != 0 {
			head.birth = stx.Btime.Sec*1e9 + int64(stx.Btime.Nsec)
		}
		h := sha256.New()
		read, err := io.Copy(h, io.LimitReader(f, int64(max)))
		f.Close()
		if err != nil {
			return fileHead{}, fmt.Errorf("fingerprint %s: %w", name, err)
		}
		head.hash, head.n = hex.EncodeToString(h.Sum(nil)[:12]), int(read)
		return head, nil
	}
	return fileHead{}, errNotInChain
}
