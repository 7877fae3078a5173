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

// trimAfterBytes is the source size from which Chunk hands the C heap's
// free memory back to the operating system after parsing. tree-sitter
// allocates a tree of a few hundred bytes per source line with malloc; when
// the tree is freed, glibc keeps the memory in its arenas (one per thread
// that parsed), where it stays resident: chunking GOROOT/src on two
// goroutines left 32 MiB free but resident in the C heap with 1 MiB in use,
// and trimming took the process's anonymous memory from 43 to 12 MiB.
// Below this size a file's tree fits in memory already held, so trimming
// after each file would only cost time.
const trimAfterBytes = 64 << 10

// releaseCMemory returns the free memory of the C heap to the operating
// system (malloc_trim), where the C library can.
func releaseCMemory() { C.codemux_release_c_memory() }
