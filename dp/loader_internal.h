/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The library's internal header was loader_internal.h: it is dp_internal.h. */
#include "dp_internal.h"
