package embed

import "encoding/binary"

// isStop reports whether w (lowercase) is a keyword shared by the
// languages we index or an English function word; such words carry no
// meaning for retrieval.
func isStop(w []byte) bool {
	if len(w) > 8 {
		for _, s := range stopWords.long {
			if string(w) == s {
				return true
			}
		}
		return false
	}
	k := pack(w)
	for i := stopSlot(k); ; i = (i + 1) % uint64(len(stopWords.short)) {
		switch stopWords.short[i] {
		case k:
			return true
		case 0:
			return false
		}
	}
}

// pack packs a word of at most 8 bytes into a uint64, little-endian.
// Pieces never contain a zero byte, so distinct words pack distinctly and
// never to zero.
func pack(w []byte) uint64 {
	if len(w) == 8 {
		return binary.LittleEndian.Uint64(w)
	}
	var k uint64
	for i, c := range w {
		k |= uint64(c) << (8 * i)
	}
	return k
}

// stopSlot is the home slot of a packed word in stopWords.short.
func stopSlot(k uint64) uint64 { return (k * 0x9e3779b97f4a7c15) >> (64 - 9) }

// stopWords is the stop list as an open-addressing set of the words of up
// to 8 bytes, packed (zero marks an empty slot), and a list of the longer
// ones. It is read-only after package initialisation.
var stopWords = func() (set struct {
	short [512]uint64
	long  []string
}) {
	words := []string{
		"func", "function", "fn", "def", "var", "let", "const", "return", "if", "else",
		"elif", "for", "while", "do", "switch", "case", "default", "break", "continue",
		"goto", "package", "import", "from", "struct", "class", "interface", "type",
		"public", "private", "protected", "static", "final", "void", "nil", "null",
		"none", "true", "false", "self", "this", "new", "go", "defer", "range", "chan",
		"select", "try", "catch", "finally", "throw", "throws", "pub", "impl", "use",
		"mut", "end", "then", "fi", "esac", "done", "extends", "implements",
		"an", "the", "and", "or", "of", "to", "in", "is", "it", "its", "on",
		"at", "by", "be", "as", "are", "was", "were", "been", "with", "that", "which",
		"who", "whom", "these", "those", "there", "their", "them", "they", "we",
		"you", "your", "our", "he", "she", "his", "her", "has", "have", "had",
		"not", "no", "but", "so", "such", "than", "too", "very", "can", "will",
		"would", "should", "could", "may", "might", "must", "shall", "into", "onto",
		"about", "any", "all", "each", "other", "some", "only", "own", "same",
		"also", "when", "where", "how", "what", "why", "does", "did", "doing",
		"being", "after", "before", "over", "under", "again", "further", "once",
		"here", "both", "few", "more", "most", "just", "now", "up", "out", "off", "down",
	}
	for _, w := range words {
		if len(w) > 8 {
			set.long = append(set.long, w)
			continue
		}
		k := pack([]byte(w))
		i := stopSlot(k)
		for set.short[i] != 0 && set.short[i] != k {
			i = (i + 1) % uint64(len(set.short))
		}
		set.short[i] = k
	}
	return set
}()

// expand returns the full word for a common programming abbreviation of w
// (lowercase), or "" when w is not one.
func expand(w []byte) string {
	switch string(w) {
	case "cfg", "conf":
		return "config"
	case "ctx":
		return "context"
	case "err", "errs":
		return "error"
	case "msg", "msgs":
		return "message"
	case "btn":
		return "button"
	case "idx":
		return "index"
	case "buf", "buff":
		return "buffer"
	case "req":
		return "request"
	case "resp", "res":
		return "response"
	case "conn", "conns":
		return "connection"
	case "str":
		return "string"
	case "num":
		return "number"
	case "init":
		return "initialize"
	case "auth":
		return "authenticate"
	case "db":
		return "database"
	case "fmt":
		return "format"
	case "addr":
		return "address"
	case "arg", "args":
		return "argument"
	case "param", "params":
		return "parameter"
	case "pkg":
		return "package"
	case "dir":
		return "directory"
	case "src":
		return "source"
	case "dst", "dest":
		return "destination"
	case "tmp", "temp":
		return "temporary"
	case "len":
		return "length"
	case "val", "vals":
		return "value"
	case "proc":
		return "process"
	case "env":
		return "environment"
	case "sep":
		return "separator"
	case "opt", "opts":
		return "option"
	case "alloc":
		return "allocate"
	case "info":
		return "information"
	case "iter":
		return "iterator"
	case "prev":
		return "previous"
	case "cur", "curr":
		return "current"
	case "elem", "elems":
		return "element"
	case "ptr":
		return "pointer"
	case "ref":
		return "reference"
	case "max":
		return "maximum"
	case "min":
		return "minimum"
	case "cnt":
		return "count"
	case "pos":
		return "position"
	case "doc":
		return "document"
	case "hdr":
		return "header"
	case "impl":
		return "implementation"
	case "decl":
		return "declaration"
	case "expr":
		return "expression"
	case "stmt":
		return "statement"
	case "ident":
		return "identifier"
	case "typ":
		return "type"
	case "sig":
		return "signature"
	case "priv":
		return "private"
	case "cert":
		return "certificate"
	case "pkt":
		return "packet"
	case "seq":
		return "sequence"
	case "sz":
		return "size"
	case "mu":
		return "mutex"
	case "mgr":
		return "manager"
	case "obj":
		return "object"
	case "attr", "attrs":
		return "attribute"
	case "ch":
		return "channel"
	case "cmd":
		return "command"
	case "gen":
		return "generate"
	case "calc":
		return "calculate"
	case "col":
		return "column"
	case "del":
		return "delete"
	case "dec":
		return "decode"
	case "enc":
		return "encode"
	case "ext":
		return "extension"
	case "rand":
		return "random"
	case "tok":
		return "token"
	case "lit":
		return "literal"
	case "fd":
		return "descriptor"
	case "func", "fn":
		return "function"
	case "repo":
		return "repository"
	case "util":
		return "utility"
	case "abs":
		return "absolute"
	case "tz":
		return "timezone"
	case "ns":
		return "namespace"
	case "dur":
		return "duration"
	case "sched":
		return "scheduler"
	case "gc":
		return "garbage"
	}
	return ""
}
