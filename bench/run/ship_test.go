package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/bench/internal/table"
)

// shipKV is bench/ship's -kv output of a run that met every goal but MB/s.
func shipKV() kv {
	return kv{
		"once_s": "4.000", "once_records": "1200000", "once_records_per_s": "300000",
		"once_log_bytes": "200000000", "once_mb_per_s": "50.0", "once_hwm_kib": "51200", "once_max_fds": "20",
		"once_ref_logs_json_s": "0.500", "once_vs_logs_json": "8.00",
		"collector_s": "8.000", "collector_mb_per_s": "25.0", "collector_hwm_kib": "47104",
		"many_sandboxes": "2000", "many_shipped_s": "30.00", "many_hwm_kib": "60000",
		"many_rss_kib_following": "56320", "many_fds_following": "13", "many_max_fds": "19",
	}
}

func rowNamed(t *testing.T, tb *table.Table, name string) table.Row {
	t.Helper()
	for _, r := range tb.Rows() {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no row %q in %+v", name, tb.Rows())
	return table.Row{}
}

func notesWith(tb *table.Table, s string) int {
	n := 0
	for _, note := range tb.Notes() {
		if strings.Contains(note, s) {
			n++
		}
	}
	return n
}

func TestShipRowsFromFigures(t *testing.T) {
	b := &bench{}
	if b.shipRows(shipKV(), nil) || b.t.Failed() != 0 {
		t.Fatalf("failed rows from complete figures: %v", b.t.Notes())
	}
	once := rowNamed(t, &b.t, "ship --once into a decoding sink")
	if once.Secs != 4 || once.Bytes != 200e6 || once.RSSKiB != 51200 || once.Ratio != "8.00x logs --json, 0.50x goal's" {
		t.Errorf("once row %+v", once)
	}
	if ref := rowNamed(t, &b.t, "logs --json --source all (reference)"); ref.Secs != 0.5 || ref.Bytes != 200e6 {
		t.Errorf("reference row %+v", ref)
	}
	if per := rowNamed(t, &b.t, "ship --once: per record"); per.Secs != 1.0/300000 || per.Ratio != "3.00x goal's speed" {
		t.Errorf("per-record row %+v", per)
	}
	if col := rowNamed(t, &b.t, "ship --once into the Collector"); col.Secs != 8 || col.Ratio != "2.00x sink" || col.RSSKiB != 47104 {
		t.Errorf("Collector row %+v", col)
	}
	if many := rowNamed(t, &b.t, "ship following 2000 sandboxes: RSS"); many.RSSKiB != 56320 || many.Ratio != "0.86x 64 MiB goal, 13 fds" {
		t.Errorf("many row %+v", many)
	}
	if notesWith(&b.t, "below the MB/s goal") != 1 || notesWith(&b.t, "records/s goal") != 0 {
		t.Errorf("goal notes: %q", b.t.Notes())
	}
	if notesWith(&b.t, "above the 64 MiB goal") != 0 || notesWith(&b.t, "per sandbox known") != 0 {
		t.Errorf("many goal notes for figures within the goals: %q", b.t.Notes())
	}
}

func TestShipRowsMissedGoals(t *testing.T) {
	k := shipKV()
	k["once_records_per_s"] = "90000"
	k["many_rss_kib_following"] = "70000"
	k["many_fds_following"] = "2005"
	b := &bench{}
	b.shipRows(k, nil)
	for _, want := range []string{"below the records/s and MB/s goal", "RSS 68.4 MiB, above the 64 MiB goal", "2005 descriptors, one or more per sandbox known"} {
		if notesWith(&b.t, want) != 1 {
			t.Errorf("no note %q in %q", want, b.t.Notes())
		}
	}
}

func TestShipRowsFailedSteps(t *testing.T) {
	k := shipKV()
	delete(k, "collector_s")
	delete(k, "many_rss_kib_following")
	b := &bench{}
	if !b.shipRows(k, errors.New("exit status 1")) || b.t.Failed() != 2 {
		t.Fatalf("failed rows: %d, notes %q", b.t.Failed(), b.t.Notes())
	}
	if notesWith(&b.t, "ship --once into the Collector: FAILED: no figures: exit status 1") != 1 ||
		notesWith(&b.t, "ship following many sandboxes: FAILED") != 1 {
		t.Errorf("failure notes: %q", b.t.Notes())
	}
	rowNamed(t, &b.t, "ship --once into a decoding sink")

	b = &bench{}
	if b.shipRows(kv{"collector": "skipped"}, errors.New("exit status 1")); b.t.Failed() != 2 {
		t.Errorf("no figures but a skipped Collector: %d failed rows, want 2 (once, many)", b.t.Failed())
	}
}

func TestOtelcolPath(t *testing.T) {
	dir := t.TempDir()
	exe, plain := filepath.Join(dir, "otelcol"), filepath.Join(dir, "plain")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(plain, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{exe, ""}, {plain, "not an executable file"}, {dir, "not an executable file"},
		{filepath.Join(dir, "absent"), "no such file"},
	} {
		b := &bench{cfg: &config{otelcol: c.path, timeout: time.Minute}}
		got, err := b.otelcol(context.Background())
		switch {
		case c.want == "" && (err != nil || got != exe):
			t.Errorf("%s: %q, %v", c.path, got, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: err %v, want %q", c.path, err, c.want)
		}
	}
}
