package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"github.com/codemux/codemux/index/boltfile"
)

// SchemaVersion is the layout of the buckets and records in the index file.
// A file with any other version is refused with ErrSchema; the caller moves it
// aside and reindexes from scratch.
//
// History:
//
//	1: initial layout. Buckets meta, files, chunks, vectors, snapshots.
//	   Chunk IDs are a uint32 sequence of the chunks bucket; chunk text is
//	   stored once, flate-compressed when that helps; vectors are int8 with a
//	   float32 scale, keyed by a 16-byte text hash and reference-counted by
//	   chunks; meta "generation" counts writes that change chunks, and a
//	   snapshot is valid only for the generation it was written at.
//	2: bucket texts holds each file's chunk texts as one compressed stream
//	   (flate, best compression); chunk records hold an offset and length
//	   into it instead of their own text. The index file shrinks by about
//	   a third and loading it reads a tenth of the chunk bytes.
//	3: vectors are 4-bit (two components a byte) with a float32 scale
//	   that may clip the largest components, instead of int8 (the index
//	   file shrinks by 8 MB on the Go tree); texts and snapshots are
//	   compressed at flate level 4 instead of 9 (a fifth of the CPU).
//	4: texts are raw deflate from klauspost/compress at level 4 (1.8 times
//	   as fast to compress as compress/flate at level 4, 4% larger) with
//	   a CRC-32C of the raw text, so a garbled record is an error rather
//	   than wrong text; encodings 2 (raw) and 3 (deflate) replace 0 and 1.
//	   Snapshots are generation, raw length and one checksummed zstd
//	   frame (SpeedDefault) instead of raw deflate: half the CPU or less,
//	   3% smaller, and decoded about five times as fast.
const SchemaVersion = 4

// magic identifies a bbolt file as a codemux index.
const magic = "codemux-index"

// Bucket and meta key names.
var (
	bucketMeta    = boltfile.BucketMeta
	bucketFiles   = []byte("files")
	bucketChunks  = []byte("chunks")
	bucketVectors = []byte("vectors")
	bucketTexts   = []byte("texts")
	// bucketSnapshots holds derived data (such as a serialised in-memory
	// index) keyed by name: generation (8 bytes, big-endian), raw length
	// (uvarint) and one zstd frame of the data.
	bucketSnapshots = []byte("snapshots")

	keyMagic    = boltfile.KeyMagic
	keySchema   = boltfile.KeySchema
	keyEmbedder = []byte("embedder")
	keyRoot     = []byte("root")
	keyCreated  = []byte("created")
	keyGen      = []byte("generation")
)

var dataBuckets = [][]byte{bucketFiles, bucketChunks, bucketTexts, bucketVectors, bucketSnapshots}

var (
	// ErrCorrupt reports a file that is damaged or is not a codemux index.
	// Recreate moves such a file aside and starts an empty index.
	ErrCorrupt = errors.New("index file is corrupt or not a codemux index")

	// ErrSchema reports an index written with a schema version this build
	// does not read. Recreate moves it aside; the caller then reindexes.
	ErrSchema = errors.New("index file has an unknown schema version")

	// ErrFull reports a write refused because the file reached
	// Options.MaxBytes or the disk is full. Nothing was changed.
	ErrFull = errors.New("index file is full")

	// ErrLocked reports an index file held open by another process.
	ErrLocked = errors.New("index is in use by another codemux process")
)

// boltErrors wraps the store's sentinel errors for package boltfile.
var boltErrors = boltfile.Errors{What: "index", Corrupt: ErrCorrupt, Schema: ErrSchema, Locked: ErrLocked}

// HashSize is the length of a Hash in bytes.
const HashSize = 16

// Hash identifies content: the first 16 bytes of its SHA-256. Vectors are
// keyed by the Hash of the embedded text, files carry the Hash of their bytes.
type Hash [HashSize]byte

// HashBytes returns the Hash of b.
func HashBytes(b []byte) Hash {
	sum := sha256.Sum256(b)
	return Hash(sum[:HashSize])
}

// HashString returns the Hash of s.
func HashString(s string) Hash {
	sum := sha256.Sum256([]byte(s))
	return Hash(sum[:HashSize])
}

// String returns the hash in hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// File is what the index remembers about one indexed file.
type File struct {
	Rel         string // slash-separated path relative to the workspace root
	Size        int64
	ModTime     int64 // modification time, Unix nanoseconds
	ContentHash Hash
	ChunkIDs    []uint32 // set by the store, in chunk order
}

// Chunk is one searchable piece of a file.
type Chunk struct {
	ID        uint32 // assigned by the store; 0 means "no such chunk"
	Rel       string
	StartLine int // 1-based, inclusive
	EndLine   int // 1-based, inclusive
	StartByte int
	EndByte   int
	Symbol    string
	Kind      string
	Language  string
	TextHash  Hash // key of the chunk's vector; zero means HashString(Text)
	Text      string
}

// FileUpdate replaces one file wholly: its old chunks are deleted and Chunks
// are inserted with new IDs.
type FileUpdate struct {
	File   File // ChunkIDs is ignored
	Chunks []Chunk
	// Vectors holds embeddings for text hashes of Chunks. A chunk whose hash
	// is absent here keeps the vector already stored for that hash, if any.
	Vectors map[Hash][]float32

	enc *encoded // set by Store.Encode
}

// Change reports what one file update did to the chunk IDs, so in-memory
// engines can follow.
type Change struct {
	Rel     string
	Removed []uint32 // IDs that no longer exist
	Added   []uint32 // IDs of the new chunks, in the order given
}
