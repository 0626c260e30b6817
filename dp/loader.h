/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The library's header was loader.h: it is dp.h (and log.h, maps.h, attach.h). */
#include "dp.h"
