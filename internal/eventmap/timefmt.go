package eventmap

import "time"

// formatTimestamp renders a protobuf Timestamp the way protojson (and so
// Tetragon's JSON export) does: RFC 3339 in UTC with 0, 3, 6 or 9 fractional
// digits. Values therefore compare equal, as strings, to the original line.
func formatTimestamp(secs int64, nanos int32) string {
	var buf [40]byte
	return string(appendTimestamp(buf[:0], secs, nanos))
}

// appendTimestamp appends RFC 3339 in UTC with 0, 3, 6 or 9 fraction digits,
// as protojson writes timestamps.
func appendTimestamp(b []byte, secs int64, nanos int32) []byte {
	b = time.Unix(secs, int64(nanos)).UTC().AppendFormat(b, "2006-01-02T15:04:05.000000000")
	n := len(b)
	switch {
	case nanos == 0:
		n -= 10 // ".000000000"
	case nanos%1000000 == 0:
		n -= 6
	case nanos%1000 == 0:
		n -= 3
	}
	return append(b[:n], 'Z')
}

func timeOf(secs int64, nanos int32) time.Time { return time.Unix(secs, int64(nanos)) }
