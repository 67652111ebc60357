/*
 * grow.c - array growth and its out-of-memory policy (grow.h).
 *
 * The array pointer is read and written through memcpy, not as a void *
 * lvalue, because the object it names is a T * of the caller's type.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

int rm_grow(void **v, uint32_t *cap, uint32_t n, size_t more, size_t elem, uint32_t first)
{
	if (more > UINT32_MAX - n)
		return -1;
	uint32_t need = n + (uint32_t)more;
	if (need <= *cap)
		return 0;
	uint32_t c = *cap ? *cap : first ? first : 1;
	while (c < need)
		c = c > UINT32_MAX / 2 ? UINT32_MAX : c * 2;
	if (elem && c > SIZE_MAX / elem)
		return -1;
	void *old, *p;
	memcpy(&old, v, sizeof(old));
	p = realloc(old, (size_t)c * elem);
	if (!p)
		return -1;
	memcpy(v, &p, sizeof(p));
	*cap = c;
	return 0;
}

void rm_grow_or_die(void **v, uint32_t *cap, uint32_t n, size_t more, size_t elem, uint32_t first)
{
	if (rm_grow(v, cap, n, more, elem, first))
		rm_out_of_memory();
}

void rm_out_of_memory(void)
{
	fprintf(stderr, "%s: out of memory\n", program_invocation_short_name);
	abort();
}
