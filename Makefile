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

# The runner: glue/main.cpp plus every other glue/*.cpp (which the unit tests and the fuzz
# targets link too). libpq, spdlog (logging); CLI11, nlohmann-json and cpp-httplib are headers.
GLUE_LIB_SRCS = $(filter-out glue/main.cpp,$(wildcard glue/*.cpp))
GLUE_CXXFLAGS = -std=c++17 -O2 -g -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror) \
	-I$(includedir) -Iglue
GLUE_LIBS = -L$(libdir) -lpq -lspdlog -lfmt -lpthread
RUNNER_BINDIR ?= /usr/local/bin

all: glue/cachequeue
glue/cachequeue: glue/main.cpp $(GLUE_LIB_SRCS) $(wildcard glue/*.hpp)
	$(CXX) $(GLUE_CXXFLAGS) -o $@ glue/main.cpp $(GLUE_LIB_SRCS) $(GLUE_LIBS)

install: install-runner
.PHONY: install-runner
install-runner: glue/cachequeue
	install -d '$(DESTDIR)$(RUNNER_BINDIR)'
	install -m 755 glue/cachequeue '$(DESTDIR)$(RUNNER_BINDIR)/cachequeue'

# Catch2 unit tests of the code that needs no server.
UNIT_SRCS = $(wildcard test/unit/*.cpp)
UNIT_LIB_SRCS = $(shell grep -l 'cq-no-postgres' extension/*.cpp)
test/unit/unit_tests: $(UNIT_SRCS) $(UNIT_LIB_SRCS) $(GLUE_LIB_SRCS) extension/*.hpp \
		test/unit/*.hpp $(wildcard glue/*.hpp)
	$(CXX) -std=c++17 -O1 -g -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror) -Iextension \
		-I$(includedir) -Iglue -o $@ $(UNIT_SRCS) $(UNIT_LIB_SRCS) $(GLUE_LIB_SRCS) \
		-lCatch2WithMain $(GLUE_LIBS)

# libFuzzer targets (test/fuzz/*.cpp), built with clang and run FUZZ_SECONDS each.
FUZZ_SECONDS ?= 10
FUZZ_SRCS = $(wildcard test/fuzz/*.cpp)
FUZZ_BINS = $(FUZZ_SRCS:.cpp=)
test/fuzz/%: test/fuzz/%.cpp $(GLUE_LIB_SRCS) $(wildcard glue/*.hpp)
	clang++ -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -I$(includedir) -Iglue \
		-o $@ $< $(GLUE_LIB_SRCS) $(GLUE_LIBS)
.PHONY: fuzz
fuzz: $(FUZZ_BINS)
	@for bin in $(FUZZ_BINS); do \
		mkdir -p $$bin.corpus; \
		echo "fuzz: $$bin ($(FUZZ_SECONDS) s)"; \
		$$bin -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 $$bin.corpus \
			test/fuzz/seeds/$$(basename $$bin) >$$bin.log 2>&1; rc=$$?; \
		tail -n 3 $$bin.log; [ $$rc = 0 ] || exit 1; \
	done

.PHONY: unit regress isolation
unit: test/unit/unit_tests
	test/unit/unit_tests

# The two halves of installcheck, run one by one so each reports its own count.
regress:
	$(pg_regress_installcheck) $(REGRESS_OPTS) $(REGRESS)
isolation:
	$(pg_isolation_regress_installcheck) $(ISOLATION_OPTS) $(ISOLATION)

EXTRA_CLEAN = test/out test/out_iso test/unit/unit_tests glue/cachequeue $(FUZZ_BINS) \
	test/fuzz/*.corpus test/fuzz/*.log
