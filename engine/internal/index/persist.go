package index

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/logline"
)

// DirName is the directory under the cache directory that holds
// persisted indexes, shared by every process that uses the directory.
const DirName = "msb-logfs-index"

// Store keeps the sparse index of each stream on disk, named by what
// identifies the content it describes (see fileSetKey), so that a remount
// or a second process starts with the index instead of a full pass. A file
// is a header, the index, and a SHA-256 over both: a stale, truncated or
// corrupt file is never trusted — its name no longer matches the files, or
// it fails the checksum or the range checks, and the index is built again.
// The directory is bounded by limit bytes: after a save, the files read
// least recently go first. Safe for concurrent use.
type Store struct {
	Dir   string
	Limit int64

	mu      sync.Mutex // orders this process's saves and trims
	Used    int64      // bytes in dir as of the last trim, plus this process's saves since
	counted bool       // used was counted by a trim
}

// indexMagic starts every index file; its last byte is the format version.
const indexMagic = "MSBIDX\x00\x03"

// indexHeadLen is how many bytes of the head of each file the key covers.
const indexHeadLen = 4096

// maxIndexFile bounds the size of an index file read back: a checkpoint per
// 48 KiB of a chain of five files of at most 1 GiB each is about 20 MiB.
const maxIndexFile = 64 << 20

// fileSetKey returns the identity of the content of files as a stream
// reads it: for every file, its device, inode, birth time, size, a
// checksum of its first 4 KiB and its last 64 bytes below the size (what
// the witness keeps). Two fileSets with one key hold the same bytes, but
// for a rewrite that keeps a file's size, head and tail.
func fileSetKey(stream logline.SourceMask, files *chain.FileSet) ([]byte, error) {
	k := append([]byte(indexMagic), byte(stream))
	for o := range logline.NumOrigins {
		refs := files.Origin(o)
		k = append(k, byte(o), byte(len(refs)))
		for _, f := range refs {
			var head [indexHeadLen]byte
			var tail [chain.WitnessLen]byte
			n := min(f.Size, indexHeadLen)
			if _, err := f.File.ReadAt(head[:n], 0); err != nil {
				return nil, fmt.Errorf("key of %s: %w", f.File.Name(), err)
			}
			at := max(f.Size-chain.WitnessLen, 0)
			if _, err := f.File.ReadAt(tail[:f.Size-at], at); err != nil {
				return nil, fmt.Errorf("key of %s: %w", f.File.Name(), err)
			}
			h := sha256.Sum256(append(head[:n], tail[:f.Size-at]...))
			k = binary.LittleEndian.AppendUint32(k, f.ID.Major)
			k = binary.LittleEndian.AppendUint32(k, f.ID.Minor)
			k = binary.LittleEndian.AppendUint64(k, f.ID.Ino)
			k = appendTime(k, f.Birth)
			k = binary.LittleEndian.AppendUint64(k, uint64(f.Size))
			k = append(k, h[:]...)
		}
	}
	return k, nil
}

// path returns the file that holds the index of key.
func (s *Store) path(key []byte) string {
	h := sha256.Sum256(key)
	return filepath.Join(s.Dir, hex.EncodeToString(h[:16])+".idx")
}

// Load reads the index of key; ok is false when there is none or it cannot
// be trusted.
func (s *Store) Load(key []byte) (saved SavedIndex, ok bool) {
	if s == nil {
		return saved, false
	}
	p := s.path(key)
	f, err := os.Open(p)
	if err != nil {
		return saved, false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() > maxIndexFile || fi.Size() < sha256.Size {
		return saved, false
	}
	b := make([]byte, fi.Size())
	if _, err := f.ReadAt(b, 0); err != nil {
		return saved, false
	}
	body, sum := b[:len(b)-sha256.Size], b[len(b)-sha256.Size:]
	if h := sha256.Sum256(body); !bytes.Equal(h[:], sum) || !bytes.HasPrefix(body, key) {
		return saved, false
	}
	saved, ok = DecodeIndex(body[len(key):])
	if ok {
		now := time.Now()
		_ = os.Chtimes(p, now, now) // the modification time orders trimming
	}
	return saved, ok
}

// Save writes the index of key (to a new file, renamed over the old one),
// then trims the directory to its limit. A failure only costs a pass later.
func (s *Store) Save(key []byte, saved *SavedIndex) error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("index store: %w", err)
	}
	b := EncodeIndex(append([]byte(nil), key...), saved)
	h := sha256.Sum256(b)
	b = append(b, h[:]...)
	if int64(len(b)) > min(s.Limit, maxIndexFile) {
		return nil
	}
	var replaced int64
	if fi, err := os.Stat(s.path(key)); err == nil {
		replaced = fi.Size()
	}
	tmp, err := os.CreateTemp(s.Dir, "tmp-*")
	if err != nil {
		return fmt.Errorf("index store: %w", err)
	}
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), s.path(key))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("index store: %w", err)
	}
	s.Used += int64(len(b)) - replaced
	if s.counted && s.Used <= s.Limit {
		return nil
	}
	return s.trim()
}

// trim removes the least recently used index files (by modification
// time, which load refreshes) until the directory holds at most 90 % of
// limit bytes, and counts what it holds. It lists the whole directory, so
// save calls it only at its first save and when its count passes the
// limit: not at every save, which made a walk over thousands of small
// sandboxes quadratic. Another process's saves are counted at the next
// trim.
func (s *Store) trim() error {
	ents, err := os.ReadDir(s.Dir)
	if err != nil {
		return fmt.Errorf("index store: %w", err)
	}
	type file struct {
		path string
		size int64
		used int64
	}
	var files []file
	var total int64
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		files = append(files, file{filepath.Join(s.Dir, e.Name()), fi.Size(), fi.ModTime().UnixNano()})
		total += fi.Size()
	}
	sort.Slice(files, func(i, j int) bool { return files[i].used < files[j].used })
	for _, f := range files {
		if total <= s.Limit/10*9 {
			break
		}
		if err := os.Remove(f.path); err == nil || errors.Is(err, os.ErrNotExist) {
			total -= f.size
		}
	}
	s.Used, s.counted = total, true
	return nil
}

// minSavedCheckpoints is the least an index must hold to be saved: one of
// less than a checkpoint interval of input (a small sandbox) is built again
// faster than it is keyed, written and read back.
const minSavedCheckpoints = 2

// saveEvery is how many checkpoints an extension adds before the index is
// saved again (a full pass is always saved): a growing log is not rewritten
// to disk at every look.
const saveEvery = 64

// restore takes the saved index of files, which the index then holds,
// if there is one that can be trusted. Called on an index that holds none.
func (x *Index) restore(files *chain.FileSet, wit *chain.Witness) bool {
	if x.saves == nil || files.Bytes() < CheckpointEvery { // too small to have been saved (minSavedCheckpoints)
		return false
	}
	key, err := fileSetKey(x.stream, files)
	if err != nil {
		return false
	}
	saved, ok := x.saves.Load(key)
	if !ok || !statesIn(files, &saved) {
		return false
	}
	x.Cache.Release()
	x.Cache = x.cacheSrc.NewCache()
	x.Cps, x.End, x.Total, x.Counts, x.Tail = saved.Cps, saved.End, saved.Total, saved.Counts, saved.Tail
	x.sess.truncate(0)
	x.serial = saved.Cps[len(saved.Cps)-1].Serial
	x.files, x.Wit, x.savedAt = files, wit, len(x.Cps)
	return true
}

// statesIn reports whether every position of saved is in files.
func statesIn(files *chain.FileSet, saved *SavedIndex) bool {
	for i := range saved.Cps {
		if !stateIn(files, &saved.Cps[i].State) {
			return false
		}
	}
	return stateIn(files, &saved.End)
}

func stateIn(files *chain.FileSet, st *chain.State) bool {
	for o, p := range st.Cursor {
		if p.IsStart() {
			continue
		}
		in := false
		for _, f := range files.Origin(logline.Origin(o)) {
			in = in || (f.Gen == p.Gen && p.Offset <= uint64(f.Size))
		}
		if !in {
			return false
		}
	}
	return true
}

// save writes the index after a pass that built it or added saveEvery
// checkpoints since the last save.
func (x *Index) save(full bool) {
	if x.saves == nil || len(x.Cps) < minSavedCheckpoints || (!full && len(x.Cps) < x.savedAt+saveEvery) {
		return
	}
	key, err := fileSetKey(x.stream, x.files)
	if err != nil {
		return
	}
	if x.saves.Save(key, &SavedIndex{Cps: x.Cps, End: x.End, Total: x.Total, Counts: x.Counts, Tail: x.Tail}) == nil {
		x.savedAt = len(x.Cps)
	}
}
