/*
 * options.h - numeric option values, parsed by one policy for every
 * command (rirmeter, every rirdb subcommand, and the numbers inside
 * option specs such as --flows netflow:2055).
 *
 * The policy: the whole string is the number.  No empty string, no
 * leading or trailing space, no sign (every numeric option is a count,
 * a size, a port or a duration, none of them negative), no trailing
 * garbage, no exponent, no hexadecimal, no nan or inf; a whole number has
 * no fraction ("2.5" is an error, never 2).  The value must lie in the
 * caller's [min, max].  strtod/strtoul alone accept " +1e1x" one way or
 * another, which is how "--top 2.5" used to become 2 and
 * "--timeout abc" 0.
 *
 * Errors name the option and say what was wrong, in one style:
 *   rirdb fetch: --timeout: 'abc' is not a whole number
 *   rirmeter: --burst: 0 is out of range 1..64
 */
#ifndef RM_OPTIONS_H
#define RM_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

/*
 * s as a whole number in [min, max] (decimal digits only; leading zeros
 * are decimal, not octal).  Returns 0 and sets *out, or returns -1, leaves
 * *out alone and writes the reason to err (at most errlen bytes, NUL
 * terminated, without the option's name): "'2.5' is not a whole number"
 * or "0 is out of range 1..64" (a value too large for 64 bits is out of
 * range too).  s may be NULL, which is treated as the empty string.
 */
int rm_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *err,
		 size_t errlen);

/*
 * s as a non-negative decimal number in [min, max]: digits with an
 * optional fraction ("2", "0.5", "2.", ".5"), nothing else.  min and max
 * must be finite with 0 <= min <= max.  Returns 0 and sets *out, or
 * returns -1, leaves *out alone and writes the reason to err as
 * rm_parse_u64 does: "'abc' is not a non-negative number" or "90000 is
 * out of range 0..86400".
 */
int rm_parse_decimal(const char *s, double min, double max, double *out, char *err, size_t errlen);

/*
 * The option forms: parse the value of option opt (as written on the
 * command line, "--top") of command prog ("rirmeter", "rirdb fetch").
 * On error they print "PROG: OPT: REASON\n" to stderr and return -1,
 * leaving *out alone; the caller then exits with its usage error code (2).
 * rm_opt_uint needs max <= UINT_MAX.
 */
int rm_opt_u64(const char *prog, const char *opt, const char *s, uint64_t min, uint64_t max,
	       uint64_t *out);
int rm_opt_uint(const char *prog, const char *opt, const char *s, unsigned min, unsigned max,
		unsigned *out);
int rm_opt_decimal(const char *prog, const char *opt, const char *s, double min, double max,
		   double *out);

/*
 * The default of a --threads option: one thread per online CPU, online
 * being what sysconf(_SC_NPROCESSORS_ONLN) returned (-1 when it failed),
 * but at least 1 and at most max: a machine with more CPUs than the
 * command can use gets max threads, not a fallback of 1.
 */
unsigned rm_default_threads(long online, unsigned max);

/*
 * The workers of rirmeter -i when --threads is not given: one per online
 * CPU as rm_default_threads counts them, at most max (what one run has
 * room for), and at most queues when it is not 0: the RX queues the
 * interfaces have between them when each is bound whole (net_af_xdp),
 * since a worker past them would have none to poll.  At least 1.
 */
unsigned rm_interface_workers(long online, unsigned max, unsigned queues);

#endif
