# Service Gateway: `make run` runs the gateway locally, `make test` runs every test.
SHELL := bash
export AWS_REGION ?= eu-central-1
export AWS_ACCESS_KEY_ID ?= test
export AWS_SECRET_ACCESS_KEY ?= test
export RETELL_API_KEY ?= key_local_demo
export CARGO_TERM_COLOR ?= never
PORT ?= 3000

.PHONY: test template-check lambda-build run demo ctl lint bench measure-recording measure-delivery clean-local

## Every test: unit, handler, adapter and end-to-end (against a fresh emulator on a free port),
## plus the template checks.
test: template-check
	infra/emulator.sh run cargo test --workspace --locked

## cfn-lint and SAM's own validation of template.yaml (offline).
template-check:
	infra/emulator.sh install
	.venv/bin/cfn-lint template.yaml
	SAM_CLI_TELEMETRY=0 .venv/bin/sam validate --lint --template template.yaml --region $(AWS_REGION)

## The four functions built for Lambda (x86_64 here; arm64 needs a machine with that Rust target).
lambda-build:
	infra/emulator.sh install
	PATH="$(CURDIR)/.venv/bin:$$PATH" cargo lambda build --release --x86-64 -p ingest -p enrich -p deliver -p alert
	@ls -l target/lambda/*/bootstrap | awk '{printf "%-40s %6.1f MiB\n", $$9, $$5/1048576}'

## The gateway on 127.0.0.1:$(PORT) with the emulator, the demo tenant and its resources.
run:
	cargo build --locked -p gateway-local
	infra/emulator.sh run target/debug/gateway-local serve --port $(PORT)

## Sends a signed sample call to the running gateway (`make run` in another terminal) and shows the case.
demo:
	cargo run --locked -q -p gateway-local -- demo --port $(PORT)

## gatewayctl against the running local gateway, e.g. make ctl ARGS="cases list --company nordit-hannover"
ctl:
	@test -f .local/run.env || { echo "start the gateway with make run first"; exit 1; }
	set -a; . .local/run.env; set +a; cargo run --locked -q -p gatewayctl -- $(ARGS)

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

clean-local:
	infra/emulator.sh stop
	rm -rf .local
