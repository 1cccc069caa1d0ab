#include "util/slice.h"
