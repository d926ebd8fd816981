# cachequeue: PGXS build of the extension, plus the unit tests and the test entry points.

EXTENSION = cachequeue
MODULE_big = cachequeue
DATA = $(wildcard sql/cachequeue--*.sql)

EXT_SRCS = $(wildcard extension/*.cpp)
OBJS = $(EXT_SRCS:.cpp=.o)

REGRESS = $(shell sed -n 's/^test: *//p' test/schedule)
REGRESS_OPTS = --inputdir=test --outputdir=test/out --load-extension=cachequeue
ISOLATION = $(shell sed -n 's/^test: *//p' test/isolation_schedule)
ISOLATION_OPTS = --inputdir=test --outputdir=test/out_iso --load-extension=cachequeue

# WERROR=1 (as CI sets it) turns every warning into an error.
WARN = -Wall -Wextra -Wno-register -Wno-unused-parameter -Wno-missing-field-initializers
ifeq ($(WERROR),1)
WARN += -Werror
endif
PG_CXXFLAGS = -std=c++17 -fno-omit-frame-pointer $(WARN)
SHLIB_LINK = -lstdc++

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# clang builds the JIT bitcode and ignores PG_CXXFLAGS.
BITCODE_CXXFLAGS += -std=c++17 -Wno-register

extension/%.o: extension/*.hpp

# Catch2 unit tests of the code that needs no server.
UNIT_SRCS = $(wildcard test/unit/*.cpp)
UNIT_LIB_SRCS = $(shell grep -l 'cq-no-postgres' extension/*.cpp)
test/unit/unit_tests: $(UNIT_SRCS) $(UNIT_LIB_SRCS) extension/*.hpp test/unit/*.hpp
	$(CXX) -std=c++17 -O1 -g -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror) -Iextension \
		-o $@ $(UNIT_SRCS) $(UNIT_LIB_SRCS) -lCatch2WithMain

.PHONY: unit regress isolation
unit: test/unit/unit_tests
	test/unit/unit_tests

# The two halves of installcheck, run one by one so each reports its own count.
regress:
	$(pg_regress_installcheck) $(REGRESS_OPTS) $(REGRESS)
isolation:
	$(pg_isolation_regress_installcheck) $(ISOLATION_OPTS) $(ISOLATION)

EXTRA_CLEAN = test/out test/out_iso test/unit/unit_tests
