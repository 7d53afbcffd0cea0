# Developer shortcuts. The scripts are the source of truth; these only name them.
.PHONY: bench bench-quick test

bench:  ## every benchmark, full rounds: prints a table, writes benchmarks/results/latest.json
	bash scripts/bootstrap.sh
	.venv/bin/python benchmarks/run.py

bench-quick:  ## the same with small rounds (a smoke run, under a minute)
	bash scripts/bootstrap.sh
	.venv/bin/python benchmarks/run.py --quick

test:
	bash scripts/test.sh
