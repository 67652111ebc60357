/*
 * fuzz_capture.c - libFuzzer harness for the capture reader (capture.h):
 * pcap and pcapng headers, records and blocks, gzip and zstd streams.
 *
 * The input is a capture file, read whole through rm_capture_open_mem and
 * rm_capture_next.  Every frame handed out must lie inside the image the
 * reader holds, which ASan checks as each frame's bytes are summed, and
 * the reader must end (0 or -1), never loop.
 */
#include <stdlib.h>

#include "capture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[768];
	struct rm_capture *c = rm_capture_open_mem(data, size, "fuzz", err, sizeof(err));
	if (!c)
		return 0;
	struct rm_capture_frame f;
	volatile unsigned sum = 0;
	uint64_t frames = 0;
	while (rm_capture_next(c, &f, err, sizeof(err)) == 1) {
		if (f.len < f.caplen)
			abort();
		for (uint32_t i = 0; i < f.caplen; i++)
			sum += f.data[i];
		if (++frames > rm_capture_size(c)) /* each frame takes a byte at least */
			abort();
	}
	rm_capture_close(c);
	(void)sum; /* volatile: every byte read, for ASan to check it lies in the image */
	return 0;
}
