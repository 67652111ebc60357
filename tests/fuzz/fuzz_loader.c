/*
 * fuzz_loader.c - libFuzzer harness for the loaders, built once per group
 * of input kinds (FUZZ_KIND_FIRST..FUZZ_KIND_LAST of enum rm_input_kind):
 * statistics files; IANA's CSV registries; holder names, NIR ids and
 * operator labels (FUZZ_KIND_SKIP: a kind in the range left out).  FUZZ_HEADER is a first line that
 * makes the detector pick the group's first loader; it is put in front of inputs the detector would
 * not give to the group, so that the mutations exercise the loaders' bodies.  FUZZ_BASE, when
 * defined, is a fixed statistics file loaded first, so that holder names and labels have records to
 * join and override.  The build is resolved (conflicts, precedence, the model), strict when the
 * input's length is even and lenient when odd; messages go nowhere.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loaders.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;
	if (!sink && !(sink = fopen("/dev/null", "w")))
		abort();
	static const char header[] = FUZZ_HEADER;
	int kind = rl_detect((const char *)data, size);
	int ours = kind >= FUZZ_KIND_FIRST && kind <= FUZZ_KIND_LAST;
#ifdef FUZZ_KIND_SKIP
	ours = ours && kind != FUZZ_KIND_SKIP;
#endif
	size_t hlen = ours ? 0 : sizeof(header) - 1;
	char *p = malloc(hlen + size + 1);
	if (!p)
		abort();
	memcpy(p, header, hlen);
	memcpy(p + hlen, data, size);
	struct rl_options o = {.lenient = size & 1, .diag = sink, .max_messages = 5};
	struct rl_build *b = rl_build_new(&o);
#ifdef FUZZ_BASE
	static const char base[] = FUZZ_BASE;
	rl_build_add_buffer(b, "base", base, sizeof(base) - 1);
#endif
	rl_build_add_buffer(b, "fuzz", p, hlen + size);
	struct rm_model *m = rl_build_finish(b);
	rl_build_free(b);
	if (m)
		rm_model_free(m);
	free(p);
	return 0;
}
