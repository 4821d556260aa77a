#!/usr/bin/env node
'use strict'

// The `pockyt-payouts` command: the SDK's Rust CLI, built into the addon,
// the same as the Rust binary and the Python package's console script
// (batch payouts, single calls, a local sandbox, IPN verification). Run
// `pockyt-payouts --help`. The command handles Ctrl-C itself: a batch
// stops cleanly and resumes where it stopped when run again.

const { runCli } = require('../native.js')

// Node's own SIGINT/SIGTERM handler resets the terminal and raises the
// signal again; the CLI's Rust signal listener, installed over it, calls
// it, gets the signal back, and so on without end (a hung, spinning
// process on Ctrl-C or `kill`). With a JS listener, Node's handler is
// libuv's, which only records the signal: the CLI sees it and stops as it
// does everywhere else (exit 130 for an interrupted batch, 0 for a
// sandbox told to stop).
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => {})

process.exitCode = runCli(['pockyt-payouts', ...process.argv.slice(2)])
