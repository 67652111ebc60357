/*
 * fuzz_parse.c - libFuzzer harness for the frame parser (rm_parse_frame,
 * and rm_parse_ip as sFlow's raw IP headers use it), and the tunnels
 * behind either (rm_parse_tunnels, as the worker and sFlow call it).
 *
 * The first input byte says how much longer the frame was than the bytes
 * present (a truncated first segment, or a sampled header); the rest is
 * the frame, copied into a heap block of exactly its length.  Whatever the
 * parser answers must point inside those bytes, and its offsets must say
 * where: the addresses in the IP header at l3_off, the transport header
 * at l4_off after it.  Frames may be longer than 64 KiB, as in a capture
 * (the regression gtpu-inner-past-64k has its innermost header there);
 * the fuzzing itself keeps to 4096 bytes (run.sh).  What rm_parse_plain
 * (the worker's fast way) calls plain, the parse must parse the same.
 */
#include <stdlib.h>
#include <string.h>

#include "parse.h"

static void check(const struct rm_frame *f, const uint8_t *p, uint32_t n)
{
	if (f->cls != RM_FRAME_IPV4 && f->cls != RM_FRAME_IPV6)
		return;
	int v4 = f->cls == RM_FRAME_IPV4;
	uint32_t alen = v4 ? 4 : 16;
	if (f->src < p || f->dst < p || f->src + alen > p + n || f->dst + alen > p + n ||
	    f->l4_off > n)
		abort();
	if (f->src != p + f->l3_off + (v4 ? 12 : 8) || f->l4_off < f->l3_off + (v4 ? 20 : 40))
		abort();
}

/* The tunnels of IP frame f, when it may carry one: the innermost packet
 * lies in the bytes too, and no more levels are counted than followed. */
static void tunnels(const struct rm_frame *f, const uint8_t *p, uint32_t n)
{
	if ((f->cls != RM_FRAME_IPV4 && f->cls != RM_FRAME_IPV6) || !rm_parse_may_tunnel(f, p, n))
		return;
	struct rm_frame inner;
	struct rm_tunnels t;
	rm_parse_tunnels(p, n, f, &inner, &t);
	check(&inner, p, n);
	if (t.n > RM_TUNNEL_MAX ||
	    (inner.cls == RM_FRAME_MALFORMED && inner.reason >= RM_BAD_COUNT))
		abort();
	for (unsigned k = 0; k < t.n; k++)
		if (t.kind[k] >= RM_TUN_COUNT)
			abort();
}

/* What rm_parse_plain calls plain, the parse must agree with: an IP frame
 * of that family, its addresses where rm_parse_plain says, no tunnel to
 * look for. */
static void plain(const struct rm_frame *f, const uint8_t *p, uint32_t n, uint32_t frame)
{
	int fam = rm_parse_plain(p, n, frame);
	if (!fam)
		return;
	if (fam != (f->cls == RM_FRAME_IPV4   ? 4
		    : f->cls == RM_FRAME_IPV6 ? 6
					      : -1) ||
	    f->src != p + (fam == 4 ? RM_PLAIN4_SRC : RM_PLAIN6_SRC) ||
	    rm_parse_may_tunnel(f, p, n))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > (1u << 18))
		return 0;
	uint32_t n = (uint32_t)size - 1, frame = n + data[0];
	uint8_t *p = malloc(n ? n : 1);
	if (!p)
		abort();
	memcpy(p, data + 1, n);
	struct rm_frame f;
	rm_parse_frame(p, n, frame, &f);
	check(&f, p, n);
	plain(&f, p, n, frame);
	tunnels(&f, p, n);
	rm_parse_ip(p, n, frame, &f);
	check(&f, p, n);
	tunnels(&f, p, n);
	free(p);
	return 0;
}
