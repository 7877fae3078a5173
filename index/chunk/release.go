package chunk

/*
#include <stddef.h>

// malloc_trim is glibc's; declared weak so that a C library without it
// links and the call is skipped.
extern int malloc_trim(size_t pad) __attribute__((weak));

static void codemux_release_c_memory(void) {
	if (malloc_trim) {
		malloc_trim(0);
	}
}
*/
import "C"

// When to hand the C heap's free memory back to the operating system.
// tree-sitter allocates a tree of a few hundred bytes per source line with
// malloc; when the tree is freed, glibc keeps the memory in its arenas (one
// per thread that parsed), where it stays resident: chunking GOROOT/src on
// two goroutines left 32 MiB free but resident in the C heap with 1 MiB in
// use, and trimming took the process's anonymous memory from 43 to 12 MiB.
//
// Trimming is not free: it walks every arena, and the pages it returns are
// faulted in again by the next parses. Trimming after every file of 64 KiB
// or more (205 files of GOROOT/src) cost a cold index of that tree 2 s of
// its 16 s of CPU. So a Chunker trims after a file of trimAfterBytes or
// more, whose tree would otherwise stay resident, and after every
// trimEveryBytes of source parsed since its last trim, which bounds what
// the trees of smaller files leave behind.
const (
	trimAfterBytes = 512 << 10
	trimEveryBytes = 8 << 20
)

// releaseCMemory returns the free memory of the C heap to the operating
// system (malloc_trim), where the C library can.
func releaseCMemory() { C.codemux_release_c_memory() }
