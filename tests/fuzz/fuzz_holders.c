/* fuzz_holders.c - holder names (RPSL dumps, CSV, asn.txt, NIC.br's
 * file), NIR ids and operator labels, joined to a fixed statistics file
 * (see fuzz_loader.c).  Not the location database: libloc reads it. */
#define FUZZ_KIND_FIRST RM_IN_HOLDERS_RPSL
#define FUZZ_KIND_LAST	RM_IN_NIR_IDS
#define FUZZ_KIND_SKIP	RM_IN_LOCATION
#define FUZZ_HEADER	"organisation:   ORG-FUZZ1-RIPE\n"
#define FUZZ_BASE                                                                                  \
	"2.3|afrinic|20230323|3|00000000|20230323|+0000\n"                                         \
	"afrinic|ZA|ipv4|41.0.0.0|2097152|20071126|allocated|F36C9D8E\n"                           \
	"afrinic|KE|ipv4|41.80.0.0|65536|20090130|allocated|F364712F\n"                            \
	"afrinic|ZA|ipv6|2c0f:f000::|32|20071126|allocated|F36C9D8E\n"                             \
	"afrinic|ZA|asn|3741|2|19940801|allocated|F36C9D8E\n"
#include "fuzz_loader.c"
