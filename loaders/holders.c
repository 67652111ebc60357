/*
 * holders.c - the operator's holder names, and the operator's own prefix
 * labels.
 *
 * The operator's names join a registry's opaque holder id to a readable
 * name directly: a CSV "registry,holder_id,name", the strongest of the
 * name sources (names.c).  A registry of "*" or empty matches any.
 *
 * Labels ("prefix,label", header optional) name the operator's own and
 * customers' networks.  Each becomes a claim in the label layer, ranked by
 * prefix length so that the most specific label wins.
 */
#include <string.h>

#include "internal.h"

static unsigned holder_row(struct rl_row *r)
{
	struct rl_build *b = r->b;
	if (r->nf != 3) {
		rl_error(b, r->name, r->line, "%u fields, expected registry,holder_id,name", r->nf);
		return 0;
	}
	struct rl_span reg = rl_trim(r->f[0]), id = rl_trim(r->f[1]), nm = rl_trim(r->f[2]);
	int rir = RM_RIR_UNKNOWN;
	if (reg.len && !rl_span_eq(reg, "*")) {
		rir = rm_rir_from_name(reg.s, reg.len);
		if (rir < RM_RIR_AFRINIC) {
			rl_error(b, r->name, r->line, "unknown registry '%.*s'", (int)reg.len,
				 reg.s);
			return 0;
		}
	}
	if (id.len == 0 || nm.len == 0) {
		rl_error(b, r->name, r->line, "empty %s", id.len ? "name" : "holder_id");
		return 0;
	}
	if (!rl_text_ok(b, r->name, r->line, "holder id", id, 1) ||
	    !rl_text_ok(b, r->name, r->line, "holder name", nm, 0))
		return 0;
	struct rl_name n = {.key_kind = RL_BY_ID,
			    .rir = (uint32_t)rir,
			    .id = rl_intern(b, id.s, id.len),
			    .name = rl_pool_add(&b->pool, nm.s, nm.len),
			    .source = RM_NAME_CSV,
			    .input = r->input,
			    .line = r->line};
	rl_add_name(b, &n);
	return 1;
}

int rl_load_holders_csv(struct rl_build *b, const char *name, const char *data, size_t len)
{
	return rl_load_csv(b, name, data, len, RM_IN_HOLDERS_CSV, 1, holder_row);
}

/* Printable: no C0 control or DEL (the other checks are rl_text_ok's). */
static int label_printable(struct rl_span s)
{
	for (size_t i = 0; i < s.len; i++)
		if ((unsigned char)s.s[i] < 0x20 || s.s[i] == 0x7f)
			return 0;
	return 1;
}

static unsigned label_row(struct rl_row *r)
{
	struct rl_build *b = r->b;
	struct rl_span pfx = rl_trim(r->f[0]);
	const char *why;
	char buf[256];
	if (r->index == 0 && rl_span_eq(pfx, "prefix"))
		return 0; /* the optional header */
	if (r->nf != 2) {
		rl_error(b, r->name, r->line, "%u fields, expected prefix,label", r->nf);
		return 0;
	}
	struct rl_span label = rl_trim(r->f[1]);
	if (!rl_text_ok(b, r->name, r->line, "label", label, 0))
		return 0;
	if (!label_printable(label)) {
		rl_error(b, r->name, r->line, "label has a control character");
		return 0;
	}
	unsigned fam, plen;
	rm_u128 first, last;
	if (rl_parse_prefix(pfx.s, pfx.len, &fam, &first, &last, &plen, &why)) {
		rl_error(b, r->name, r->line, "%s in '%.*s'", why, (int)pfx.len, pfx.s);
		return 0;
	}
	int n = snprintf(buf, sizeof(buf), RM_LABEL_PREFIX "%.*s", (int)label.len, label.s);
	struct rl_claim *cl = rl_add_claim(b);
	cl->first = first;
	cl->last = last;
	cl->family = fam;
	cl->layer = RL_LAYER_LABEL;
	cl->rank = plen;
	cl->input = r->input;
	cl->line = r->line;
	cl->attr.holder_id = rl_intern(b, buf, (size_t)n);
	return 1;
}

int rl_load_labels(struct rl_build *b, const char *name, const char *data, size_t len)
{
	return rl_load_csv(b, name, data, len, RM_IN_LABELS, 0, label_row);
}
