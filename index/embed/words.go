package embed

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
