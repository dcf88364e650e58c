package patch

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// pointerToken is key as one RFC 6901 token of a path into the document encoding/json writes:
// "~" and "/" escaped, and each byte that is not UTF-8 replaced by U+FFFD as encoding/json
// replaces it in the key it writes.
func pointerToken(key string) string {
	if plainToken(key) {
		return key
	}
	return string(appendToken(nil, key))
}

func plainToken(key string) bool { return utf8.ValidString(key) && !strings.ContainsAny(key, "~/") }

// appendToken appends pointerToken(key) to dst.
func appendToken(dst []byte, key string) []byte {
	if plainToken(key) {
		return append(dst, key...)
	}
	for i := 0; i < len(key); {
		r, size := utf8.DecodeRuneInString(key[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = utf8.AppendRune(dst, utf8.RuneError)
		case r == '~':
			dst = append(dst, "~0"...)
		case r == '/':
			dst = append(dst, "~1"...)
		default:
			dst = append(dst, key[i:i+size]...)
		}
		i += size
	}
	return dst
}

func appendInt(dst []byte, i int) []byte { return strconv.AppendInt(dst, int64(i), 10) }

// appendString writes s (valid UTF-8: built from pointerToken) as a JSON string, escaped as
// encoding/json escapes it.
func appendString(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}
