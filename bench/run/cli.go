package main

import (
	"context"
	"os/exec"
)

// jqProgram selects the stdout chunks' data. -R with fromjson?: the corpus
// holds malformed lines on purpose, and plain `jq 'select(…)'` stops at
// the first one.
const jqProgram = `fromjson? | select(.s == "stdout") | .d`

// cli times `msb-logfs logs` against cat and jq of the same exec files.
func (b *bench) cli(ctx context.Context) error {
	chain, execBytes, err := b.execChain()
	if err != nil {
		return err
	}
	_, allBytes, err := b.logFiles()
	if err != nil {
		return err
	}
	b.catSecs = b.timedRow(ctx, "cat exec.log* (reference)", execBytes, nil, append([]string{"cat"}, chain...)...)
	if _, err := exec.LookPath("jq"); err != nil {
		b.t.Note("jq not installed: no jq reference")
	} else {
		b.jqSecs = b.timedRow(ctx, "jq stdout (reference)", execBytes, nil,
			append([]string{"jq", "-R", "-j", jqProgram}, chain...)...)
	}
	bin := b.bins["msb-logfs"]
	b.timedRow(ctx, "logs --source stdout", execBytes, speed(b.jqSecs, "jq's speed"),
		bin, "logs", "--home", b.home, "--source", "stdout", bigName)
	b.timedRow(ctx, "logs --source all --timestamps", allBytes, speed(b.jqSecs, "jq's speed"),
		bin, "logs", "--home", b.home, "--source", "all", "--timestamps", bigName)
	return nil
}
