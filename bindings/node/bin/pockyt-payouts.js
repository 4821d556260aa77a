#!/usr/bin/env node
'use strict'

// The `pockyt-payouts` command: the SDK's Rust CLI, built into the addon,
// the same as the Rust binary and the Python package's console script
// (batch payouts, single calls, a local sandbox, IPN verification). Run
// `pockyt-payouts --help`. The command takes SIGINT and SIGTERM over from
// Node: a batch stops cleanly on Ctrl-C and resumes where it stopped when
// run again.

const { runCli } = require('../native.js')

process.exitCode = runCli(['pockyt-payouts', ...process.argv.slice(2)])
