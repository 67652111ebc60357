/* fuzz_stats.c - the statistics-file loader (see fuzz_loader.c). */
#define FUZZ_KIND_FIRST RM_IN_STATS
#define FUZZ_KIND_LAST	RM_IN_STATS
#define FUZZ_HEADER	"2|ripencc|20140630|3|19830705|20140630|+0100\n"
#include "fuzz_loader.c"
