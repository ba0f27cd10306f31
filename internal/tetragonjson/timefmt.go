// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonjson

import "time"

// FormatTimestamp renders a protobuf Timestamp the way protojson (and so
// Tetragon's JSON export) does: RFC 3339 in UTC with 0, 3, 6 or 9 fractional
// digits. Values therefore compare equal, as strings, to the original line.
func FormatTimestamp(secs int64, nanos int32) string {
	var buf [40]byte
	return string(AppendTimestamp(buf[:0], secs, nanos))
}

// AppendTimestamp appends RFC 3339 in UTC with 0, 3, 6 or 9 fraction digits,
// as protojson writes timestamps. Within protojson's range (years 1 to 9999)
// it computes the civil date itself, several times faster than
// time.AppendFormat (a large event carries dozens of timestamps).
func AppendTimestamp(b []byte, secs int64, nanos int32) []byte {
	if secs < minTimestampSeconds || secs > maxTimestampSeconds || nanos < 0 || nanos > 999999999 {
		return appendTimestampSlow(b, secs, nanos)
	}
	days, sod := secs/86400, secs%86400
	if sod < 0 {
		days, sod = days-1, sod+86400
	}
	// Civil date from days since 1970-01-01 (H. Hinnant's days_from_civil
	// inverse); non-negative throughout from year 1 on.
	z := days + 719468
	era := z / 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if mp >= 10 {
		m = mp - 9
		y++
	}
	b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10), 'T',
		byte('0'+sod/36000), byte('0'+sod/3600%10), ':',
		byte('0'+sod%3600/600), byte('0'+sod%3600/60%10), ':',
		byte('0'+sod%60/10), byte('0'+sod%10))
	if nanos != 0 {
		digits := 9
		switch {
		case nanos%1000000 == 0:
			digits, nanos = 3, nanos/1000000
		case nanos%1000 == 0:
			digits, nanos = 6, nanos/1000
		}
		b = append(b, '.')
		n := len(b)
		b = append(b, "000000000"[:digits]...)
		for i := n + digits - 1; nanos > 0; i-- {
			b[i] = byte('0' + nanos%10)
			nanos /= 10
		}
	}
	return append(b, 'Z')
}

func appendTimestampSlow(b []byte, secs int64, nanos int32) []byte {
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
