# pipelines/common.mk - what every scenario's Makefile shares: the shell,
# the programs, the servers.  Included by pipelines/NAME/Makefile; run a
# scenario from the top directory with
#
#   make -C pipelines/NAME fixtures up verify [down] [clean]
#
# The servers are named by the variables below, which default to what
# tests/servers/NAME start exports (eval "$(bash tests/servers/postgres start)"):
#
#   PG     a PostgreSQL database URL            (MIG_PG_URL)
#   MONGO  a MongoDB server URL, no database    (MIG_MONGO_URL); each
#          scenario uses a database of its own on it
#   ES     an Elasticsearch locator es://host:port (MIG_ES_URL), and ES_HTTP
#          the same node for curl (MIG_ES_HTTP, else made from ES)
#
# Every scenario works in names of its own (a PostgreSQL schema, a MongoDB
# database, Elasticsearch indices prefixed by the scenario), so that all of
# them run on one set of servers, and "make clean" drops exactly those.

PIPELINES_DIR := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.ONESHELL:
.DELETE_ON_ERROR:

MIG_BIN ?= $(abspath $(PIPELINES_DIR)/../bin)
export PATH := $(MIG_BIN):$(PATH)
export LC_ALL := C.UTF-8
export PGTZ := UTC
export PGOPTIONS := -c client_min_messages=warning

PG      ?= $(MIG_PG_URL)
MONGO   ?= $(MIG_MONGO_URL)
ES      ?= $(MIG_ES_URL)
ES_HTTP ?= $(or $(MIG_ES_HTTP),$(patsubst es+https://%,https://%,$(patsubst es://%,http://%,$(ES))))

# psql for DDL and for verification queries that do not go through mig:
# unaligned, no header, stop at the first error.
PSQL = psql -X -q -v ON_ERROR_STOP=1 -At -d "$(PG)"

# curl to Elasticsearch: $(ESQ) METHOD /path [-d JSON]; fails on an HTTP error.
ESQ = curl -sS --fail-with-body -H 'Content-Type: application/json' -X

# $(call need,VAR ...): stop with a message when a server variable is empty.
need = $(foreach x,$(1),[ -n "$($(x))" ] || { echo "$(NAME): $(x) is not set (see pipelines/common.mk)" >&2; exit 2; };)

# PostgreSQL checks made with psql, independently of mig, on tables of the
# scenario's schema $(S).
#
# $(call fingerprint,TABLE...): per table, its name, row count and the md5 of
# its rows' text in sorted order.
define fingerprint
for t in $(1); do
	$(PSQL) -c "SELECT '$$t ' || count(*) || ' ' || coalesce(md5(string_agg(x::text, E'\n' ORDER BY x::text)), '-') FROM $(S).$$t x"
done
endef

# $(call definitions,TABLE...): their columns (type, NOT NULL, default) and
# constraints (primary keys, unique, foreign keys, checks), without names.
define definitions
{ $(PSQL) -c "SELECT c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
	|| CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
	|| coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
	FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
	LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
	WHERE c.relnamespace = '$(S)'::regnamespace AND c.relname IN ($(foreach t,$(1),'$(t)',) '')
	AND a.attnum > 0 AND NOT a.attisdropped ORDER BY 1"
$(PSQL) -c "SELECT c.relname || ' ' || pg_get_constraintdef(k.oid) FROM pg_constraint k
	JOIN pg_class c ON c.oid = k.conrelid WHERE c.relnamespace = '$(S)'::regnamespace
	AND c.relname IN ($(foreach t,$(1),'$(t)',) '') AND k.contype <> 'n' ORDER BY 1"; }
endef

# Commas and spaces for $(call ...) and $(subst ...); $(call csv,a b c) is a,b,c.
, := ,
space := $(subst x, ,x)
csv = $(subst $(space),$(,),$(strip $(1)))

# say: a line of the scenario's own output, prefixed by its name.
NAME := $(notdir $(CURDIR))
say = echo "$(NAME): $(1)"

out:
	@mkdir -p out
