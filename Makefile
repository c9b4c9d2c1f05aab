# The two commands: `make run` (the whole product) and `make test` (the full suite, as CI runs it).
.PHONY: run test lint bench lock train clean help
SHELL := /bin/bash

help:
	@echo "make run    - set up what is missing, then start actions, Rasa and the gateway on :8080"
	@echo "make test   - set up what is missing, validate, train if needed, pytest, rasa test"
	@echo "make lint   - ruff"
	@echo "make bench  - benchmarks in bench/ (print numbers)"
	@echo "make train  - train (or reuse) the model and print its path"
	@echo "make lock   - re-resolve requirements.txt after changing a direct dependency"

run:
	@model=$$(scripts/setup model) && venv=$$(scripts/setup venv) && \
	  PYTHONPATH=$(CURDIR) exec $$venv/bin/python -m bot.run "$$model"

test:
	@scripts/test

train:
	@scripts/setup model

lint:
	@$$(scripts/setup venv)/bin/ruff check .

bench:
	@scripts/bench

lock:
	@scripts/lock

clean:
	rm -rf build results .pytest_cache .rasa
