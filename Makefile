# stellapolicy: PGXS build.  The version lives only in stellapolicy.control.

EXTENSION	= stellapolicy
EXTVERSION	:= $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" $(EXTENSION).control)
MODULE_big	= stellapolicy

# Plain-C core: no PostgreSQL headers, also linked into tools and tests.
CORE_SRCS	= src/core/arena.c src/core/purl.c src/core/version.c \
		  src/core/version_pep440.c src/core/version_maven.c \
		  src/core/version_distro.c src/core/version_misc.c \
		  src/core/osvrange.c src/core/ecosystem.c src/core/cvss.c \
		  src/core/dsl_lex.c src/core/dsl_parse.c src/core/dsl_check.c \
		  src/core/dsl_ir.c src/core/dsl_eval.c
CORE_OBJS	= $(CORE_SRCS:.c=.o)

# SQL-facing glue.
PG_SRCS		= $(wildcard src/*.c)
OBJS		= $(PG_SRCS:.c=.o) $(CORE_OBJS)

# The install script is assembled from sql/install/*.sql in name order.
DATA_built	= $(EXTENSION)--$(EXTVERSION).sql
DATA		= $(wildcard sql/upgrade/$(EXTENSION)--*--*.sql)

REGRESS		= $(patsubst sql/%.sql,%,$(sort $(wildcard sql/[0-9]*.sql)))
REGRESS_OPTS = --inputdir=. --load-extension=pgtap

PG_CONFIG	?= /usr/lib/postgresql/15/bin/pg_config
PG_CPPFLAGS	= -Isrc -Isrc/core $(shell pkg-config --cflags jansson) -DSP_VERSION=\"$(EXTVERSION)\"
PG_CFLAGS	= -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
SHLIB_LINK	= $(shell pkg-config --libs jansson) -lcrypto
override with_llvm = no

EXTRA_CLEAN	= $(EXTENSION)--$(EXTVERSION).sql build results regression.diffs regression.out

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(EXTENSION)--$(EXTVERSION).sql: $(sort $(wildcard sql/install/*.sql)) $(EXTENSION).control
	@{ echo "-- $(EXTENSION) $(EXTVERSION): generated from sql/install/*.sql; do not edit"; \
	   printf '%s\n' '\echo Use "CREATE EXTENSION $(EXTENSION)" to load this file. \quit'; \
	   for f in $(sort $(wildcard sql/install/*.sql)); do echo; echo "-- $$f"; cat $$f; done; } > $@

# Core library, tools and unit tests (no server needed).
CORE_CFLAGS	= -std=gnu11 -O2 -g -Wall -Wextra -Werror -ffp-contract=off -Isrc/core $(shell pkg-config --cflags jansson)
CORE_LIBS	= $(shell pkg-config --libs jansson) -lcrypto -lm

build/libspcore.a: $(CORE_SRCS) $(wildcard src/core/*.h)
	@mkdir -p build/core
	@set -e; for f in $(CORE_SRCS); do \
	  $(CC) $(CORE_CFLAGS) -c $$f -o build/core/$$(basename $$f .c).o; done
	rm -f $@
	ar rcs $@ $(patsubst src/core/%.c,build/core/%.o,$(CORE_SRCS))

UNIT_SRCS	= test/unit/test_purl.c test/unit/test_version.c test/unit/test_range.c \
		  test/unit/test_dsl.c test/unit/test_dsl_eval.c test/unit/test_cvss.c
UNIT_BINS	= $(patsubst test/unit/%.c,build/unit/%,$(UNIT_SRCS))
TOOL_SRCS	= tools/spver.c tools/spdsl.c
TOOL_BINS	= $(patsubst tools/%.c,build/tools/%,$(TOOL_SRCS))
BENCH_SRCS	= test/bench/bench_version.c test/bench/bench_eval.c
BENCH_BINS	= $(patsubst test/bench/%.c,build/bench/%,$(BENCH_SRCS))

build/unit/%: test/unit/%.c build/libspcore.a
	@mkdir -p build/unit
	$(CC) $(CORE_CFLAGS) $< -o $@ build/libspcore.a $(CORE_LIBS)

build/tools/%: tools/%.c build/libspcore.a
	@mkdir -p build/tools
	$(CC) $(CORE_CFLAGS) $< -o $@ build/libspcore.a $(CORE_LIBS)

build/bench/%: test/bench/%.c build/libspcore.a
	@mkdir -p build/bench
	$(CC) $(CORE_CFLAGS) $< -o $@ build/libspcore.a $(CORE_LIBS)

.PHONY: core unit-bins tools bench-bins
core: build/libspcore.a
unit-bins: $(UNIT_BINS)
tools: $(TOOL_BINS)
bench-bins: $(BENCH_BINS)

# Core objects inside the extension: the core's own flags, position-independent.
src/core/%.o: src/core/%.c $(wildcard src/core/*.h)
	$(CC) $(CORE_CFLAGS) -fPIC -c $< -o $@

# Rebuild the SQL-facing objects when any header changes.
$(PG_SRCS:.c=.o): $(wildcard src/*.h src/core/*.h)

# META.json carries the control file's version (checked by test/scripts/lint.t).
META.json: META.json.in $(EXTENSION).control
	sed 's/@VERSION@/$(EXTVERSION)/g' $< > $@
