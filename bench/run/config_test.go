package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestConfigDefaultsFromEnvironment(t *testing.T) {
	t.Setenv("BENCH_ONLY", "walk, cli")
	t.Setenv("BENCH_WALK_SANDBOXES", "500")
	t.Setenv("BENCH_TIMEOUT", "90")
	t.Setenv("BENCH_SCALE_IDLE", "5s")
	t.Setenv("MSB_LOGFS_OTELCOL", "/opt/otelcol")
	c, err := parseConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.only, []string{"walk", "cli"}) || c.walkSandboxes != 500 || c.timeout != 90*time.Second || c.scaleIdle != 5*time.Second {
		t.Errorf("only %v, walk %d, timeout %v, idle %v", c.only, c.walkSandboxes, c.timeout, c.scaleIdle)
	}
	if c.otelcol != "/opt/otelcol" {
		t.Errorf("otelcol %q from $MSB_LOGFS_OTELCOL", c.otelcol)
	}
	if c.sizeBytes != 200<<20 || c.scaleSandboxes != 10000 || c.nofile != 1024 {
		t.Errorf("defaults: size %d, scale %d, nofile %d", c.sizeBytes, c.scaleSandboxes, c.nofile)
	}
	c, err = parseConfig([]string{"-walk-sandboxes", "300", "-only", "engine,ship"})
	if err != nil {
		t.Fatal(err)
	}
	if c.walkSandboxes != 300 || !c.has("engine") || !c.has("ship") || c.has("walk") {
		t.Errorf("flags over the environment: walk %d, only %v", c.walkSandboxes, c.only)
	}
}

func TestConfigRefusesBadValues(t *testing.T) {
	for _, c := range []struct {
		env, val string
		args     []string
		want     string
	}{
		{"BENCH_ONLY", "walk,nope", nil, `unknown part "nope"`},
		{"BENCH_ONLY", "", []string{"-only", ""}, `unknown part ""`},
		{"BENCH_WALK_SANDBOXES", "many", nil, "want a whole number"},
		{"BENCH_SCALE_IDLE", "soon", nil, "want a duration"},
		{"BENCH_SIZE", "-5MiB", nil, "want a size"},
		{"", "", []string{"-walk-stats", "3000"}, "-walk-stats 3000: want 1 to 2000"},
		{"", "", []string{"-nofile", "10"}, "-nofile 10: want 64"},
		{"", "", []string{"-scale-sandboxes", "-1"}, "-scale-sandboxes -1"},
		{"", "", []string{"-timeout", "0s"}, "-timeout 0s"},
		{"", "", []string{"stray"}, "unexpected arguments"},
	} {
		if c.env != "" {
			t.Setenv(c.env, c.val)
		}
		_, err := parseConfig(c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s=%q %v: err = %v, want %q", c.env, c.val, c.args, err, c.want)
		}
		if c.env != "" {
			t.Setenv(c.env, "")
		}
	}
}
