package walk

import (
	"bytes"
	"path"
	"regexp"
	"strings"
)

// SniffLen is how much of a file's head Classify needs to see: binary
// detection looks for a NUL byte in this prefix, as git does.
const SniffLen = 8 << 10

// binaryExts are extensions (lower case) of files that are never source text.
var binaryExts = func() map[string]bool {
	m := make(map[string]bool)
	for _, e := range strings.Fields(`
		.png .jpg .jpeg .gif .bmp .ico .icns .webp .tif .tiff .psd .heic .avif .svgz
		.mp3 .mp4 .m4a .wav .ogg .oga .flac .aac .mov .avi .mkv .webm .wmv
		.zip .tar .gz .tgz .bz2 .xz .zst .lz4 .7z .rar .jar .war .ear .whl .egg .gem .nupkg
		.deb .rpm .apk .aab .ipa .dmg .iso .img .msi .cab
		.so .dll .dylib .exe .o .obj .a .lib .ko .class .pyc .pyo .pyd .wasm .dex .beam
		.ttf .otf .woff .woff2 .eot
		.pdf .doc .docx .xls .xlsx .ppt .pptx .odt .ods .odp .epub
		.db .sqlite .sqlite3 .mdb .pkl .pickle .npy .npz .parquet .avro .orc .feather .arrow
		.onnx .pt .pth .ckpt .safetensors .h5 .hdf5 .tflite .pb .gguf
		.syso .pprof`) {
		m[e] = true
	}
	return m
}()

// lockfiles are dependency lock files: machine-written, large and of no use
// to a search over code.
var lockfiles = map[string]bool{
	"package-lock.json": true, "npm-shrinkwrap.json": true, "yarn.lock": true,
	"pnpm-lock.yaml": true, "bun.lockb": true, "bun.lock": true, "go.sum": true,
	"go.work.sum": true, "Cargo.lock": true, "Gemfile.lock": true, "poetry.lock": true,
	"Pipfile.lock": true, "uv.lock": true, "composer.lock": true, "mix.lock": true,
	"pubspec.lock": true, "packages.lock.json": true, "flake.lock": true,
	"Podfile.lock": true, "gradle.lockfile": true, "deno.lock": true,
}

// classifyName skips files by name alone: lock files, known binary
// extensions, minified bundles and source maps.
func classifyName(rel string) (skip bool, reason string) {
	name := path.Base(rel)
	if lockfiles[name] {
		return true, ReasonLockfile
	}
	lower := strings.ToLower(name)
	ext := path.Ext(lower)
	switch {
	case binaryExts[ext]:
		return true, ReasonBinary
	case ext == ".map" && (strings.HasSuffix(lower, ".js.map") || strings.HasSuffix(lower, ".css.map")):
		return true, ReasonGenerated
	case strings.HasSuffix(lower, ".min.js") || strings.HasSuffix(lower, ".min.css") || strings.HasSuffix(lower, ".min.mjs"):
		return true, ReasonMinified
	}
	return false, ""
}

// goGenerated is the Go convention for generated files
// (https://go.dev/s/generatedcode).
var goGenerated = regexp.MustCompile(`^// Code generated .* DO NOT EDIT\.$`)

// Minified-text thresholds: over a head of at least minMinifiedHead bytes,
// lines average more than maxMeanLine bytes, or a .js/.css head has a line
// longer than maxScriptLine.
const (
	minMinifiedHead = 2 << 10
	maxMeanLine     = 500
	maxScriptLine   = 4 << 10
	headerLines     = 50 // lines searched for a generated-file marker
)

// Classify decides from a file's name, its first bytes and its size whether
// the file is left out of the index: lock and binary files by name (as Walk
// does), empty files, binary content (a NUL byte in the first SniffLen
// bytes), generated files (Go's "// Code generated … DO NOT EDIT." line or an
// @generated marker in the header comment) and minified text. head should
// hold at least the first SniffLen bytes of the file, or all of it if it is
// smaller.
func Classify(rel string, head []byte, size int64) (skip bool, reason string) {
	if skip, reason := classifyName(rel); skip {
		return true, reason
	}
	if size == 0 {
		return true, ReasonEmpty
	}
	if bytes.IndexByte(head[:min(len(head), SniffLen)], 0) >= 0 {
		return true, ReasonBinary
	}
	if generatedHeader(head) {
		return true, ReasonGenerated
	}
	if minified(rel, head) {
		return true, ReasonMinified
	}
	return false, ""
}

// generatedHeader looks for a generated-file marker in the comment lines at
// the top of head, stopping at the first line of code (the Go convention
// puts the marker before the package clause).
func generatedHeader(head []byte) bool {
	rest := head
	for n := 0; n < headerLines && len(rest) > 0; n++ {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if goGenerated.Match(line) {
			return true
		}
		trimmed := bytes.TrimSpace(line)
		if len(trimmed) == 0 {
			continue
		}
		if !commentLine(trimmed) {
			return false
		}
		if bytes.Contains(trimmed, []byte("@generated")) {
			return true
		}
		lower := bytes.ToLower(trimmed)
		if bytes.Contains(lower, []byte("generated")) && bytes.Contains(lower, []byte("do not edit")) {
			return true
		}
	}
	return false
}

// commentLine reports whether a trimmed line is a comment (or a shebang, or
// a markup declaration) in one of the common syntaxes.
func commentLine(line []byte) bool {
	for _, p := range []string{"//", "#", "/*", "*", "--", ";", "<!--", "'", "%", "<?xml", `"""`} {
		if bytes.HasPrefix(line, []byte(p)) {
			return true
		}
	}
	return false
}

// minified reports whether head looks like minified or single-line
// machine-written text.
func minified(rel string, head []byte) bool {
	lines := bytes.Count(head, []byte("\n")) + 1
	if len(head) >= minMinifiedHead && len(head)/lines > maxMeanLine {
		return true
	}
	switch strings.ToLower(path.Ext(rel)) {
	case ".js", ".mjs", ".cjs", ".css":
		for rest := head; len(rest) > 0; {
			i := bytes.IndexByte(rest, '\n')
			if i < 0 {
				return len(rest) > maxScriptLine
			}
			if i > maxScriptLine {
				return true
			}
			rest = rest[i+1:]
		}
	}
	return false
}
