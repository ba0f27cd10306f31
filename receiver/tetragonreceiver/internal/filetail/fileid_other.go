// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

//go:build !unix

package filetail

import "os"

// Tetragon runs on Linux only; following rotation needs inode numbers.
const supported = false

func idOf(os.FileInfo) (fileID, bool) { return fileID{}, false }
