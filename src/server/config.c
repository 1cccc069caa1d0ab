/* config: directives table, loading, CONFIG GET/SET/REWRITE (see config.h). */
#include "server/config.h"

struct server_config server_cfg;
