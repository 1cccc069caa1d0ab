#include "util/zmalloc.h"
