// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package rules

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ExpandLists replaces every @name outside string literals with the OTTL list
// literal of lists[name].
func ExpandLists(cond string, lists map[string][]string) (string, error) {
	if !strings.Contains(cond, "@") {
		return cond, nil
	}
	var b strings.Builder
	inString := false
	for i := 0; i < len(cond); i++ {
		c := cond[i]
		if inString {
			b.WriteByte(c)
			if c == '\\' && i+1 < len(cond) {
				i++
				b.WriteByte(cond[i])
			} else if c == '"' {
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
			b.WriteByte(c)
		case '@':
			j := i + 1
			for j < len(cond) && isIdentByte(cond[j], j == i+1) {
				j++
			}
			name := cond[i+1 : j]
			if name == "" {
				return "", fmt.Errorf("'@' at offset %d is not followed by a list name", i)
			}
			items, ok := lists[name]
			if !ok {
				known := make([]string, 0, len(lists))
				for n := range lists {
					known = append(known, "@"+n)
				}
				sort.Strings(known)
				return "", fmt.Errorf("unknown list @%s (defined lists: %s)", name, strings.Join(known, ", "))
			}
			b.WriteByte('[')
			for k, it := range items {
				if k > 0 {
					b.WriteString(", ")
				}
				b.WriteString(strconv.Quote(it))
			}
			b.WriteByte(']')
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

func isIdentByte(c byte, first bool) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (!first && c >= '0' && c <= '9')
}
