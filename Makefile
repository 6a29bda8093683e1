# Service Gateway: `make run` runs the gateway locally, `make test` runs every test.
SHELL := bash
export AWS_REGION ?= eu-central-1
export AWS_ACCESS_KEY_ID ?= test
export AWS_SECRET_ACCESS_KEY ?= test
export RETELL_API_KEY ?= key_local_demo
export CARGO_TERM_COLOR ?= never
PORT ?= 3000

.PHONY: test template-check lambda-build run demo demo-appointment ctl load lint bench measure-recording measure-delivery measure-console clean-local

# One build for the tools and the tests: the same packages and targets as `cargo test --workspace`,
# so cargo resolves the same features and `make run` after `make test` reuses every crate instead
# of rebuilding the AWS SDK for a differently featured single-package build.
BUILD_ALL = cargo build --locked --workspace --bins --tests

## Every test: unit, handler, adapter and end-to-end (against a fresh emulator on a free port),
## plus the template checks and the emulator's own (the patched moto keeps moto's semantics).
test: template-check
	infra/browser.sh install
	.venv/bin/python -m unittest discover -s infra/tests
	infra/emulator.sh run cargo test --workspace --locked

## cfn-lint and SAM's own validation of template.yaml (offline).
template-check:
	infra/emulator.sh install
	.venv/bin/cfn-lint template.yaml
	SAM_CLI_TELEMETRY=0 .venv/bin/sam validate --lint --template template.yaml --region $(AWS_REGION)

## The six functions built for Lambda (x86_64 here; arm64 needs a machine with that Rust target).
lambda-build:
	infra/emulator.sh install
	PATH="$(CURDIR)/.venv/bin:$$PATH" cargo lambda build --release --x86-64 -p ingest -p enrich -p deliver -p alert -p sweep -p console
	@ls -l target/lambda/*/bootstrap | awk '{printf "%-40s %6.1f MiB\n", $$9, $$5/1048576}'

## The gateway on 127.0.0.1:$(PORT) with the emulator, the demo tenant and its resources.
run:
	$(BUILD_ALL)
	infra/emulator.sh run target/debug/gateway-local serve --port $(PORT)

## Sends a signed sample call to the running gateway (`make run` in another terminal) and shows the case.
demo:
	@$(BUILD_ALL) -q
	target/debug/gateway-local demo --port $(PORT)

## Plays a booking conversation with the example practice against the running gateway (`make run`):
## check -> taken -> alternatives -> book -> confirmation e-mail with .ics -> move -> cancel.
demo-appointment:
	@$(BUILD_ALL) -q
	target/debug/gateway-local demo-appointment --port $(PORT)

## gatewayctl against the running local gateway, e.g. make ctl ARGS="cases list --company nordit-hannover"
ctl:
	@test -f .local/run.env || { echo "start the gateway with make run first"; exit 1; }
	@$(BUILD_ALL) -q
	set -a; . .local/run.env; set +a; target/debug/gatewayctl $(ARGS)

## Load against a running `make run`: N calls (default 1000), each sent as 3 simultaneous copies
## the way Retell retries; reports statuses, latency, cases created and sent, emulator memory.
load:
	@test -f .local/run.env || { echo "start the gateway with make run first"; exit 1; }
	.venv/bin/python infra/load.py --strict --calls $(or $(N),1000)

## Formatting and lints, as CI runs them.
lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

## Criterion benchmark of the ingest hot path.
bench:
	cargo bench -p ingest --bench hot_path

## Peak memory of the enrich adapter while copying a 200 MiB recording into the emulator's S3.
measure-recording:
	cargo build --release --locked -p gateway-local
	infra/emulator.sh run target/release/gateway-local measure-recording --mb $(or $(MB),200)

## Deliveries per second through the real deliver handler to a local webhook sink (batches of 10).
measure-delivery:
	cargo build --release --locked -p gateway-local
	infra/emulator.sh run target/release/gateway-local measure-delivery --cases $(or $(CASES),500)

## Server time of the console's cases list and dashboard with 10 000 cases of one company (CASES=…).
measure-console:
	cargo build --release --locked -p gateway-local
	infra/emulator.sh run target/release/gateway-local measure-console --cases $(or $(CASES),10000)

clean-local:
	infra/emulator.sh stop
	rm -rf .local
