package eventmap

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/jsonl"
)

// sharedDir returns ../shared/tetragon-events relative to the repository root
// (the directory holding go.mod). The corpus is required: a missing folder
// fails the test instead of skipping it.
func sharedDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
	shared := filepath.Join(dir, "..", "shared", "tetragon-events")
	if st, err := os.Stat(shared); err != nil || !st.IsDir() {
		tb.Fatalf("Tetragon event corpus missing at %s (it must sit beside the repository): %v", shared, err)
	}
	return shared
}

type corpusLine struct {
	file string
	num  int // 1-based
	data []byte
}

// readCorpus returns every non-empty line of the files matching pattern
// (relative to the shared folder), gunzipping *.gz. It fails when nothing matches.
func readCorpus(tb testing.TB, pattern string) []corpusLine {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(sharedDir(tb), pattern))
	if err != nil {
		tb.Fatal(err)
	}
	if len(files) == 0 {
		tb.Fatalf("no corpus files match %s", pattern)
	}
	sort.Strings(files)
	var out []corpusLine
	for _, f := range files {
		err := jsonl.Each(f, func(num int, line []byte) error {
			out = append(out, corpusLine{file: filepath.Base(f), num: num, data: bytes.Clone(line)})
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	return out
}
