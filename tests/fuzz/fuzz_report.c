/*
 * fuzz_report.c - libFuzzer harness for `rirdb report`'s reader: the JSON
 * Lines record reader (rm_record_read_json) and everything the report does
 * with the lines it takes (the aggregates, the coarsening, the HTML page).
 *
 * An input is a JSON Lines file.  Each line is first copied into a heap
 * block of exactly its length and read on its own, so that
 * AddressSanitizer sees a read past its NUL (getline's buffer, larger than
 * the line, would hide one); a line the reader takes must have left every
 * text field NUL-terminated inside its buffer, and one it refuses must say
 * why.  Then the whole input goes through rirdb_report() from a memfd,
 * the page written to /dev/null.  The report's own complaints about bad
 * lines go to a stderr FILE that is /dev/null, so that a long run does
 * not fill the log; libFuzzer and the sanitizers write to fd 2 directly.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "record.h"
#include "rirdb.h"

static void read_one(const uint8_t *line, size_t n)
{
	char *copy = malloc(n + 1);
	if (!copy)
		abort();
	memcpy(copy, line, n);
	copy[n] = '\0';
	struct rm_record_buf b;
	if (rm_record_read_json(copy, &b) == 0) {
		for (int f = 0; f < RM_F_N; f++)
			if (!memchr(b.text[f], '\0', sizeof(b.text[f])))
				abort();
	} else if (!b.why[0] || !memchr(b.why, '\0', sizeof(b.why))) {
		abort();
	}
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	if (size > 1 << 20)
		return 0;
	if (fd < 0) {
		FILE *null = fopen("/dev/null", "w");
		if (!null || (fd = memfd_create("fuzz_report", 0)) < 0)
			abort();
		stderr = null;
	}
	for (size_t i = 0; i < size;) {
		const uint8_t *nl = memchr(data + i, '\n', size - i);
		size_t n = nl ? (size_t)(nl - (data + i)) : size - i;
		read_one(data + i, n);
		i += n + 1;
	}
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	char *argv[] = {"report", "-o", "/dev/null", path, NULL};
	optind = 0; /* getopt starts over, as for a new process */
	int rc = rirdb_report(4, argv);
	if (rc != 0 && rc != 1)
		abort();
	return 0;
}
