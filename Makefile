# Miyabi: `make dev` runs the whole thing locally, `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help

export PATH := /usr/local/go/bin:$(PATH)
export MIYABI_PG_PORT ?= 54329
export MIYABI_TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:$(MIYABI_PG_PORT)/postgres?sslmode=disable

GO_APP_PKGS = ./app/... ./migrations/...

.PHONY: help dev test test-fuzz test-go test-infra test-dashboard db stop migrate lambda bench fmt openapi dashboard

help:
	@echo "make dev     run PostgreSQL + API + dashboard + fake GitHub + a local worker on 127.0.0.1"
	@echo "make test    run every test (Go with -race, infra with Pulumi mocks, dashboard unit + e2e)"
	@echo "make stop    stop the throwaway PostgreSQL"
	@echo "make lambda  build dist/lambda/bootstrap.zip (linux/arm64, deterministic)"
	@echo "make bench   run the benchmarks under bench/"

dev:
	@scripts/dev.sh

db:
	@scripts/pg.sh start >/dev/null

stop:
	@scripts/dev.sh stop 2>/dev/null || true
	@scripts/pg.sh stop

migrate: db
	APP_ENV=development DATABASE_URL="$$(scripts/pg.sh url)" go run ./app migrate

test: db
	go mod tidy -diff
	go vet ./...
	$(MAKE) --no-print-directory test-go test-fuzz test-infra test-dashboard

test-go: db
	go test -race -count=1 $(GO_APP_PKGS)

test-fuzz: db
	@scripts/fuzz.sh

test-infra:
	@if [ -d infra ] && ls infra/*_test.go >/dev/null 2>&1; then go test -count=1 ./infra/... ./internal/...; fi

test-dashboard:
	@if [ -f dashboard/package.json ]; then scripts/dashboard-test.sh; fi

lambda:
	go run ./infra/cmd/build-lambda -out dist/lambda -arch arm64

openapi:
	@go run ./app openapi

fmt:
	gofmt -w app infra migrations

bench:
	@for b in bench/*/run.sh; do [ -x "$$b" ] && "$$b"; done
