package engine

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// entryKey identifies a merged.jsonl entry without its cursor, which
// depends on the order entries were merged in.
func entryKey(j jentry) string {
	id := "-"
	if j.ID != nil {
		id = fmt.Sprint(*j.ID)
	}
	return strings.Join([]string{j.T, j.S, j.D, id, j.E}, "\x00")
}

func entryKeys(js []jentry) []string {
	out := make([]string, len(js))
	for i, j := range js {
		out[i] = entryKey(j)
	}
	slices.Sort(out)
	return out
}

// TestFollowRandomAppends: followers of every view, advanced after each of
// many random appends (out-of-order timestamps, text logs, partial lines,
// malformed lines, rotations): their bytes never change once shown; in the
// end each holds exactly the entries of a fresh snapshot (the raw views in
// the same order, since exec.log is never reordered); and every cursor of
// the followed merged.jsonl resumes to exactly the entries that followed it.
func TestFollowRandomAppends(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			d := newSandboxDir(t)
			g := newCorpusGen(d, 100+seed)
			g.RotateAt = 1 << 30
			g.write(8<<10, true)
			sb := d.open()
			rng := rand.New(rand.NewPCG(seed, 7))
			fls := make([]*follower, len(allViews))
			shown := make([][]byte, len(allViews))
			for i, nv := range allViews {
				fls[i] = openFollower(t, sb, nv.v)
				shown[i] = fls[i].read()
			}
			for round := range 12 {
				switch rng.IntN(5) {
				case 0:
					g.stepBack(time.Duration(rng.IntN(2000)) * time.Millisecond)
				case 1:
					if round%4 == 1 {
						g.flush()
						d.rotate()
					}
				}
				g.write(rng.IntN(6<<10), rng.IntN(2) == 0)
				for i, fl := range fls {
					shown[i] = append(shown[i], fl.next()...)
					if rng.IntN(3) == 0 {
						compareBytes(t, fmt.Sprintf("round %d: %s re-read", round, allViews[i].name), readAllAt(t, fl.f, fl.f.Size(), 1+rng.IntN(5000)), shown[i])
					}
				}
			}
			g.write(0, false) // complete the partial lines
			for i, fl := range fls {
				shown[i] = append(shown[i], fl.next()...)
			}

			fresh := d.open()
			for i, nv := range allViews {
				want := snap(t, fresh, nv.v)
				switch nv.v.Format {
				case FormatRaw:
					compareBytes(t, nv.name+": followed vs snapshot", shown[i], want)
				case FormatText:
					got, w := splitLines(shown[i]), splitLines(want)
					slices.Sort(got)
					slices.Sort(w)
					if !slices.Equal(got, w) {
						t.Errorf("%s: followed %d lines, snapshot %d, not the same multiset", nv.name, len(got), len(w))
					}
				case FormatJSON:
					if got, w := entryKeys(parseJSONL(t, shown[i])), entryKeys(parseJSONL(t, want)); !slices.Equal(got, w) {
						t.Errorf("%s: followed %d entries, snapshot %d, not the same set", nv.name, len(got), len(w))
					}
				}
			}

			js := parseJSONL(t, shown[1]) // merged.jsonl
			for range 15 {
				k := rng.IntN(len(js))
				got, err := resumeAfter(t, sb, ViewMergedJSON, js[k].Cursor)
				if err != nil {
					t.Fatal(err)
				}
				if g, w := entryKeys(parseJSONL(t, got)), entryKeys(js[k+1:]); !slices.Equal(g, w) {
					t.Errorf("after followed entry %d of %d: %d entries, want %d", k, len(js), len(g), len(w))
				}
			}
		})
	}
}
