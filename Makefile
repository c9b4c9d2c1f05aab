# The two commands: `make run` (the whole product) and `make test` (the full suite, as CI runs it).
.PHONY: run test test-unit lint types bench lock train clean help
SHELL := /bin/bash

help:
	@echo "make run    - set up what is missing, then start actions, Rasa and the gateway on :8080"
	@echo "make test   - set up what is missing, validate, train if needed, pytest, rasa test"
	@echo "make test-unit - the unit tests only (pytest -m unit): no model, no processes, under a minute"
	@echo "make lint   - ruff and mypy"
	@echo "make types  - mypy over bot/"
	@echo "make bench  - benchmarks in bench/ (print numbers)"
	@echo "make train  - train (or reuse) the model and print its path"
	@echo "make lock   - re-resolve requirements*.txt after changing requirements*.in"

run:
	@model=$$(scripts/setup model) && venv=$$(scripts/setup venv) && \
	  PYTHONPATH=$(CURDIR) exec $$venv/bin/python -m bot.run "$$model"

test:
	@scripts/test

test-unit:
	@scripts/setup spacy && venv=$$(scripts/setup venv) && \
	  PYTHONPATH=$(CURDIR) $$venv/bin/python -m pytest -m unit

train:
	@scripts/setup model

lint: types
	@$$(scripts/setup venv)/bin/ruff check .

types:
	@$$(scripts/setup venv)/bin/mypy

bench:
	@scripts/bench

lock:
	@scripts/lock

clean:
	rm -rf build results .pytest_cache .mypy_cache .rasa
