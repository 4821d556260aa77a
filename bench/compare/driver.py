"""The Python drivers of `cargo xtask bench --compare` and `--memory`.

    driver.py run <python-threads|python-async|provider> <op> <calls> <concurrency>
    driver.py memory python-async <in-flight>

Configuration comes from the environment, as for the Rust driver:
POCKYT_MERCHANT_NO, POCKYT_STORE_NO, POCKYT_API_TOKEN, POCKYT_BASE_URL, and
BENCH_CUSTOMER_NO, BENCH_ACCOUNT_TOKEN, BENCH_INVOICE_ID,
BENCH_ACCOUNTS_CUSTOMER_NO (made by
`pockyt-bench setup`) and BENCH_PREFIX (unique per client and run: every
pay's invoiceId starts with it).

- python-threads: `concurrency` threads sharing one `pockyt_payouts.Client`;
- python-async: one `pockyt_payouts.AsyncClient`, `concurrency` tasks on one
  asyncio loop;
- provider: the provider's own PyPI SDK (`yuansfer` 3.0.4), one client
  shared by `concurrency` threads, pointed at the sandbox by adding an
  environment to `yuansfer.configuration.Configuration.environments`.

Each run warms up (min(200, calls / 10) calls, not counted), times the
calls, and prints one JSON line; any failed call makes the exit status 1.
An operation the provider's SDK does not have prints `"supported": false`.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import os
import resource
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional

PAY_AMOUNT = "1.00"
CURRENCY = "USD"
EMAIL = "bench@example.com"
BANK_ACCOUNT_ID = "123456789"
BRANCH_ID = "011000015"  # a valid ABA checksum
DATE_OF_BIRTH = "1990-05-17"
OPS = [
    "balance",
    "pay",
    "inquire_payout",
    "retrieve_payee",
    "list_payout_accounts",
    "register_payee",
    "update_payee",
    "add_bank_account",
]


def env(name: str) -> str:
    value = os.environ.get(name)
    if value is None:
        raise SystemExit(f"driver.py: {name} is not set")
    return value


# How long a memory run waits before reading RSS, for the connections past
# the client's idle pool to close.
SETTLE_SECONDS = 2.0


def status_kib(field: str) -> int:
    """A `kB` line of /proc/self/status (VmHWM: peak RSS, VmRSS: RSS now)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def open_fds() -> int:
    """How many files the process has open (mostly pooled connections)."""
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return 0


def raise_nofile_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Ctx:
    def __init__(self) -> None:
        self.customer_no = env("BENCH_CUSTOMER_NO")
        self.account_token = env("BENCH_ACCOUNT_TOKEN")
        self.invoice_id = env("BENCH_INVOICE_ID")
        self.accounts_customer_no = env("BENCH_ACCOUNTS_CUSTOMER_NO")
        self.prefix = env("BENCH_PREFIX")


def error_text(error: BaseException) -> str:
    code = getattr(error, "code", None)
    return f"{type(error).__name__}({code}): {error}" if code else f"{type(error).__name__}: {error}"


# --- the SDK's clients -------------------------------------------------------


def sdk_kwargs(op: str, ctx: Ctx, invoice_id: str) -> Dict[str, Any]:
    from pockyt_payouts import ProfileType

    if op == "balance":
        return {"currency": CURRENCY}
    if op == "pay":
        return {
            "customer_no": ctx.customer_no,
            "account_token": ctx.account_token,
            "amount": PAY_AMOUNT,
            "currency": CURRENCY,
            "invoice_id": invoice_id,
        }
    if op == "inquire_payout":
        return {"invoice_id": ctx.invoice_id}
    if op in ("retrieve_payee", "list_payout_accounts"):
        return {"customer_no": ctx.customer_no}
    if op == "register_payee":
        return {"profile_type": ProfileType.INDIVIDUAL, "date_of_birth": DATE_OF_BIRTH}
    if op == "update_payee":
        return {"customer_no": ctx.customer_no, "email": EMAIL}
    if op == "add_bank_account":
        return {
            "customer_no": ctx.accounts_customer_no,
            "bank_account_id": BANK_ACCOUNT_ID,
            "branch_id": BRANCH_ID,
            "bank_account_purpose": "CHECKING",
        }
    raise SystemExit(f"driver.py: unknown operation {op!r} ({', '.join(OPS)})")


def sdk_blocking_call(op: str, ctx: Ctx) -> Callable[[str], None]:
    from pockyt_payouts import Client

    client = Client.from_env()
    method = getattr(client, op)

    def call(invoice_id: str) -> None:
        method(**sdk_kwargs(op, ctx, invoice_id))

    return call


# --- the provider's SDK (yuansfer) -------------------------------------------


def provider_call(op: str, ctx: Ctx) -> Optional[Callable[[str], None]]:
    """A call of `op` through the yuansfer SDK; None when it has no such
    operation on the v3 payouts API."""
    from yuansfer.client import Client as YuansferClient
    from yuansfer.configuration import Configuration

    # The SDK knows two base URLs by environment name; add the sandbox's.
    Configuration.environments = dict(Configuration.environments, bench=env("POCKYT_BASE_URL").rstrip("/"))
    client = YuansferClient(
        merchantNo=env("POCKYT_MERCHANT_NO"),
        storeNo=env("POCKYT_STORE_NO"),
        token=env("POCKYT_API_TOKEN"),
        environment="bench",
    )
    payout = client.payout

    def body(fields: Dict[str, str]) -> Dict[str, str]:
        # A fresh dict per call: the SDK adds the envelope to it in place.
        fields["timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return fields

    if op == "balance":
        send: Callable[[str], Any] = lambda _: payout.balance(body({"currency": CURRENCY}))
    elif op == "pay":
        send = lambda invoice_id: payout.pay(
            body(
                {
                    "customerNo": ctx.customer_no,
                    "accountToken": ctx.account_token,
                    "amount": PAY_AMOUNT,
                    "currency": CURRENCY,
                    "invoiceId": invoice_id,
                }
            )
        )
    elif op == "inquire_payout":
        send = lambda _: payout.inquiry(body({"invoiceId": ctx.invoice_id}))
    else:
        # retrieve_payee: its `payout.retrieve_payee` calls the older
        # /v2/customers/account/retrieve; register_payee: `customer.create`
        # calls /v1/customers/create; list_payout_accounts: none at all.
        return None

    def call(invoice_id: str) -> None:
        answer = send(invoice_id)
        ret_code = answer.body.get("ret_code") if isinstance(answer.body, dict) else None
        if answer.status_code != 200 or ret_code != "000100":
            raise RuntimeError(f"HTTP {answer.status_code}: {answer.body!r}")

    return call


# --- running -----------------------------------------------------------------


class Tally:
    def __init__(self) -> None:
        self.errors = 0
        self.first_error: Optional[str] = None
        self.lock = threading.Lock()

    def failed(self, error: BaseException) -> None:
        with self.lock:
            self.errors += 1
            if self.first_error is None:
                self.first_error = error_text(error)


def threaded_batch(call: Callable[[str], None], calls: int, concurrency: int, tag: str, tally: Tally) -> float:
    counter = itertools.count()  # next() is atomic under the GIL

    def worker() -> None:
        while True:
            n = next(counter)
            if n >= calls:
                return
            try:
                call(f"{tag}{n}")
            except Exception as error:  # noqa: BLE001 - every failure is counted
                tally.failed(error)

    threads = [threading.Thread(target=worker) for _ in range(max(1, min(concurrency, calls)))]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


async def async_batch(client: Any, op: str, ctx: Ctx, calls: int, concurrency: int, tag: str, tally: Tally) -> float:
    method = getattr(client, op)
    counter = itertools.count()

    async def worker() -> None:
        while True:
            n = next(counter)
            if n >= calls:
                return
            try:
                await method(**sdk_kwargs(op, ctx, f"{tag}{n}"))
            except Exception as error:  # noqa: BLE001 - every failure is counted
                tally.failed(error)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, calls)))))
    return time.perf_counter() - started


def run(client_name: str, op: str, calls: int, concurrency: int) -> int:
    ctx = Ctx()
    if op not in OPS:
        raise SystemExit(f"driver.py: unknown operation {op!r} ({', '.join(OPS)})")
    warmup = min(200, calls // 10)
    tally = Tally()
    if client_name == "python-async":
        from pockyt_payouts import AsyncClient

        async def both() -> float:
            client = AsyncClient.from_env()
            await async_batch(client, op, ctx, warmup, concurrency, f"{ctx.prefix}-w", tally)
            return await async_batch(client, op, ctx, calls, concurrency, f"{ctx.prefix}-", tally)

        seconds = asyncio.run(both())
    else:
        if client_name == "python-threads":
            call: Optional[Callable[[str], None]] = sdk_blocking_call(op, ctx)
        elif client_name == "provider":
            call = provider_call(op, ctx)
        else:
            raise SystemExit(f"driver.py: unknown client {client_name!r}")
        if call is None:
            print(json.dumps({"client": client_name, "op": op, "supported": False}))
            return 0
        threaded_batch(call, warmup, concurrency, f"{ctx.prefix}-w", tally)
        seconds = threaded_batch(call, calls, concurrency, f"{ctx.prefix}-", tally)
    line = {
        "client": client_name,
        "op": op,
        "calls": calls,
        "concurrency": concurrency,
        "seconds": seconds,
        "calls_per_sec": calls / seconds,
        "errors": tally.errors,
        "first_error": tally.first_error,
        "peak_rss_kib": status_kib("VmHWM"),
    }
    print(json.dumps(line))
    return 1 if tally.errors else 0


def memory(in_flight: int) -> int:
    """Two rounds of `in_flight` pays through one AsyncClient, every one
    started (asyncio.gather) before any is awaited."""
    from pockyt_payouts import AsyncClient

    ctx = Ctx()
    runs: List[Dict[str, Any]] = []

    async def rounds() -> None:
        client = AsyncClient.from_env()
        for round_no in (1, 2):
            started = time.perf_counter()
            outcomes = await asyncio.gather(
                *(client.pay(**sdk_kwargs("pay", ctx, f"{ctx.prefix}-m{round_no}-{n}")) for n in range(in_flight)),
                return_exceptions=True,
            )
            seconds = time.perf_counter() - started
            failures = [o for o in outcomes if isinstance(o, BaseException)]
            del outcomes
            # Let the connections past the client's idle pool close first.
            await asyncio.sleep(SETTLE_SECONDS)
            gc.collect()
            runs.append(
                {
                    "seconds": seconds,
                    "errors": len(failures),
                    "first_error": error_text(failures[0]) if failures else None,
                    "rss_after_kib": status_kib("VmRSS"),
                    "open_fds": open_fds(),
                }
            )

    asyncio.run(rounds())
    print(
        json.dumps(
            {"client": "python-async", "in_flight": in_flight, "runs": runs, "peak_rss_kib": status_kib("VmHWM")}
        )
    )
    return 1 if any(r["errors"] for r in runs) else 0


def main(argv: List[str]) -> int:
    raise_nofile_limit()
    if len(argv) == 5 and argv[0] == "run":
        return run(argv[1], argv[2], int(argv[3]), int(argv[4]))
    if len(argv) == 3 and argv[0] == "memory" and argv[1] == "python-async":
        return memory(int(argv[2]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
