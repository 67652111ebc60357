/* fuzz_iana.c - IANA's CSV registries: allocations and special-purpose
 * (see fuzz_loader.c). */
#define FUZZ_KIND_FIRST RM_IN_IANA_V4
#define FUZZ_KIND_LAST	RM_IN_SPECIAL_ASN
#define FUZZ_HEADER	"Prefix,Designation,Date,WHOIS,RDAP,Status [1],Note\n"
#include "fuzz_loader.c"
