# podnet — see README.md.  `make` builds, `make check` tests (SAN=1: ASan+UBSan),
# `make install` copies the plugins to $(DESTDIR)$(CNI_BIN_DIR), `make bench` benchmarks.
CC       ?= cc
READELF  ?= readelf
CFLAGS   ?= -O2 -g
PREFIX   ?= /usr/local
CNI_BIN_DIR ?= /opt/cni/bin
ifeq ($(SAN),1)
BUILD    ?= build-san
else
BUILD    ?= build
endif

PKGS     := jansson libmnl libnftnl yaml-0.1
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))

override CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral -Wno-format-truncation \
	-D_GNU_SOURCE -MMD -MP -Ilib $(PKG_CFLAGS)
ifeq ($(SAN),1)
override CFLAGS  += -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
override LDFLAGS += -fsanitize=address,undefined
STATIC   := 0
endif
# host-local is linked statically: a runtime execs it once per pod and verb, and the
# dynamic loader is a large part of such a short run (and of its memory).  Plugins that
# need libmnl stay dynamic: Debian ships no static libmnl.  STATIC=0 to opt out.
STATIC   ?= 1
HL_LIBS  := $(shell pkg-config --libs jansson)
# libmnl users: jansson and libnftnl linked in, only libmnl left to the loader
NL_PLUGIN_LIBS := $(PKG_LIBS)
ifeq ($(STATIC),1)
PLUGIN_LDFLAGS := -static
NL_PLUGIN_LIBS := -Wl,-Bstatic -ljansson -lnftnl -Wl,-Bdynamic -lmnl
endif

ifneq ($(V),1)
Q := @
endif

LIB_SRC  := $(wildcard lib/*.c lib/host-local/*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIBPODNET := $(BUILD)/lib/libpodnet.a

# host-local's allocator, store, config and verbs are in lib/host-local (bridge runs them too)
HL_SRC   := $(wildcard plugins/host-local-ipam/*.c)
HL_OBJ   := $(HL_SRC:%.c=$(BUILD)/%.o)

# podnet-proxy: everything but main() is also linked into the unit tests
PX_SRC   := $(wildcard proxy/*.c)
PX_OBJ   := $(PX_SRC:%.c=$(BUILD)/%.o)
PX_CORE  := $(filter-out $(BUILD)/proxy/main.o,$(PX_OBJ))

BR_SRC   := $(wildcard plugins/bridge/*.c)
BR_OBJ   := $(BR_SRC:%.c=$(BUILD)/%.o)

VX_SRC   := $(wildcard plugins/vxlan-overlay/*.c)
VX_OBJ   := $(VX_SRC:%.c=$(BUILD)/%.o)

PLUGINS  := $(BUILD)/bin/host-local $(BUILD)/bin/bridge $(BUILD)/bin/vxlan-overlay
DAEMONS  := $(BUILD)/bin/podnet-proxy
TOOLS    := $(BUILD)/bin/pn-bench $(BUILD)/bin/pn-empty $(BUILD)/tests/pn-json $(BUILD)/tests/pn-ct-clean $(BUILD)/tests/pn-echo

UNIT_SRC := $(wildcard tests/unit/test-*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

all: $(LIBPODNET) $(PLUGINS) $(DAEMONS) $(TOOLS)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(LIBPODNET): $(LIB_OBJ)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/bin/host-local: $(HL_OBJ) $(LIBPODNET)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) $(PLUGIN_LDFLAGS) -Wl,--build-id=sha1 -o $@ $^ $(HL_LIBS)

# bridge runs host-local's verbs in-process when the host-local on CNI_PATH is this build's
# (lib/cni-delegate.c): it carries that executable's GNU build ID
$(BUILD)/gen/host-local-id.h: $(BUILD)/bin/host-local
	@mkdir -p $(@D)
	$(Q)id=$$(LC_ALL=C $(READELF) -n $< | sed -n 's/.*Build ID: *\([0-9a-f]*\).*/\1/p'); \
	[ -n "$$id" ] || { echo "$<: no GNU build ID" >&2; exit 1; }; \
	printf '#define PN_HOST_LOCAL_BUILD_ID "%s"\n' "$$id" >$@.tmp && mv $@.tmp $@
$(BUILD)/plugins/bridge/main.o: $(BUILD)/gen/host-local-id.h
$(BUILD)/plugins/bridge/main.o: override CFLAGS += -I$(BUILD)/gen

$(BUILD)/bin/bridge: $(BR_OBJ) $(LIBPODNET)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(NL_PLUGIN_LIBS)

$(BUILD)/bin/vxlan-overlay: $(VX_OBJ) $(LIBPODNET)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(NL_PLUGIN_LIBS)

$(BUILD)/bin/podnet-proxy: $(PX_OBJ) $(LIBPODNET)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

$(BUILD)/bin/pn-bench: $(BUILD)/bench/pn-bench.o $(LIBPODNET)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lm $(PKG_LIBS)

$(BUILD)/bin/pn-empty: $(BUILD)/bench/empty.o
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) $(PLUGIN_LDFLAGS) -o $@ $^

$(BUILD)/tests/pn-echo: $(BUILD)/tests/tools/pn-echo.o
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

$(BUILD)/tests/pn-json: $(BUILD)/tests/tools/pn-json.o
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/pn-ct-clean: $(BUILD)/tests/tools/pn-ct-clean.o $(BUILD)/proxy/conntrack.o $(LIBPODNET)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/unit/%.o: override CFLAGS += -Ilib/host-local
$(BUILD)/tests/test-%: $(BUILD)/tests/unit/test-%.o $(filter-out %/main.o,$(BR_OBJ)) $(PX_CORE) $(LIBPODNET)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -Wl,--build-id=sha1 -o $@ $^ $(PKG_LIBS) $(shell pkg-config --libs cmocka)

unit: $(UNIT_BIN)
	@tests/run-unit $(UNIT_BIN)

check: all $(UNIT_BIN)
	@BUILD=$(BUILD) tests/run-all $(UNIT_BIN)

# libFuzzer target for the config parser (clang only); FUZZ_SECONDS bounds the run.
FUZZ_SECONDS ?= 30
fuzz: $(BUILD)/fuzz/fuzz-config
	@mkdir -p $(BUILD)/fuzz/corpus
	$(BUILD)/fuzz/fuzz-config -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -rss_limit_mb=1024 \
		-timeout=5 $(BUILD)/fuzz/corpus tests/fuzz/seeds

$(BUILD)/fuzz/fuzz-config: tests/fuzz/fuzz-config.c $(LIB_SRC) $(filter-out %/main.c,$(PX_SRC))
	@mkdir -p $(@D)
	clang -std=gnu11 -g -O1 -D_GNU_SOURCE -Ilib -Ilib/host-local $(PKG_CFLAGS) \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -o $@ $^ $(PKG_LIBS)

bench: all
	bench/host-local.sh
	bench/bridge.sh
	bench/vxlan.sh
	bench/proxy.sh

install: $(PLUGINS) $(DAEMONS)
	install -d $(DESTDIR)$(CNI_BIN_DIR) $(DESTDIR)$(PREFIX)/sbin
	install -m 0755 $(PLUGINS) $(DESTDIR)$(CNI_BIN_DIR)/
	install -m 0755 $(DAEMONS) $(DESTDIR)$(PREFIX)/sbin/

clean:
	rm -rf $(BUILD)

.PHONY: all check unit fuzz bench install clean
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
