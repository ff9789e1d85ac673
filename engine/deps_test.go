package engine

import (
	"go/build"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// depsRules is the import order of the engine's packages, in the style of
// go/build's deps_test.go: "a, b < c" means c may import a and b, and
// everything they may import. A package under engine/ that the rules do
// not name, or an import between the module's packages that they do not
// allow, fails TestDependencies. Test files are not checked.
const depsRules = `
	logline < chain, render;
	cache, chain, render < index;
	index < engine;
	chain < testutil;
`

// modulePath is the import path prefix of this module's packages.
const modulePath = "github.com/microsandbox/msb-logfs/"

// enginePath returns the import path of a package named in depsRules.
func enginePath(name string) string {
	if name == "engine" {
		return modulePath + "engine"
	}
	return modulePath + "engine/internal/" + name
}

// parseDepsRules returns, for each package named in rules, the set of
// packages it may import.
func parseDepsRules(t *testing.T, rules string) map[string]map[string]bool {
	t.Helper()
	type rule struct{ below, above []string }
	var list []rule
	isAbove := map[string]bool{}
	for _, text := range strings.Split(rules, ";") {
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		lo, hi, ok := strings.Cut(text, "<")
		r := rule{names(lo), names(hi)}
		if !ok || len(r.below) == 0 || len(r.above) == 0 {
			t.Fatalf("depsRules: %q is not \"a, b < c\"", text)
		}
		for _, a := range r.above {
			if isAbove[a] {
				t.Fatalf("depsRules: %s is above < twice", a)
			}
			isAbove[a] = true
		}
		list = append(list, r)
	}
	allowed := map[string]map[string]bool{}
	for _, r := range list {
		for _, b := range r.below {
			if allowed[b] == nil && isAbove[b] {
				t.Fatalf("depsRules: %s is used below before its own rule", b)
			}
			if allowed[b] == nil {
				allowed[b] = map[string]bool{} // a leaf
			}
		}
		for _, a := range r.above {
			allowed[a] = map[string]bool{}
			for _, b := range r.below {
				allowed[a][enginePath(b)] = true
				for dep := range allowed[b] {
					allowed[a][dep] = true
				}
			}
		}
	}
	byPath := map[string]map[string]bool{}
	for name, deps := range allowed {
		byPath[enginePath(name)] = deps
	}
	return byPath
}

func names(list string) []string {
	var out []string
	for _, n := range strings.Split(list, ",") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// enginePackages returns the import paths and directories of the packages
// in and under the engine directory (testdata excluded).
func enginePackages(t *testing.T) map[string]string {
	t.Helper()
	pkgs := map[string]string{}
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if _, err := build.ImportDir(path, 0); err != nil {
			return nil // no Go files
		}
		ip := modulePath + "engine"
		if path != "." {
			ip += "/" + filepath.ToSlash(path)
		}
		pkgs[ip] = path
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

// TestDependencies checks every import between the module's packages made
// by the engine's packages against depsRules. Imports of the module's
// packages outside engine are not part of its order.
func TestDependencies(t *testing.T) {
	allowed := parseDepsRules(t, depsRules)
	pkgs := enginePackages(t)
	if len(pkgs) == 0 {
		t.Fatal("found no engine package")
	}
	var paths []string
	for p := range pkgs {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		deps, listed := allowed[p]
		if !listed {
			t.Errorf("%s: not named in depsRules", p)
			continue
		}
		bp, err := build.ImportDir(pkgs[p], 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range bp.Imports {
			if strings.HasPrefix(imp, modulePath+"engine") && !deps[imp] {
				t.Errorf("%s imports %s: depsRules does not allow it", p, imp)
			}
		}
	}
}

// TestDepsRulesCatch checks that the rules refuse an upward import and
// name only the packages they list.
func TestDepsRulesCatch(t *testing.T) {
	allowed := parseDepsRules(t, depsRules)
	cases := []struct {
		from, to string
		ok       bool
	}{
		{"engine", "logline", true},
		{"index", "logline", true},
		{"index", "chain", true},
		{"chain", "logline", true},
		{"logline", "chain", false},
		{"chain", "render", false},
		{"render", "chain", false},
		{"render", "index", false},
		{"index", "cache", true},
		{"cache", "index", false},
		{"cache", "logline", false},
		{"index", "engine", false},
	}
	for _, c := range cases {
		if got := allowed[enginePath(c.from)][enginePath(c.to)]; got != c.ok {
			t.Errorf("%s may import %s: %v, want %v", c.from, c.to, got, c.ok)
		}
	}
	if _, ok := allowed[enginePath("cursorfs")]; ok {
		t.Error("a package the rules do not name is allowed")
	}
}
