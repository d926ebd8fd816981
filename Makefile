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

# Before the include: PGXS tests EXTRA_CLEAN when it reads its rules.
EXTRA_CLEAN = build test/out test/out_iso test/unit/unit_tests glue/cachequeue $(FUZZ_BINS) \
	test/fuzz/*.corpus test/fuzz/*.log

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# clang builds the JIT bitcode and ignores PG_CXXFLAGS.
BITCODE_CXXFLAGS += -std=c++17 -Wno-register

extension/%.o: extension/*.hpp

# The runner: glue/main.cpp plus every other glue/*.cpp (which the unit tests link too), each
# compiled once into build/ (make -j2 compiles two at a time). libpq, spdlog and cpp-httplib are
# libraries; CLI11 and nlohmann-json are headers.
GLUE_SRCS = $(wildcard glue/*.cpp)
GLUE_OBJS = $(patsubst glue/%.cpp,build/glue/%.o,$(GLUE_SRCS))
GLUE_LIB_OBJS = $(filter-out build/glue/main.o,$(GLUE_OBJS))
# cpp-httplib (the worker's /metrics) is a compiled library: its header needs the flags it was
# built with.
HTTPLIB_CFLAGS = $(shell pkg-config --cflags cpp-httplib)
GLUE_CXXFLAGS = -std=c++17 -O2 -g -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror) \
	-I$(includedir) -Iglue $(HTTPLIB_CFLAGS)
GLUE_LIBS = -L$(libdir) -lpq -lspdlog -lfmt -lcpp-httplib -lpthread
RUNNER_BINDIR ?= /usr/local/bin

all: glue/cachequeue
build/glue/%.o: glue/%.cpp $(wildcard glue/*.hpp) extension/queue_rules.hpp
	@mkdir -p $(dir $@)
	$(CXX) $(GLUE_CXXFLAGS) -c -o $@ $<
glue/cachequeue: $(GLUE_OBJS)
	$(CXX) -o $@ $(GLUE_OBJS) $(GLUE_LIBS)

install: install-runner
.PHONY: install-runner
install-runner: glue/cachequeue
	install -d '$(DESTDIR)$(RUNNER_BINDIR)'
	install -m 755 glue/cachequeue '$(DESTDIR)$(RUNNER_BINDIR)/cachequeue'

# Catch2 unit tests of the code that needs no server: test/unit/*.cpp, the extension's files
# marked cq-no-postgres, and the runner's objects.
UNIT_SRCS = $(wildcard test/unit/*.cpp) $(shell grep -l 'cq-no-postgres' extension/*.cpp)
UNIT_OBJS = $(patsubst %.cpp,build/unit/%.o,$(notdir $(UNIT_SRCS)))
UNIT_CXXFLAGS = -std=c++17 -O1 -g -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror) \
	-Iextension -I$(includedir) -Iglue
build/unit/%.o: test/unit/%.cpp $(wildcard test/unit/*.hpp glue/*.hpp) extension/*.hpp
	@mkdir -p $(dir $@)
	$(CXX) $(UNIT_CXXFLAGS) -c -o $@ $<
build/unit/%.o: extension/%.cpp extension/*.hpp
	@mkdir -p $(dir $@)
	$(CXX) $(UNIT_CXXFLAGS) -c -o $@ $<
test/unit/unit_tests: $(UNIT_OBJS) $(GLUE_LIB_OBJS)
	$(CXX) -o $@ $(UNIT_OBJS) $(GLUE_LIB_OBJS) -lCatch2WithMain $(GLUE_LIBS)

# libFuzzer targets (test/fuzz/*.cpp) of the settings parsers, built with clang and the
# sanitizers, and run FUZZ_SECONDS each.
FUZZ_SECONDS ?= 10
FUZZ_SRCS = $(wildcard test/fuzz/*.cpp)
FUZZ_BINS = $(FUZZ_SRCS:.cpp=)
FUZZ_LIB_OBJS = $(patsubst %,build/fuzz/%.o,env_file settings settings_error queue_config)
FUZZ_CXXFLAGS = -std=c++17 -O1 -g -I$(includedir) -Iglue
build/fuzz/%.o: glue/%.cpp $(wildcard glue/*.hpp)
	@mkdir -p $(dir $@)
	clang++ $(FUZZ_CXXFLAGS) -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<
test/fuzz/%: test/fuzz/%.cpp test/fuzz/common.hpp $(FUZZ_LIB_OBJS)
	clang++ $(FUZZ_CXXFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZ_LIB_OBJS) \
		$(GLUE_LIBS)
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

