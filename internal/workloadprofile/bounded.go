// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package workloadprofile

// bounded is a set with a cap: add beyond it counts an overflow instead of
// growing, so that a noisy workload (a build container, a shell session)
// cannot grow a profile without bound, and the loss is visible in metrics.
type bounded[T comparable] struct {
	m        map[T]struct{}
	overflow int
}

func (s *bounded[T]) has(v T) bool {
	_, ok := s.m[v]
	return ok
}

// add inserts v unless the set holds max items (max < 0: no cap); it
// reports whether v was inserted.
func (s *bounded[T]) add(v T, max int) bool {
	if max >= 0 && len(s.m) >= max {
		s.overflow++
		return false
	}
	if s.m == nil {
		s.m = make(map[T]struct{})
	}
	s.m[v] = struct{}{}
	return true
}

func (s *bounded[T]) len() int { return len(s.m) }

func (s *bounded[T]) reset() { s.m, s.overflow = nil, 0 }

func (s *bounded[T]) items() []T {
	out := make([]T, 0, len(s.m))
	for v := range s.m {
		out = append(out, v)
	}
	return out
}
