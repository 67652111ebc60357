/*
 * holders.c - holder names, and the operator's own prefix labels.
 *
 * Holder names join a registry's opaque holder id to a readable name.
 * They come from RPSL whois dumps ("organisation:" objects with
 * "org-name:"; the registry is read from "source:") or from a CSV
 * "registry,holder_id,name".  A registry of "*" or empty matches any.
 *
 * Labels ("prefix,label", header optional) name the operator's own and
 * customers' networks.  Each becomes a claim in the label layer, ranked by
 * prefix length so that the most specific label wins.
 */
#include <string.h>

#include "internal.h"

static int rir_of_source(struct rl_span s)
{
	static const struct {
		const char *word;
		int rir;
	} map[] = {
	    {"AFRINIC", RM_RIR_AFRINIC}, {"APNIC", RM_RIR_APNIC},  {"ARIN", RM_RIR_ARIN},
	    {"LACNIC", RM_RIR_LACNIC},	 {"RIPE", RM_RIR_RIPENCC},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		size_t n = strlen(map[i].word);
		if (s.len >= n && strncasecmp(s.s, map[i].word, n) == 0)
			return map[i].rir;
	}
	return RM_RIR_UNKNOWN;
}

struct rpsl_object {
	unsigned line; /* where the object starts */
	struct rl_span org, org_name, source;
	int is_org;
};

static void rpsl_flush(struct rl_build *b, const char *name, uint32_t input, struct rpsl_object *o,
		       unsigned *records)
{
	if (o->is_org) {
		if (o->org.len == 0 || o->org_name.len == 0) {
			rl_error(b, name, o->line, "organisation object without %s",
				 o->org.len ? "org-name" : "a handle");
		} else if (rl_text_ok(b, name, o->line, "holder id", o->org, 1) &&
			   rl_text_ok(b, name, o->line, "holder name", o->org_name, 0)) {
			struct rl_name n = {.rir = (uint32_t)rir_of_source(o->source),
					    .id = rl_intern(b, o->org.s, o->org.len),
					    .name = rl_intern(b, o->org_name.s, o->org_name.len),
					    .input = input,
					    .line = o->line};
			rl_add_name(b, &n);
			(*records)++;
		}
	}
	memset(o, 0, sizeof(*o));
}

int rl_load_holders_rpsl(struct rl_build *b, const char *name, const char *data, size_t len)
{
	uint32_t input = rl_new_input(b, name, RM_IN_HOLDERS_RPSL);
	struct rl_lines l;
	struct rl_span line;
	struct rpsl_object o;
	unsigned records = 0;
	memset(&o, 0, sizeof(o));
	rl_lines_init(&l, data, len);
	while (rl_lines_next(&l, &line)) {
		if (rl_trim(line).len == 0) {
			rpsl_flush(b, name, input, &o, &records);
			continue;
		}
		if (line.s[0] == '%' || line.s[0] == '#' || line.s[0] == ' ' || line.s[0] == '\t' ||
		    line.s[0] == '+')
			continue; /* comments and continuation lines of other attributes */
		const char *colon = memchr(line.s, ':', line.len);
		if (!colon) {
			rl_error(b, name, l.lineno, "not an RPSL 'attribute: value' line");
			continue;
		}
		struct rl_span key = {line.s, (size_t)(colon - line.s)};
		struct rl_span val =
		    rl_trim((struct rl_span){colon + 1, line.len - (size_t)(colon - line.s) - 1});
		if (o.line == 0) {
			o.line = l.lineno;
			o.is_org = rl_span_eq(key, "organisation");
		}
		if (rl_span_eq(key, "organisation"))
			o.org = val;
		else if (rl_span_eq(key, "org-name"))
			o.org_name = val;
		else if (rl_span_eq(key, "source"))
			o.source = val;
	}
	rpsl_flush(b, name, input, &o, &records);
	rm_model_input_at(b->model, input)->records = records;
	return 0;
}

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
	struct rl_name n = {.rir = (uint32_t)rir,
			    .id = rl_intern(b, id.s, id.len),
			    .name = rl_intern(b, nm.s, nm.len),
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
