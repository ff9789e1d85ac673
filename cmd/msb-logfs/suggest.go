package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// maxSuggestions bounds the names a "did you mean" offers.
const maxSuggestions = 3

// nearest returns the candidates closest to name, at most maxSuggestions,
// closest first: those within an edit distance of a third of name's length
// (at least 1, counting a swap of two neighbours as one edit), and those
// that start with name.
func nearest(name string, candidates []string) []string {
	limit := max(1, len([]rune(name))/3)
	type scored struct {
		name string
		d    int
	}
	var near []scored
	for _, c := range candidates {
		d := editDistance(name, c)
		if d <= limit || (name != "" && strings.HasPrefix(c, name)) {
			near = append(near, scored{c, d})
		}
	}
	slices.SortStableFunc(near, func(a, b scored) int { return a.d - b.d })
	var out []string
	for _, s := range near[:min(len(near), maxSuggestions)] {
		out = append(out, s.name)
	}
	return out
}

// didYouMean is `; did you mean "a" or "b"?`, or "" without suggestions.
func didYouMean(suggestions []string) string {
	if len(suggestions) == 0 {
		return ""
	}
	quoted := make([]string, len(suggestions))
	for i, s := range suggestions {
		quoted[i] = fmt.Sprintf("%q", s)
	}
	return "; did you mean " + strings.Join(quoted, " or ") + "?"
}

// editDistance is the optimal string alignment distance of a and b, in
// runes: insertions, deletions, substitutions and swaps of neighbours.
func editDistance(a, b string) int {
	x, y := []rune(a), []rune(b)
	prev2 := make([]int, len(y)+1)
	prev := make([]int, len(y)+1)
	cur := make([]int, len(y)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(x); i++ {
		cur[0] = i
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(y)]
}

// checkCommand refuses a first argument that is neither a flag nor a
// command of app (help included, once app.Setup has run), naming the
// nearest commands.
func checkCommand(app *cli.App, args []string) error {
	if len(args) < 2 || strings.HasPrefix(args[1], "-") || app.Command(args[1]) != nil {
		return nil
	}
	var names []string
	for _, c := range app.Commands {
		if !c.Hidden {
			names = append(names, c.Names()...)
		}
	}
	return usageError(fmt.Errorf("unknown command %q%s (see %s --help)", args[1], didYouMean(nearest(args[1], names)), app.Name))
}
